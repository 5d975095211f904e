#include "services/ticketing/ticketing_app.h"

#include <algorithm>
#include <memory>

#include "absl/flags/flag.h"
#include "common/base/env.h"
#include "common/base/status.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/interaction/v1/event_feed_service.grpc.pb.h"
#include "crm/ticketing/v1/event_feed_service.grpc.pb.h"
#include "services/ticketing/routing_service.h"
#include "services/ticketing/routing_store.h"
#include "services/ticketing/rule_service.h"
#include "services/ticketing/rule_store.h"
#include "services/ticketing/sla_engine.h"
#include "services/ticketing/sla_service.h"
#include "services/ticketing/sla_store.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_service.h"

ABSL_FLAG(int, close_solved_after_hours,
          static_cast<int>(crm::EnvOr("CRM_CLOSE_SOLVED_AFTER_HOURS", int64_t{96})),
          "Solved tickets close on their own this long after they were solved");

ABSL_FLAG(int, sla_poll_ms, static_cast<int>(crm::EnvOr("CRM_SLA_POLL_MS", int64_t{200})),
          "The SLA scheduler looks for newly due clocks at least this often");

namespace crm::ticketing {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : sla(rt.pool()),
        routing(rt.pool()),
        rules(rt.pool(), rt.page_tokens(), routing),
        tickets(rt.pool(), rt.reader(), rt.page_tokens(), sla, routing, rules),
        references(rt.ServiceChannel("customer")),
        service(tickets, references, rt.executor()),
        sla_store(rt.pool()),
        sla_service(sla_store, rt.executor()),
        routing_service(routing, tickets, rt.executor()),
        rule_service(rules, rt.executor()) {}
  SlaEngine sla;
  RoutingStore routing;
  RuleStore rules;
  TicketStore tickets;
  CustomerReferences references;
  TicketServiceImpl service;
  SlaStore sla_store;
  SlaServiceImpl sla_service;
  RoutingServiceImpl routing_service;
  RuleServiceImpl rule_service;
};

}  // namespace

server::ServiceDefinition Definition() {
  server::ServiceDefinition d;
  d.name = "ticketing";
  d.schema = kSchema;
  d.grpc_port = 50071;
  d.metrics_port = 9471;
  d.db_pool_size = 4;
  d.migrations = EmbeddedMigrations();
  d.needs = {"customer"};    // requesters and orders are checked there
  d.uses = {"interaction"};  // conversations tickets came from
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->service);
    rt.runner().AddService(&wiring->sla_service);
    rt.runner().AddService(&wiring->routing_service);
    rt.runner().AddService(&wiring->rule_service);
    rt.ServeEventFeed<crm::ticketing::v1::EventFeedService>();
    TicketStore* tickets = &wiring->tickets;
    const absl::Duration after = absl::Hours(absl::GetFlag(FLAGS_close_solved_after_hours));
    rt.AddHousekeeping([tickets, after] { return tickets->CloseSolved(after); });
    // Erasures and merges of requesters, for every tenant.
    CRM_RETURN_IF_ERROR(rt.Follow<crm::customer::v1::EventFeedService>(
        "customer", "ticketing.customer-effects",
        {"customer.erased", "customer.merged", "customer.unmerged"},
        [tickets](db::Tx& tx, const crm::events::v1::Event& event) {
          return tickets->ApplyCustomerEvent(tx, event);
        }));
    // Customers writing again in the conversation a ticket came from.
    if (rt.Has("interaction")) {
      CRM_RETURN_IF_ERROR(rt.Follow<crm::interaction::v1::EventFeedService>(
          "interaction", "ticketing.conversation-replies", {"message.received"},
          [tickets](db::Tx& tx, const crm::events::v1::Event& event) {
            return tickets->ApplyInteractionEvent(tx, event);
          }));
    }
    rt.AddLoop("routing_relax", [tickets] { return tickets->RelaxWaiting(100); });
    SlaEngine* sla = &wiring->sla;
    const absl::Duration poll = absl::Milliseconds(std::max(1, absl::GetFlag(FLAGS_sla_poll_ms)));
    rt.AddLoop("sla_scheduler", [sla, poll] { return sla->Step(poll); });
    return wiring;
  };
  return d;
}

}  // namespace crm::ticketing
