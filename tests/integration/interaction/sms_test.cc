// SMS through a provider in Twilio's Messages format, against a local HTTP
// double of Twilio's API that checks what it is sent (path, basic auth,
// form fields) and fails the first request: accounts with a named token,
// retries, the provider's message id; inbound messages and status callbacks
// on the public webhook, verified by X-Twilio-Signature; STOP-style errors
// onto the suppression list.
#include <atomic>
#include <mutex>
#include <thread>

#include "services/interaction/webhooks.h"
#include "tests/integration/interaction/outbox_fixture.h"

namespace crm::testing {
namespace {

// Twilio's Messages resource, as far as the service uses it: fails the
// first `fail_first` calls with 503, refuses Twilio's invalid test number.
class FakeTwilio final : public FakeProvider {
 public:
  explicit FakeTwilio(int fail_first)
      : FakeProvider(
            R"(/2010-04-01/Accounts/(\w+)/Messages\.json)",
            [fail_first](const httplib::Request& req, httplib::Response& res, size_t n) {
              if (static_cast<int>(n) <= fail_first) {
                res.status = 503;
                return;
              }
              if (req.get_param_value("To") == "+15005550001") {  // Twilio's "invalid number"
                res.status = 400;
                res.set_content(R"({"code": 21211, "message": "Invalid 'To' Phone Number"})",
                                "application/json");
                return;
              }
              res.status = 201;
              res.set_content(absl::StrCat(R"({"sid": "SM)", n, R"(", "status": "queued"})"),
                              "application/json");
            }) {}
};

v1::ChannelAccount SmsAccount(Outbox& o, int port) {
  v1::CreateChannelAccountRequest req;
  v1::ChannelAccount* a = req.mutable_account();
  a->set_channel(v1::CHANNEL_SMS);
  a->set_display_name("Shop SMS");
  a->set_sender("+14155550100");
  a->mutable_provider()->set_kind(v1::PROVIDER_KIND_TWILIO);
  a->mutable_provider()->set_base_url(absl::StrCat("http://127.0.0.1:", port));
  a->mutable_provider()->set_account_id("AC123");
  a->mutable_provider()->set_token_secret("twilio-token");
  v1::ChannelAccount out;
  grpc::Status s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  if (!s.ok()) FAIL("CreateChannelAccount: " << s.error_message());
  return out;
}

// A webhook call as Twilio makes it: form-encoded, signed.
httplib::Result Twilio(const std::string& path, const httplib::Params& params,
                       const std::string& token = "twilio-auth-token") {
  std::multimap<std::string, std::string> sorted(params.begin(), params.end());
  const std::string signature =
      interaction::TwilioSignature(token, "https://crm.example.com/interaction" + path, sorted);
  httplib::Client http("127.0.0.1", HttpPort());
  return http.Post(path.c_str(), {{"X-Twilio-Signature", signature}}, params);
}

}  // namespace

TEST_CASE("SMS in Twilio's format: retried, signed webhooks in and out",
          "[integration][interaction]") {
  Outbox o;
  FakeTwilio twilio(/*fail_first=*/1);
  const v1::ChannelAccount account = SmsAccount(o, twilio.port());
  const std::string account_id = account.name().substr(account.name().rfind('/') + 1);
  const std::string webhook = absl::StrCat("/webhooks/acme/", account_id);

  // A customer texts in: verified, received, threaded.
  auto in = Twilio(webhook, {{"MessageSid", "SMin1"},
                             {"From", "+447700900123"},
                             {"To", "+14155550100"},
                             {"Body", "Is my order on its way?"},
                             {"NumMedia", "0"}});
  REQUIRE(in);
  CHECK(in->status == 200);
  CHECK(absl::StrContains(in->body, "<Response>"));
  // A forged one is refused and changes nothing.
  auto forged = Twilio(webhook, {{"MessageSid", "SMin2"}, {"From", "+447700900999"}, {"Body", "x"}},
                       "not-the-token");
  REQUIRE(forged);
  CHECK(forged->status == 403);
  v1::ListConversationsRequest list;
  list.set_filter("channel = \"SMS\"");
  v1::ListConversationsResponse conversations;
  REQUIRE(o.stub->ListConversations(ServiceHarness::Ctx().get(), list, &conversations).ok());
  REQUIRE(conversations.conversations_size() == 1);
  const v1::Conversation& conversation = conversations.conversations(0);
  CHECK(conversation.channel_account() == account.name());
  // A redelivery of the same webhook is the same message.
  in = Twilio(webhook, {{"MessageSid", "SMin1"},
                        {"From", "+447700900123"},
                        {"To", "+14155550100"},
                        {"Body", "Is my order on its way?"},
                        {"NumMedia", "0"}});
  REQUIRE(in);
  CHECK(in->status == 200);
  REQUIRE(o.stub->ListConversations(ServiceHarness::Ctx().get(), list, &conversations).ok());
  CHECK(conversations.conversations(0).message_count() == 1);

  // The agent answers by SMS: the API is called as Twilio documents it.
  const auto sent = o.Send(Reply(conversation.name(), "Yes, it arrives tomorrow."));
  CHECK(sent.message().to() == "+447700900123");
  const v1::Message m = o.AwaitDelivery(sent.message().name());
  REQUIRE(m.delivery_status() == v1::DELIVERY_STATUS_SENT);
  CHECK(m.attempts() == 2);  // the first call got a 503
  CHECK(m.external_id() == "SM2");
  const auto requests = twilio.Requests();
  REQUIRE(requests.size() == 2);
  const httplib::Request& req = requests[1];
  CHECK(req.path == "/2010-04-01/Accounts/AC123/Messages.json");
  CHECK(req.get_header_value("Authorization") ==
        "Basic " + absl::Base64Escape("AC123:twilio-auth-token"));
  CHECK(req.get_param_value("To") == "+447700900123");
  CHECK(req.get_param_value("From") == "+14155550100");
  CHECK(req.get_param_value("Body") == "Yes, it arrives tomorrow.");
  CHECK(req.get_param_value("StatusCallback") == "https://crm.example.com/interaction" + webhook);

  // Twilio reports delivery: the message moves on; a late "sent" does not
  // move it back.
  auto delivered = Twilio(webhook, {{"MessageSid", "SM2"}, {"MessageStatus", "delivered"}});
  REQUIRE(delivered);
  CHECK(delivered->status == 200);
  CHECK(o.Message(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_DELIVERED);
  auto late = Twilio(webhook, {{"MessageSid", "SM2"}, {"MessageStatus", "sent"}});
  REQUIRE(late);
  const v1::Message after = o.Message(sent.message().name());
  CHECK(after.delivery_status() == v1::DELIVERY_STATUS_DELIVERED);
  CHECK(after.delivery_history(after.delivery_history_size() - 1).status() ==
        v1::DELIVERY_STATUS_DELIVERED);

  // A number Twilio calls invalid bounces and is suppressed.
  const cv1::Customer ghost = o.customers.NewCustomer("ghost@example.com");
  v1::SendMessageRequest text;
  text.set_customer(ghost.name());
  text.set_channel(v1::CHANNEL_SMS);
  text.set_to("+15005550001");
  text.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  text.set_author_kind(v1::AUTHOR_KIND_SYSTEM);
  text.set_text("Your code is 1234");
  const v1::Message bounced = o.AwaitDelivery(o.Send(text).message().name());
  CHECK(bounced.delivery_status() == v1::DELIVERY_STATUS_BOUNCED);
  CHECK(absl::StrContains(bounced.delivery_reason(), "21211"));
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  REQUIRE(listed.suppressions_size() == 1);
  CHECK(listed.suppressions(0).name() == "suppressions/PHONE:+15005550001");
}

}  // namespace crm::testing
