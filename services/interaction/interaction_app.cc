#include "services/interaction/interaction_app.h"

#include <memory>

#include "absl/flags/flag.h"
#include "common/base/env.h"
#include "common/base/status.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/interaction/v1/event_feed_service.grpc.pb.h"
#include "services/interaction/conversation_service.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/customer_directory.h"

ABSL_FLAG(int, reopen_window_hours,
          static_cast<int>(crm::EnvOr("CRM_REOPEN_WINDOW_HOURS", int64_t{168})),
          "A customer message reopens a conversation closed at most this long ago; a later one "
          "starts a new conversation");

namespace crm::interaction {
namespace {

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : conversations(rt.pool(), rt.page_tokens(),
                      absl::Hours(absl::GetFlag(FLAGS_reopen_window_hours))),
        customers(rt.ServiceChannel("customer")),
        service(conversations, customers, rt.executor()) {}
  ConversationStore conversations;
  CustomerDirectory customers;
  ConversationServiceImpl service;
};

}  // namespace

server::ServiceDefinition Definition() {
  server::ServiceDefinition d;
  d.name = "interaction";
  d.schema = kSchema;
  d.grpc_port = 50081;
  d.metrics_port = 9481;
  d.db_pool_size = 4;
  d.migrations = EmbeddedMigrations();
  d.needs = {"customer"};  // senders are resolved there
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->service);
    rt.ServeEventFeed<crm::interaction::v1::EventFeedService>();
    ConversationStore* conversations = &wiring->conversations;
    // Erasures and merges of customers, for every tenant.
    CRM_RETURN_IF_ERROR(rt.Follow<crm::customer::v1::EventFeedService>(
        "customer", "interaction.customer-effects",
        {"customer.erased", "customer.merged", "customer.unmerged"},
        [conversations](db::Tx& tx, const crm::events::v1::Event& event) {
          return conversations->ApplyCustomerEvent(tx, event);
        }));
    return wiring;
  };
  return d;
}

}  // namespace crm::interaction
