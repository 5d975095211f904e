#include "services/customer/customer_app.h"

#include <memory>

#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "services/customer/customer_service.h"

namespace crm::customer {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : customers(rt.pool(), rt.reader(), rt.page_tokens()),
        orders(rt.pool(), rt.page_tokens()),
        behavior(rt.pool()),
        identities(rt.pool(), rt.page_tokens()),
        service(customers, orders, behavior, identities, rt.executor()) {}
  CustomerStore customers;
  OrderStore orders;
  BehaviorStore behavior;
  IdentityStore identities;
  CustomerServiceImpl service;
};

}  // namespace

server::ServiceDefinition Definition() {
  server::ServiceDefinition d;
  d.name = "customer";
  d.schema = kSchema;
  d.grpc_port = 50061;
  d.metrics_port = 9461;
  d.db_pool_size = 8;
  d.migrations = EmbeddedMigrations();
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->service);
    rt.ServeEventFeed<crm::customer::v1::EventFeedService>();
    return wiring;
  };
  return d;
}

}  // namespace crm::customer
