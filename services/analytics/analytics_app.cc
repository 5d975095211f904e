#include "services/analytics/analytics_app.h"

#include <memory>

#include "common/base/status.h"
#include "crm/analytics/v1/event_feed_service.grpc.pb.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/report_service.h"
#include "services/analytics/value_service.h"

namespace crm::analytics {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : facts(rt.pool()),
        value_service(facts, rt.executor()),
        report_service(facts, rt.executor()) {}
  FactStore facts;
  ValueServiceImpl value_service;
  ReportServiceImpl report_service;
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
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->value_service);
    rt.runner().AddService(&wiring->report_service);
    rt.ServeEventFeed<crm::analytics::v1::EventFeedService>();
    FactStore* facts = &wiring->facts;
    // Orders, and what merges and erasures do to them, for every tenant.
    CRM_RETURN_IF_ERROR(rt.Follow<crm::customer::v1::EventFeedService>(
        "customer", "analytics.orders",
        {"order.recorded", "order.status_changed", "customer.merged", "customer.unmerged",
         "customer.erased"},
        [facts](db::Tx& tx, const crm::events::v1::Event& event) {
          return facts->ApplyCustomerEvent(tx, event);
        }));
    return wiring;
  };
  return d;
}

}  // namespace crm::analytics
