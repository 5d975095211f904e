#include "services/interaction/webhooks.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {
namespace {

constexpr char kEmptyTwiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

std::string Param(const std::multimap<std::string, std::string>& params, const std::string& key) {
  const auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

WebhookAnswer Answer(int status, std::string body) {
  WebhookAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

}  // namespace

std::string TwilioSignature(const std::string& token, const std::string& url,
                            const std::multimap<std::string, std::string>& params) {
  std::string data = url;
  for (const auto& [key, value] : params) absl::StrAppend(&data, key, value);  // sorted by key
  return absl::Base64Escape(crypto::HmacSha1(token, data));
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
                               const std::string& path,
                               const std::multimap<std::string, std::string>& params,
                               const std::string& signature) {
  if (!server::IsValidTenant(tenant)) return Answer(404, "no such webhook\n");
  server::CallScope scope;
  scope.tenant = tenant;
  scope.request_id = crypto::NewUuid();
  scope.actor = "webhook";
  scope.deadline = absl::Now() + absl::Seconds(10);
  auto account = accounts_.Get(scope, account_id);
  if (!account.ok()) {
    return absl::IsNotFound(account.status()) ? Answer(404, "no such webhook\n")
                                              : Answer(503, "try again\n");
  }
  if (account->provider().kind() != v1::PROVIDER_KIND_TWILIO) {
    return Answer(404, "no such webhook\n");
  }
  auto token = secrets_.Read(account->provider().token_secret(), "provider.token_secret");
  if (!token.ok()) return Answer(503, "try again\n");
  const std::string expected = TwilioSignature(*token, public_base_url_ + path, params);
  if (signature.empty() || !crypto::ConstantTimeEquals(expected, signature)) {
    log::Warning("webhook signature refused", {{"tenant", tenant}, {"account", account_id}});
    return Answer(403, "bad signature\n");
  }
  return Twilio(scope, *account, params);
}

WebhookAnswer Webhooks::Twilio(const server::CallScope& scope, const v1::ChannelAccount& account,
                               const std::multimap<std::string, std::string>& params) {
  const std::string sid = Param(params, "MessageSid");
  if (sid.empty()) return Answer(400, "MessageSid: required\n");
  const std::string status = Param(params, "MessageStatus");
  if (!status.empty() && status != "received") {
    // A delivery report on a message we sent.
    bool suppress = false;
    const v1::DeliveryStatus next = StatusOfTwilio(status, Param(params, "ErrorCode"), &suppress);
    if (next == v1::DELIVERY_STATUS_UNSPECIFIED) return Answer(200, "");
    const std::string code = Param(params, "ErrorCode");
    auto applied =
        deliveries_.RecordStatus(scope.tenant, v1::CHANNEL_SMS, sid, next,
                                 code.empty() ? "" : absl::StrCat("error ", code), suppress);
    if (absl::IsNotFound(applied.status())) return Answer(200, "");  // not ours, or erased
    if (!applied.ok()) return Answer(503, "try again\n");
    return Answer(200, "");
  }
  // An inbound message.
  v1::ReceiveMessageRequest request;
  request.set_channel(v1::CHANNEL_SMS);
  request.set_channel_account(account.name());
  request.set_from(Param(params, "From"));
  request.set_to(Param(params, "To"));
  request.set_external_id(sid);
  request.set_text(Param(params, "Body"));
  int media = 0;
  (void)absl::SimpleAtoi(Param(params, "NumMedia"), &media);
  for (int i = 0; i < std::min(media, 10); ++i) {
    v1::Attachment* a = request.add_attachments();
    a->set_url(Param(params, absl::StrCat("MediaUrl", i)));
    a->set_content_type(Param(params, absl::StrCat("MediaContentType", i)));
  }
  v1::ReceiveMessageResponse response;
  const absl::Status received = inbox_.Receive(scope, request, &response);
  if (received.ok()) {
    WebhookAnswer ok = Answer(200, kEmptyTwiml);
    ok.content_type = "text/xml";
    return ok;
  }
  if (absl::IsInvalidArgument(received) || absl::IsFailedPrecondition(received)) {
    return Answer(400, absl::StrCat(received.message(), "\n"));
  }
  return Answer(503, "try again\n");  // the provider retries
}

}  // namespace crm::interaction
