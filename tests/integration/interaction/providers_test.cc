// WhatsApp's Cloud API and the generic signed-JSON provider, against local
// HTTP doubles that check what they are sent (path, Bearer token, JSON,
// the generic signature): replies go out, inbound messages and delivery
// reports come in on the public webhook only when signed, WhatsApp's
// subscription handshake answers only the verify token, undeliverable
// numbers are suppressed. And RecordDeliveryEvent, the same reports over
// gRPC.
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/time/clock.h"
#include "services/interaction/webhooks.h"
#include "services/interaction/whatsapp.h"
#include "tests/integration/interaction/outbox_fixture.h"

namespace crm::testing {
namespace {

using nlohmann::json;

v1::ChannelAccount NewAccount(Outbox& o, v1::ChannelAccount account) {
  v1::CreateChannelAccountRequest req;
  *req.mutable_account() = std::move(account);
  v1::ChannelAccount out;
  grpc::Status s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  if (!s.ok()) FAIL("CreateChannelAccount: " << s.error_message());
  return out;
}

std::string WebhookPath(const v1::ChannelAccount& account) {
  return absl::StrCat("/webhooks/acme/", account.name().substr(account.name().rfind('/') + 1));
}

httplib::Result PostJson(const std::string& path, const std::string& body,
                         const httplib::Headers& headers) {
  httplib::Client http("127.0.0.1", HttpPort());
  return http.Post(path.c_str(), headers, body, "application/json");
}

std::string WhatsAppInbound(const std::string& wamid, const std::string& from,
                            const std::string& text) {
  return json{{"object", "whatsapp_business_account"},
              {"entry",
               {{{"id", "WABA1"},
                 {"changes",
                  {{{"field", "messages"},
                    {"value",
                     {{"messaging_product", "whatsapp"},
                      {"metadata", {{"phone_number_id", "1098765"}}},
                      {"contacts", {{{"wa_id", from}, {"profile", {{"name", "Kemi Ade"}}}}}},
                      {"messages",
                       {{{"from", from},
                         {"id", wamid},
                         {"timestamp", "1764662400"},
                         {"type", "text"},
                         {"text", {{"body", text}}}}}}}}}}}}}}}
      .dump();
}

std::string WhatsAppStatus(const std::string& wamid, const std::string& status, int code = 0) {
  json s = {{"id", wamid}, {"status", status}, {"timestamp", "1764662500"}};
  if (code != 0) s["errors"] = {{{"code", code}, {"title", "Message undeliverable"}}};
  return json{{"object", "whatsapp_business_account"},
              {"entry", {{{"changes", {{{"field", "messages"}, {"value", {{"statuses", {s}}}}}}}}}}}
      .dump();
}

}  // namespace

TEST_CASE("WhatsApp Cloud API: signed webhooks in, the Graph API format out",
          "[integration][interaction]") {
  Outbox o;
  FakeProvider graph(R"(/v19\.0/(\d+)/messages)", [](const httplib::Request& req,
                                                     httplib::Response& res, size_t n) {
    const json body = json::parse(req.body, nullptr, false);
    if (n == 1) {  // throttled once: retried
      res.status = 429;
      res.set_content(R"({"error": {"message": "rate", "code": 130429}})", "application/json");
    } else if (body.is_object() && body.value("to", "") == "15005550001") {
      res.status = 400;
      res.set_content(R"({"error": {"message": "Message undeliverable", "code": 131026}})",
                      "application/json");
    } else {
      res.status = 200;
      res.set_content(
          absl::StrCat(R"({"messaging_product": "whatsapp", "messages": [{"id": "wamid.out)", n,
                       R"("}]})"),
          "application/json");
    }
  });
  v1::ChannelAccount a;
  a.set_channel(v1::CHANNEL_WHATSAPP);
  a.set_display_name("Shop WhatsApp");
  a.set_sender("+14155550111");
  a.mutable_provider()->set_kind(v1::PROVIDER_KIND_WHATSAPP_CLOUD);
  a.mutable_provider()->set_base_url(absl::StrCat("http://127.0.0.1:", graph.port(), "/v19.0"));
  a.mutable_provider()->set_account_id("1098765");
  a.mutable_provider()->set_token_secret("whatsapp-token");
  a.mutable_provider()->set_webhook_secret("whatsapp-app-secret");
  a.mutable_provider()->set_verify_token_secret("whatsapp-verify");
  const v1::ChannelAccount account = NewAccount(o, a);
  CHECK(account.provider().webhook_secret() == "whatsapp-app-secret");  // a name, not a secret
  const std::string webhook = WebhookPath(account);

  // Meta's subscription handshake: the challenge only for the verify token.
  httplib::Client http("127.0.0.1", HttpPort());
  auto hello = http.Get(
      (webhook + "?hub.mode=subscribe&hub.verify_token=wa-verify-token&hub.challenge=1158201444")
          .c_str());
  REQUIRE(hello);
  CHECK(hello->status == 200);
  CHECK(hello->body == "1158201444");
  auto wrong = http.Get(
      (webhook + "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444").c_str());
  REQUIRE(wrong);
  CHECK(wrong->status == 403);

  // A customer writes: signed with the app secret, received once.
  const std::string inbound =
      WhatsAppInbound("wamid.in1", "447700900321", "Do you have it in red?");
  const std::string signature = interaction::WhatsAppSignature("wa-app-secret", inbound);
  auto in = PostJson(webhook, inbound, {{"X-Hub-Signature-256", signature}});
  REQUIRE(in);
  CHECK(in->status == 200);
  auto forged =
      PostJson(webhook, WhatsAppInbound("wamid.in2", "447700900999", "x"),
               {{"X-Hub-Signature-256", interaction::WhatsAppSignature("not-it", inbound)}});
  REQUIRE(forged);
  CHECK(forged->status == 403);
  in = PostJson(webhook, inbound, {{"X-Hub-Signature-256", signature}});  // Meta's retry
  REQUIRE(in);
  CHECK(in->status == 200);
  v1::ListConversationsRequest list;
  list.set_filter("channel = \"WHATSAPP\"");
  v1::ListConversationsResponse conversations;
  REQUIRE(o.stub->ListConversations(ServiceHarness::Ctx().get(), list, &conversations).ok());
  REQUIRE(conversations.conversations_size() == 1);
  const v1::Conversation& conversation = conversations.conversations(0);
  CHECK(conversation.message_count() == 1);
  CHECK(conversation.channel_account() == account.name());

  // The reply goes out in the Graph API's format, after one throttled try.
  const auto sent = o.Send(Reply(conversation.name(), "Yes, in red and blue."));
  CHECK(sent.message().to() == "+447700900321");
  const v1::Message m = o.AwaitDelivery(sent.message().name());
  REQUIRE(m.delivery_status() == v1::DELIVERY_STATUS_SENT);
  CHECK(m.attempts() == 2);
  CHECK(m.external_id() == "wamid.out2");
  const auto requests = graph.Requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].path == "/v19.0/1098765/messages");
  CHECK(requests[1].get_header_value("Authorization") == "Bearer wa-access-token");
  const json body = json::parse(requests[1].body);
  CHECK(body["messaging_product"] == "whatsapp");
  CHECK(body["to"] == "447700900321");
  CHECK(body["type"] == "text");
  CHECK(body["text"]["body"] == "Yes, in red and blue.");

  // Statuses: delivered, then read (OPENED); a late "sent" changes nothing.
  for (const char* status : {"delivered", "read", "sent"}) {
    const std::string report = WhatsAppStatus("wamid.out2", status);
    auto r = PostJson(
        webhook, report,
        {{"X-Hub-Signature-256", interaction::WhatsAppSignature("wa-app-secret", report)}});
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(o.Message(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_OPENED);

  // A number that is not on WhatsApp bounces and is suppressed.
  const cv1::Customer ghost = o.customers.NewCustomer("ghost-wa@example.com");
  v1::SendMessageRequest text;
  text.set_customer(ghost.name());
  text.set_channel(v1::CHANNEL_WHATSAPP);
  text.set_to("+15005550001");
  text.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  text.set_author_kind(v1::AUTHOR_KIND_SYSTEM);
  text.set_text("Your parcel is out for delivery");
  const v1::Message bounced = o.AwaitDelivery(o.Send(text).message().name());
  CHECK(bounced.delivery_status() == v1::DELIVERY_STATUS_BOUNCED);
  CHECK(absl::StrContains(bounced.delivery_reason(), "131026"));
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  REQUIRE(listed.suppressions_size() == 1);
  CHECK(listed.suppressions(0).name() == "suppressions/PHONE:+15005550001");

  // Marketing on WhatsApp asks for WhatsApp consent.
  text.set_to("");
  text.set_purpose(v1::PURPOSE_MARKETING);
  v1::SendMessageResponse refused;
  const grpc::Status no_consent = o.TrySend(text, &refused);
  CHECK(no_consent.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("Generic provider: signed JSON out and in, and RecordDeliveryEvent",
          "[integration][interaction]") {
  Outbox o;
  FakeProvider api(R"(/send)", [](const httplib::Request& req, httplib::Response& res, size_t n) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_object() && body.value("to", "") == "+15005550002") {
      res.status = 410;
      res.set_content(R"({"error": "gone"})", "application/json");
      return;
    }
    res.status = 202;
    res.set_content(absl::StrCat(R"({"id": "gen-)", n, R"("})"), "application/json");
  });
  v1::ChannelAccount a;
  a.set_channel(v1::CHANNEL_SMS);
  a.set_display_name("Other SMS");
  a.set_sender("+14155550122");
  a.mutable_provider()->set_kind(v1::PROVIDER_KIND_GENERIC);
  a.mutable_provider()->set_base_url(absl::StrCat("http://127.0.0.1:", api.port(), "/send"));
  a.mutable_provider()->set_token_secret("generic-token");
  a.mutable_provider()->set_webhook_secret("generic-secret");
  const v1::ChannelAccount account = NewAccount(o, a);
  const std::string webhook = WebhookPath(account);

  const std::string message = R"({"type": "message", "id": "gen-in-1", "from": "+447700900444",
    "text": "Can I change the address?", "sender_name": "Lee Park"})";
  auto in = PostJson(webhook, message,
                     {{"X-CRM-Signature", interaction::GenericSignature("generic-shared-secret",
                                                                        absl::Now(), message)}});
  REQUIRE(in);
  CHECK(in->status == 200);
  // Stale or forged signatures are refused.
  auto stale = PostJson(webhook, message,
                        {{"X-CRM-Signature",
                          interaction::GenericSignature(
                              "generic-shared-secret", absl::Now() - absl::Minutes(10), message)}});
  REQUIRE(stale);
  CHECK(stale->status == 403);
  auto forged =
      PostJson(webhook, message,
               {{"X-CRM-Signature", interaction::GenericSignature("guess", absl::Now(), message)}});
  REQUIRE(forged);
  CHECK(forged->status == 403);

  v1::ListConversationsRequest list;
  list.set_filter("channel = \"SMS\"");
  v1::ListConversationsResponse conversations;
  REQUIRE(o.stub->ListConversations(ServiceHarness::Ctx().get(), list, &conversations).ok());
  REQUIRE(conversations.conversations_size() == 1);
  const std::string conversation = conversations.conversations(0).name();

  const auto sent = o.Send(Reply(conversation, "Yes: reply with the new one."));
  const v1::Message m = o.AwaitDelivery(sent.message().name());
  REQUIRE(m.delivery_status() == v1::DELIVERY_STATUS_SENT);
  CHECK(m.external_id() == "gen-1");
  const auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].get_header_value("Authorization") == "Bearer generic-api-token");
  // The signature covers the timestamp and the body.
  const std::string header = requests[0].get_header_value("X-CRM-Signature");
  int64_t t = 0;
  REQUIRE(absl::SimpleAtoi(header.substr(2, header.find(',') - 2), &t));
  CHECK(header == interaction::GenericSignature("generic-shared-secret", absl::FromUnixSeconds(t),
                                                requests[0].body));
  const json body = json::parse(requests[0].body);
  CHECK(body["id"] == sent.message().name());
  CHECK(body["to"] == "+447700900444");
  CHECK(body["from"] == "+14155550122");
  CHECK(body["text"] == "Yes: reply with the new one.");
  CHECK(body["status_callback"] == "https://crm.example.com/interaction" + webhook);

  const std::string status = R"({"type": "status", "id": "gen-1", "status": "DELIVERED"})";
  auto reported =
      PostJson(webhook, status,
               {{"X-CRM-Signature",
                 interaction::GenericSignature("generic-shared-secret", absl::Now(), status)}});
  REQUIRE(reported);
  CHECK(reported->status == 200);
  CHECK(o.Message(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_DELIVERED);

  // The provider says the number is gone: a bounce, suppressed.
  const cv1::Customer gone = o.customers.NewCustomer("gone@example.com");
  v1::SendMessageRequest text;
  text.set_customer(gone.name());
  text.set_channel(v1::CHANNEL_SMS);
  text.set_to("+15005550002");
  text.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  text.set_author_kind(v1::AUTHOR_KIND_SYSTEM);
  text.set_text("Code 4321");
  CHECK(o.AwaitDelivery(o.Send(text).message().name()).delivery_status() ==
        v1::DELIVERY_STATUS_BOUNCED);

  // RecordDeliveryEvent over gRPC: a click, then a complaint, which
  // suppresses the number; a report that moves nothing is not applied.
  v1::RecordDeliveryEventRequest event;
  event.set_channel(v1::CHANNEL_SMS);
  event.set_external_id("gen-1");
  event.set_status(v1::DELIVERY_STATUS_CLICKED);
  v1::RecordDeliveryEventResponse recorded;
  REQUIRE(o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded).ok());
  CHECK(recorded.applied());
  event.set_status(v1::DELIVERY_STATUS_DELIVERED);
  REQUIRE(o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded).ok());
  CHECK_FALSE(recorded.applied());
  event.set_status(v1::DELIVERY_STATUS_COMPLAINED);
  event.set_reason("spam report");
  REQUIRE(o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded).ok());
  CHECK(recorded.applied());
  const v1::Message complained = o.Message(sent.message().name());
  CHECK(complained.delivery_status() == v1::DELIVERY_STATUS_COMPLAINED);
  v1::ListSuppressionsRequest only;
  only.set_filter("reason = \"COMPLAINED\"");
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), only, &listed).ok());
  REQUIRE(listed.suppressions_size() == 1);
  CHECK(listed.suppressions(0).name() == "suppressions/PHONE:+447700900444");

  // Bad reports name the field; unknown messages are NOT_FOUND; another
  // tenant cannot touch this one's.
  event.set_status(v1::DELIVERY_STATUS_QUEUED);
  grpc::Status bad = o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad.error_message(), "status"));
  event.set_status(v1::DELIVERY_STATUS_FAILED);
  event.set_permanent(true);
  bad = o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded);
  CHECK(absl::StartsWith(bad.error_message(), "permanent"));
  event.set_permanent(false);
  event.set_external_id("nope");
  CHECK(
      o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), event, &recorded).error_code() ==
      grpc::StatusCode::NOT_FOUND);
  event.set_external_id("gen-1");
  CHECK(o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx("globex").get(), event, &recorded)
            .error_code() == grpc::StatusCode::NOT_FOUND);
}

}  // namespace crm::testing
