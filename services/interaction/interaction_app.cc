#include "services/interaction/interaction_app.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/base/env.h"
#include "common/base/status.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/interaction/v1/event_feed_service.grpc.pb.h"
#include "crm/ticketing/v1/event_feed_service.grpc.pb.h"
#include "services/interaction/channel_account_service.h"
#include "services/interaction/chat_hub.h"
#include "services/interaction/conversation_service.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/customer_directory.h"
#include "services/interaction/delivery_worker.h"
#include "services/interaction/mailbox_poller.h"
#include "services/interaction/public_http.h"
#include "services/interaction/template_service.h"
#include "services/interaction/unsubscribe.h"

ABSL_FLAG(int, reopen_window_hours,
          static_cast<int>(crm::EnvOr("CRM_REOPEN_WINDOW_HOURS", int64_t{168})),
          "A customer message reopens a conversation closed at most this long ago; a later one "
          "starts a new conversation");

ABSL_FLAG(std::string, channel_secrets_dir, crm::EnvOr("CRM_CHANNEL_SECRETS_DIR", ""),
          "Directory of the files channel accounts name as secrets (SMTP passwords, provider "
          "tokens); empty: accounts cannot name secrets");
ABSL_FLAG(int, delivery_workers, static_cast<int>(crm::EnvOr("CRM_DELIVERY_WORKERS", int64_t{2})),
          "Delivery threads, each with its own SMTP connection");
ABSL_FLAG(int, delivery_backoff_ms,
          static_cast<int>(crm::EnvOr("CRM_DELIVERY_BACKOFF_MS", int64_t{30000})),
          "Wait before the second delivery attempt; it doubles per attempt, at most an hour");
ABSL_FLAG(int, delivery_max_attempts,
          static_cast<int>(crm::EnvOr("CRM_DELIVERY_MAX_ATTEMPTS", int64_t{8})),
          "Attempts before a message that keeps failing is FAILED");
ABSL_FLAG(int, delivery_lease_seconds,
          static_cast<int>(crm::EnvOr("CRM_DELIVERY_LEASE_SECONDS", int64_t{60})),
          "A message a worker took is left to others after this long (the worker died)");
ABSL_FLAG(int, mailbox_pollers, static_cast<int>(crm::EnvOr("CRM_MAILBOX_POLLERS", int64_t{1})),
          "Threads polling the IMAP mailboxes of e-mail accounts (one mailbox each at a time); "
          "0: this replica polls none");
ABSL_FLAG(std::string, public_base_url, crm::EnvOr("CRM_PUBLIC_BASE_URL", ""),
          "Where the service's public HTTP endpoints are reached from outside (one-click "
          "unsubscribe links), e.g. https://crm.example.com/interaction");

ABSL_FLAG(int, http_port, static_cast<int>(crm::EnvOr("CRM_HTTP_PORT", int64_t{-1})),
          "Port of the public HTTP endpoints (one-click unsubscribe); -1: off, 0: any free port");
ABSL_DECLARE_FLAG(std::string, host);

namespace crm::interaction {
namespace {

DeliveryOptions DeliveryFlags() {
  DeliveryOptions o;
  o.backoff = absl::Milliseconds(std::max(1, absl::GetFlag(FLAGS_delivery_backoff_ms)));
  o.max_attempts = std::max(1, absl::GetFlag(FLAGS_delivery_max_attempts));
  o.lease = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_delivery_lease_seconds)));
  o.public_base_url = absl::GetFlag(FLAGS_public_base_url);
  return o;
}

struct Wiring final : server::Component {
  explicit Wiring(server::ServiceRuntime& rt)
      : secrets(absl::GetFlag(FLAGS_channel_secrets_dir)),
        conversations(rt.pool(), rt.page_tokens(),
                      absl::Hours(absl::GetFlag(FLAGS_reopen_window_hours))),
        accounts(rt.pool()),
        deliveries(rt.pool(), rt.page_tokens()),
        customers(rt.ServiceChannel("customer")),
        templates(rt.pool()),
        renderer(templates, customers),
        desk(rt.Has("ticketing") ? std::make_unique<TicketDesk>(rt.ServiceChannel("ticketing"))
                                 : nullptr),
        service(conversations, customers, renderer, desk.get(), rt.executor()),
        account_service(accounts, secrets, rt.executor()),
        delivery_service(deliveries, rt.executor()),
        template_service(templates, renderer, customers, rt.executor()),
        unsubscriber(deliveries, customers, rt.page_tokens()),
        webhooks(accounts, secrets, service, deliveries, absl::GetFlag(FLAGS_public_base_url)),
        http(unsubscriber, webhooks),
        chat(conversations, customers, rt.executor(), rt.db_url()),
        chat_service(chat) {
    for (int i = 0; i < absl::GetFlag(FLAGS_mailbox_pollers); ++i) {
      pollers.push_back(std::make_unique<MailboxPoller>(rt.pool(), secrets, service));
    }
    for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_delivery_workers)); ++i) {
      workers.push_back(
          std::make_unique<DeliveryWorker>(deliveries, secrets, rt.page_tokens(), DeliveryFlags()));
    }
  }
  SecretFiles secrets;
  ConversationStore conversations;
  ChannelAccountStore accounts;
  DeliveryStore deliveries;
  CustomerDirectory customers;
  TemplateStore templates;
  TemplateRenderer renderer;
  std::unique_ptr<TicketDesk> desk;
  ConversationServiceImpl service;
  ChannelAccountServiceImpl account_service;
  DeliveryServiceImpl delivery_service;
  TemplateServiceImpl template_service;
  Unsubscriber unsubscriber;
  Webhooks webhooks;
  PublicHttp http;
  ChatHub chat;
  ChatServiceImpl chat_service;
  std::vector<std::unique_ptr<DeliveryWorker>> workers;
  std::vector<std::unique_ptr<MailboxPoller>> pollers;
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
  d.uses = {"ticketing"};  // the support desk link
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    auto wiring = std::make_unique<Wiring>(rt);
    rt.runner().AddService(&wiring->service);
    rt.runner().AddService(&wiring->account_service);
    rt.runner().AddService(&wiring->delivery_service);
    rt.runner().AddService(&wiring->template_service);
    rt.runner().AddService(&wiring->chat_service);
    ChatHub* chat = &wiring->chat;
    chat->Start();
    rt.AddStreamEnder([chat] { chat->Stop(); });
    rt.ServeEventFeed<crm::interaction::v1::EventFeedService>();
    ConversationStore* conversations = &wiring->conversations;
    // Erasures and merges of customers, for every tenant.
    CRM_RETURN_IF_ERROR(rt.Follow<crm::customer::v1::EventFeedService>(
        "customer", "interaction.customer-effects",
        {"customer.erased", "customer.merged", "customer.unmerged"},
        [conversations](db::Tx& tx, const crm::events::v1::Event& event) {
          return conversations->ApplyCustomerEvent(tx, event);
        }));
    if (const int port = absl::GetFlag(FLAGS_http_port); port >= 0) {
      CRM_RETURN_IF_ERROR(wiring->http.Start(absl::GetFlag(FLAGS_host), port));
    }
    Unsubscriber* unsubscriber = &wiring->unsubscriber;
    rt.AddHousekeeping([unsubscriber] { return unsubscriber->RetryPending(); });
    // Agents' public comments on tickets conversations opened.
    if (rt.Has("ticketing")) {
      CRM_RETURN_IF_ERROR(rt.Follow<crm::ticketing::v1::EventFeedService>(
          "ticketing", "interaction.ticket-replies", {"ticket.comment_added"},
          [conversations](db::Tx& tx, const crm::events::v1::Event& event) {
            return conversations->ApplyTicketEvent(tx, event);
          }));
    }
    for (size_t i = 0; i < wiring->workers.size(); ++i) {
      DeliveryWorker* worker = wiring->workers[i].get();
      rt.AddLoop(absl::StrCat("delivery_", i), [worker] { return worker->Step(); });
    }
    for (size_t i = 0; i < wiring->pollers.size(); ++i) {
      MailboxPoller* poller = wiring->pollers[i].get();
      rt.AddLoop(absl::StrCat("mailbox_", i), [poller] { return poller->Step(); });
    }
    return wiring;
  };
  return d;
}

}  // namespace crm::interaction
