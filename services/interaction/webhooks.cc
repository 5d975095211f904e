#include "services/interaction/webhooks.h"

#include <google/protobuf/util/time_util.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/api/enum_text.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "services/interaction/delivery_domain.h"
#include "services/interaction/whatsapp.h"

namespace crm::interaction {
namespace {

using nlohmann::json;

constexpr char kEmptyTwiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
// How old a generic webhook's timestamp may be (replays are refused).
constexpr absl::Duration kGenericTolerance = absl::Minutes(5);

std::string Param(const std::multimap<std::string, std::string>& params, const std::string& key) {
  const auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

std::string Text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

WebhookAnswer Answer(int status, std::string body) {
  WebhookAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

WebhookAnswer NoSuchWebhook() { return Answer(404, "no such webhook\n"); }

bool SignatureMatches(const std::string& expected, const std::string& given) {
  return !given.empty() && crypto::ConstantTimeEquals(expected, given);
}

}  // namespace

std::string TwilioSignature(const std::string& token, const std::string& url,
                            const std::multimap<std::string, std::string>& params) {
  std::string data = url;
  for (const auto& [key, value] : params) absl::StrAppend(&data, key, value);  // sorted by key
  return absl::Base64Escape(crypto::HmacSha1(token, data));
}

std::string GenericSignature(const std::string& secret, absl::Time at, const std::string& body) {
  const int64_t t = absl::ToUnixSeconds(at);
  return absl::StrCat(
      "t=", t,
      ",v1=", absl::BytesToHexString(crypto::HmacSha256(secret, absl::StrCat(t, ".", body))));
}

Webhooks::Webhooks(ChannelAccountStore& accounts, const SecretFiles& secrets,
                   ConversationServiceImpl& inbox, DeliveryStore& deliveries,
                   std::string public_base_url)
    : accounts_(accounts),
      secrets_(secrets),
      inbox_(inbox),
      deliveries_(deliveries),
      public_base_url_(std::move(public_base_url)) {}

WebhookAnswer Webhooks::Handle(const std::string& tenant, const std::string& account_id,
                               const WebhookRequest& request) {
  if (!server::IsValidTenant(tenant)) return NoSuchWebhook();
  server::CallScope scope;
  scope.tenant = tenant;
  scope.request_id = crypto::NewUuid();
  scope.actor = "webhook";
  scope.deadline = absl::Now() + absl::Seconds(10);
  auto account = accounts_.Get(scope, account_id);
  if (!account.ok()) {
    return absl::IsNotFound(account.status()) ? NoSuchWebhook() : Answer(503, "try again\n");
  }
  if (account->channel() == v1::CHANNEL_EMAIL) return InboundMail(scope, *account, request);
  switch (account->provider().kind()) {
    case v1::PROVIDER_KIND_TWILIO:
      return Twilio(scope, *account, request);
    case v1::PROVIDER_KIND_WHATSAPP_CLOUD:
      return WhatsApp(scope, *account, request);
    case v1::PROVIDER_KIND_GENERIC:
      return Generic(scope, *account, request);
    default:
      return NoSuchWebhook();
  }
}

WebhookAnswer Webhooks::Twilio(const server::CallScope& scope, const v1::ChannelAccount& account,
                               const WebhookRequest& request) {
  if (request.method != "POST") return NoSuchWebhook();
  auto token = secrets_.Read(account.provider().token_secret(), "provider.token_secret");
  if (!token.ok()) return Answer(503, "try again\n");
  const auto& params = request.params;
  if (!SignatureMatches(TwilioSignature(*token, public_base_url_ + request.path, params),
                        request.signature)) {
    log::Warning("webhook signature refused",
                 {{"tenant", scope.tenant}, {"account", account.name()}});
    return Answer(403, "bad signature\n");
  }
  const std::string sid = Param(params, "MessageSid");
  if (sid.empty()) return Answer(400, "MessageSid: required\n");
  const std::string status = Param(params, "MessageStatus");
  if (!status.empty() && status != "received") {
    // A delivery report on a message we sent.
    bool suppress = false;
    const v1::DeliveryStatus next = StatusOfTwilio(status, Param(params, "ErrorCode"), &suppress);
    if (next == v1::DELIVERY_STATUS_UNSPECIFIED) return Answer(200, "");
    const std::string code = Param(params, "ErrorCode");
    return Report(scope, v1::CHANNEL_SMS, sid, next,
                  code.empty() ? "" : absl::StrCat("error ", code), suppress);
  }
  // An inbound message.
  v1::ReceiveMessageRequest message;
  message.set_channel(v1::CHANNEL_SMS);
  message.set_channel_account(account.name());
  message.set_from(Param(params, "From"));
  message.set_to(Param(params, "To"));
  message.set_external_id(sid);
  message.set_text(Param(params, "Body"));
  int media = 0;
  (void)absl::SimpleAtoi(Param(params, "NumMedia"), &media);
  for (int i = 0; i < std::min(media, 10); ++i) {
    v1::Attachment* a = message.add_attachments();
    a->set_url(Param(params, absl::StrCat("MediaUrl", i)));
    a->set_content_type(Param(params, absl::StrCat("MediaContentType", i)));
  }
  WebhookAnswer answer = Receive(scope, std::move(message));
  if (answer.status == 200) {
    answer.body = kEmptyTwiml;
    answer.content_type = "text/xml";
  }
  return answer;
}

WebhookAnswer Webhooks::WhatsApp(const server::CallScope& scope, const v1::ChannelAccount& account,
                                 const WebhookRequest& request) {
  const v1::ProviderSettings& provider = account.provider();
  if (request.method == "GET") {
    // The subscription handshake: echo the challenge to whoever knows the
    // verify token.
    auto verify = secrets_.Read(provider.verify_token_secret(), "provider.verify_token_secret");
    if (!verify.ok()) return Answer(503, "try again\n");
    if (Param(request.params, "hub.mode") != "subscribe" ||
        !SignatureMatches(*verify, Param(request.params, "hub.verify_token"))) {
      return Answer(403, "bad verify token\n");
    }
    return Answer(200, Param(request.params, "hub.challenge"));
  }
  auto secret = secrets_.Read(provider.webhook_secret(), "provider.webhook_secret");
  if (!secret.ok()) return Answer(503, "try again\n");
  if (!SignatureMatches(WhatsAppSignature(*secret, request.body), request.signature)) {
    log::Warning("webhook signature refused",
                 {{"tenant", scope.tenant}, {"account", account.name()}});
    return Answer(403, "bad signature\n");
  }
  auto hook = ParseWhatsAppWebhook(request.body);
  if (!hook.ok()) return Answer(400, absl::StrCat(hook.status().message(), "\n"));
  // Meta sends the whole batch again unless it gets a 200: everything in
  // it is idempotent (message ids, forward-only statuses).
  for (auto& message : hook->messages) {
    message.set_channel_account(account.name());
    message.set_to(account.sender());
    const WebhookAnswer answer = Receive(scope, std::move(message));
    if (answer.status == 503) return answer;
  }
  for (const auto& s : hook->statuses) {
    const WebhookAnswer answer =
        Report(scope, v1::CHANNEL_WHATSAPP, s.external_id, s.status, s.reason, s.suppress);
    if (answer.status != 200) return answer;
  }
  return Answer(200, "");
}

bool Webhooks::SignedByGeneric(const std::string& secret, const server::CallScope& scope,
                               const v1::ChannelAccount& account, const WebhookRequest& request) {
  // t=<seconds>,v1=<hex>
  int64_t t = 0;
  for (absl::string_view part : absl::StrSplit(request.signature, ',')) {
    if (absl::ConsumePrefix(&part, "t=")) (void)absl::SimpleAtoi(part, &t);
  }
  const absl::Time at = absl::FromUnixSeconds(t);
  if (t <= 0 || absl::AbsDuration(absl::Now() - at) > kGenericTolerance ||
      !SignatureMatches(GenericSignature(secret, at, request.body), request.signature)) {
    log::Warning("webhook signature refused",
                 {{"tenant", scope.tenant}, {"account", account.name()}});
    return false;
  }
  return true;
}

WebhookAnswer Webhooks::InboundMail(const server::CallScope& scope,
                                    const v1::ChannelAccount& account,
                                    const WebhookRequest& request) {
  if (request.method != "POST" || account.inbound().webhook_secret().empty()) {
    return NoSuchWebhook();
  }
  auto secret = secrets_.Read(account.inbound().webhook_secret(), "inbound.webhook_secret");
  if (!secret.ok()) return Answer(503, "try again\n");
  if (!SignedByGeneric(*secret, scope, account, request)) return Answer(403, "bad signature\n");
  v1::ReceiveMessageRequest message;
  message.set_channel(v1::CHANNEL_EMAIL);
  message.set_channel_account(account.name());
  message.set_raw_email(request.body);
  return Receive(scope, std::move(message));
}

WebhookAnswer Webhooks::Generic(const server::CallScope& scope, const v1::ChannelAccount& account,
                                const WebhookRequest& request) {
  if (request.method != "POST") return NoSuchWebhook();
  auto secret = secrets_.Read(account.provider().webhook_secret(), "provider.webhook_secret");
  if (!secret.ok()) return Answer(503, "try again\n");
  if (!SignedByGeneric(*secret, scope, account, request)) return Answer(403, "bad signature\n");
  const json j = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Answer(400, "body: not a JSON object\n");
  const std::string type = Text(j, "type");
  const std::string id = Text(j, "id");
  if (id.empty()) return Answer(400, "id: required\n");
  if (type == "status") {
    v1::DeliveryStatus status = v1::DELIVERY_STATUS_UNSPECIFIED;
    const std::string text = Text(j, "status");
    if (!v1::DeliveryStatus_Parse(absl::StrCat("DELIVERY_STATUS_", text), &status) ||
        status == v1::DELIVERY_STATUS_QUEUED || status == v1::DELIVERY_STATUS_RECEIVED ||
        status == v1::DELIVERY_STATUS_UNSPECIFIED) {
      return Answer(400,
                    "status: SENT, DELIVERED, OPENED, CLICKED, BOUNCED, FAILED or COMPLAINED\n");
    }
    const auto permanent = j.find("permanent");
    const bool suppress = status == v1::DELIVERY_STATUS_COMPLAINED ||
                          (status == v1::DELIVERY_STATUS_BOUNCED && permanent != j.end() &&
                           permanent->is_boolean() && permanent->get<bool>());
    return Report(scope, account.channel(), id, status, Text(j, "reason").substr(0, 500), suppress);
  }
  if (type != "message") return Answer(400, "type: message or status\n");
  v1::ReceiveMessageRequest message;
  message.set_channel(account.channel());
  message.set_channel_account(account.name());
  message.set_external_id(id);
  message.set_from(Text(j, "from"));
  message.set_to(Text(j, "to").empty() ? account.sender() : Text(j, "to"));
  message.set_sender_name(Text(j, "sender_name"));
  message.set_text(Text(j, "text"));
  message.set_thread_id(Text(j, "thread_id"));
  if (const auto sent = j.find("sent_time"); sent != j.end() && sent->is_number_integer()) {
    *message.mutable_sent_time() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(sent->get<int64_t>());
  }
  return Receive(scope, std::move(message));
}

WebhookAnswer Webhooks::Receive(const server::CallScope& scope, v1::ReceiveMessageRequest request) {
  v1::ReceiveMessageResponse response;
  const absl::Status received = inbox_.Receive(scope, std::move(request), &response);
  if (received.ok()) return Answer(200, "");
  if (absl::IsInvalidArgument(received) || absl::IsFailedPrecondition(received)) {
    return Answer(400, absl::StrCat(received.message(), "\n"));
  }
  return Answer(503, "try again\n");  // the provider retries
}

WebhookAnswer Webhooks::Report(const server::CallScope& scope, v1::Channel channel,
                               const std::string& external_id, v1::DeliveryStatus status,
                               const std::string& reason, bool suppress) {
  auto applied =
      deliveries_.RecordStatus(scope.tenant, channel, external_id, status, reason, suppress);
  if (absl::IsNotFound(applied.status())) return Answer(200, "");  // not ours, or erased
  if (!applied.ok()) return Answer(503, "try again\n");
  return Answer(200, "");
}

}  // namespace crm::interaction
