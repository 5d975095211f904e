#include "services/ticketing/ticketing_app.h"

#include <memory>

#include "absl/flags/flag.h"
#include "common/base/env.h"
#include "crm/ticketing/v1/event_feed_service.grpc.pb.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_service.h"

ABSL_FLAG(int, close_solved_after_hours,
          static_cast<int>(crm::EnvOr("CRM_CLOSE_SOLVED_AFTER_HOURS", int64_t{96})),
          "Solved tickets close on their own this long after they were solved");

namespace crm::ticketing {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : tickets(rt.pool(), rt.reader(), rt.page_tokens()),
        references(rt.ServiceChannel("customer")),
        service(tickets, references, rt.executor()) {}
  TicketStore tickets;
  CustomerReferences references;
  TicketServiceImpl service;
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
  d.needs = {"customer"};  // requesters and orders are checked there
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->service);
    rt.ServeEventFeed<crm::ticketing::v1::EventFeedService>();
    TicketStore* tickets = &wiring->tickets;
    const absl::Duration after = absl::Hours(absl::GetFlag(FLAGS_close_solved_after_hours));
    rt.AddHousekeeping([tickets, after] { return tickets->CloseSolved(after); });
    return wiring;
  };
  return d;
}

}  // namespace crm::ticketing
