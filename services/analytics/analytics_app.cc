#include "services/analytics/analytics_app.h"

#include <memory>

#include "common/base/status.h"
#include "crm/analytics/v1/event_feed_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/interaction/v1/event_feed_service.grpc.pb.h"
#include "crm/ticketing/v1/event_feed_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/analytics/activity_store.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/kpi_hub.h"
#include "services/analytics/report_service.h"
#include "services/analytics/score_store.h"
#include "services/analytics/snapshot_rebuild.h"
#include "services/analytics/value_service.h"

namespace crm::analytics {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : facts(rt.pool()),
        activity(rt.pool(), facts),
        scores(rt.pool(), facts, rt.page_tokens()),
        value_service(facts, scores, rt.executor()),
        report_service(facts, activity, rt.executor()),
        kpis(activity, rt.db_url()),
        kpi_service(kpis),
        rebuild(rt.pool(), activity),
        customers(crm::customer::v1::CustomerService::NewStub(rt.ServiceChannel("customer"))) {
    if (rt.Has("ticketing")) {
      tickets = crm::ticketing::v1::TicketService::NewStub(rt.ServiceChannel("ticketing"));
    }
    if (rt.Has("interaction")) {
      conversations =
          crm::interaction::v1::ConversationService::NewStub(rt.ServiceChannel("interaction"));
    }
  }
  FactStore facts;
  ActivityStore activity;
  ScoreStore scores;
  ValueServiceImpl value_service;
  ReportServiceImpl report_service;
  KpiHub kpis;
  KpiServiceImpl kpi_service;
  SnapshotRebuild rebuild;
  // The producers' snapshot exports (the last two when deployed).
  std::unique_ptr<crm::customer::v1::CustomerService::StubInterface> customers;
  std::unique_ptr<crm::ticketing::v1::TicketService::StubInterface> tickets;
  std::unique_ptr<crm::interaction::v1::ConversationService::StubInterface> conversations;
};

}  // namespace

server::ServiceDefinition Definition() {
  server::ServiceDefinition d;
  d.name = "analytics";
  d.schema = kSchema;
  d.grpc_port = 50091;
  d.metrics_port = 9491;
  d.db_pool_size = 4;
  d.migrations = EmbeddedMigrations();
  d.needs = {"customer"};  // its feed: orders, merges, erasures
  // Their feeds, when they are deployed: support and engagement.
  d.uses = {"ticketing", "interaction"};
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->value_service);
    rt.runner().AddService(&wiring->report_service);
    rt.runner().AddService(&wiring->kpi_service);
    // Keeps each customer's scores current, announcing changed segments and
    // churn bands on the service's feed.
    ScoreStore* scores = &wiring->scores;
    rt.AddLoop("analytics-scores", [scores]() -> absl::StatusOr<absl::Duration> {
      CRM_ASSIGN_OR_RETURN(bool scored, scores->ScoreNext(absl::Seconds(1)));
      return scored ? absl::ZeroDuration() : absl::Seconds(1);
    });
    KpiHub* kpis = &wiring->kpis;
    kpis->Start();
    rt.AddStreamEnder([kpis] { kpis->Stop(); });
    rt.ServeEventFeed<crm::analytics::v1::EventFeedService>();
    FactStore* facts = &wiring->facts;
    ActivityStore* activity = &wiring->activity;
    // Each feed for every tenant: first a snapshot (ExportOrders,
    // ExportTickets, ExportMessages), then the feed after it; again from a
    // snapshot whenever the feed has pruned what the consumer had not read.
    SnapshotRebuild* rebuild = &wiring->rebuild;
    Wiring* w = wiring.get();
    // Orders, and what merges and erasures do to them, and new customers.
    CRM_RETURN_IF_ERROR(rt.Follow<crm::customer::v1::EventFeedService>(
        "customer", kOrdersConsumer,
        {"order.recorded", "order.status_changed", "customer.created", "customer.merged",
         "customer.unmerged", "customer.erased"},
        [facts, activity](db::Tx& tx, const crm::events::v1::Event& event) {
          CRM_RETURN_IF_ERROR(activity->ApplyCustomerEvent(tx, event));
          CRM_RETURN_IF_ERROR(facts->ApplyCustomerEvent(tx, event));
          activity->Changed(tx, event.tenant());
          return absl::OkStatus();
        },
        [rebuild, w] { return rebuild->Orders(*w->customers); }));
    if (rt.Has("ticketing")) {
      CRM_RETURN_IF_ERROR(rt.Follow<crm::ticketing::v1::EventFeedService>(
          "ticketing", kSupportConsumer,
          {"ticket.created", "ticket.status_changed", "ticket.updated", "ticket.escalated",
           "ticket.assigned", "ticket.merged", "csat.submitted", "sla.breached", "sla.met"},
          [activity](db::Tx& tx, const crm::events::v1::Event& event) {
            CRM_RETURN_IF_ERROR(activity->ApplyTicketingEvent(tx, event));
            activity->Changed(tx, event.tenant());
            return absl::OkStatus();
          },
          [rebuild, w] { return rebuild->Support(*w->tickets); }));
    }
    if (rt.Has("interaction")) {
      CRM_RETURN_IF_ERROR(rt.Follow<crm::interaction::v1::EventFeedService>(
          "interaction", kEngagementConsumer,
          {"message.received", "message.sent", "message.delivery_changed", "unsubscribe.recorded"},
          [activity](db::Tx& tx, const crm::events::v1::Event& event) {
            CRM_RETURN_IF_ERROR(activity->ApplyInteractionEvent(tx, event));
            activity->Changed(tx, event.tenant());
            return absl::OkStatus();
          },
          [rebuild, w] { return rebuild->Engagement(*w->conversations); }));
    }
    return wiring;
  };
  return d;
}

}  // namespace crm::analytics
