// WhatsApp Cloud API formats and the generic provider's answers: the send
// body, what each answer means, the webhook's messages and statuses, the
// signature.
#include "services/interaction/whatsapp.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "services/interaction/provider_client.h"

namespace crm::interaction {
namespace {

TEST_CASE("WhatsApp send body: digits only, a text message", "[interaction][whatsapp]") {
  const auto body = nlohmann::json::parse(WhatsAppSendBody("+44 7700 900123", "Hi \"there\""));
  CHECK(body["messaging_product"] == "whatsapp");
  CHECK(body["to"] == "447700900123");
  CHECK(body["type"] == "text");
  CHECK(body["text"]["body"] == "Hi \"there\"");
}

TEST_CASE("WhatsApp send answers: sent, bounced, failed or retried", "[interaction][whatsapp]") {
  auto r = WhatsAppSendOutcome(200, R"({"messages": [{"id": "wamid.A"}]})");
  CHECK(r.outcome == SendOutcome::kSent);
  CHECK(r.external_id == "wamid.A");
  CHECK(WhatsAppSendOutcome(200, "{}").outcome == SendOutcome::kRetry);  // no id to follow
  r = WhatsAppSendOutcome(400, R"({"error": {"message": "undeliverable", "code": 131026}})");
  CHECK(r.outcome == SendOutcome::kBounced);
  CHECK(r.suppress);
  r = WhatsAppSendOutcome(400, R"({"error": {"message": "Re-engagement", "code": 131047}})");
  CHECK(r.outcome == SendOutcome::kFailed);
  CHECK_FALSE(r.suppress);
  CHECK(r.detail == "WhatsApp 400 error 131047: Re-engagement");
  CHECK(WhatsAppSendOutcome(429, "").outcome == SendOutcome::kRetry);
  CHECK(WhatsAppSendOutcome(400, R"({"error": {"code": 130429}})").outcome == SendOutcome::kRetry);
  CHECK(WhatsAppSendOutcome(401, R"({"error": {"code": 190}})").outcome == SendOutcome::kRetry);
  CHECK(WhatsAppSendOutcome(503, "not json").outcome == SendOutcome::kRetry);
}

TEST_CASE("WhatsApp webhooks: messages, media, replies and statuses", "[interaction][whatsapp]") {
  const std::string body = R"({"object": "whatsapp_business_account", "entry": [{"id": "W",
    "changes": [{"field": "messages", "value": {
      "contacts": [{"wa_id": "447700900123", "profile": {"name": "Kemi"}}],
      "messages": [
        {"from": "447700900123", "id": "wamid.1", "timestamp": "1764662400", "type": "text",
         "text": {"body": "Hello"}},
        {"from": "447700900123", "id": "wamid.2", "timestamp": "1764662401", "type": "image",
         "image": {"id": "MEDIA9", "mime_type": "image/jpeg", "caption": "This one"},
         "context": {"id": "wamid.out7"}}],
      "statuses": [
        {"id": "wamid.out1", "status": "delivered"},
        {"id": "wamid.out2", "status": "read"},
        {"id": "wamid.out3", "status": "failed", "errors": [{"code": 131026, "title": "Undeliverable"}]},
        {"id": "wamid.out4", "status": "failed", "errors": [{"code": 131047, "title": "Window"}]},
        {"id": "wamid.out5", "status": "deleted"}]}}]}]})";
  auto hook = ParseWhatsAppWebhook(body);
  REQUIRE(hook.ok());
  REQUIRE(hook->messages.size() == 2);
  const auto& text = hook->messages[0];
  CHECK(text.channel() == v1::CHANNEL_WHATSAPP);
  CHECK(text.from() == "+447700900123");
  CHECK(text.sender_name() == "Kemi");
  CHECK(text.external_id() == "wamid.1");
  CHECK(text.text() == "Hello");
  CHECK(text.sent_time().seconds() == 1764662400);
  const auto& image = hook->messages[1];
  CHECK(image.text() == "This one");
  REQUIRE(image.attachments_size() == 1);
  CHECK(image.attachments(0).content_type() == "image/jpeg");
  CHECK(image.attachments(0).url() == "whatsapp-media:MEDIA9");
  CHECK(image.in_reply_to() == "wamid.out7");
  REQUIRE(hook->statuses.size() == 4);  // "deleted" is not a delivery step
  CHECK(hook->statuses[0].status == v1::DELIVERY_STATUS_DELIVERED);
  CHECK(hook->statuses[1].status == v1::DELIVERY_STATUS_OPENED);
  CHECK(hook->statuses[2].status == v1::DELIVERY_STATUS_BOUNCED);
  CHECK(hook->statuses[2].suppress);
  CHECK(hook->statuses[3].status == v1::DELIVERY_STATUS_FAILED);
  CHECK(hook->statuses[3].reason == "error 131047: Window");

  CHECK_FALSE(ParseWhatsAppWebhook(R"({"object": "page"})").ok());
  CHECK_FALSE(ParseWhatsAppWebhook("not json").ok());
  CHECK(ParseWhatsAppWebhook(R"({"object": "whatsapp_business_account"})")->messages.empty());
}

TEST_CASE("WhatsApp signatures are sha256= and the hex HMAC of the body",
          "[interaction][whatsapp]") {
  const std::string sig = WhatsAppSignature("secret", "{}");
  CHECK(sig.rfind("sha256=", 0) == 0);
  CHECK(sig.size() == 7 + 64);
  CHECK(sig != WhatsAppSignature("secret", "{ }"));
  CHECK(sig != WhatsAppSignature("other", "{}"));
}

TEST_CASE("Generic provider answers", "[interaction][providers]") {
  auto r = GenericSendOutcome(202, R"({"id": "p-1"})");
  CHECK(r.outcome == SendOutcome::kSent);
  CHECK(r.external_id == "p-1");
  CHECK(GenericSendOutcome(200, R"({"id": ""})").outcome == SendOutcome::kRetry);
  r = GenericSendOutcome(410, R"({"error": "gone"})");
  CHECK(r.outcome == SendOutcome::kBounced);
  CHECK(r.suppress);
  CHECK(GenericSendOutcome(422, "{}").outcome == SendOutcome::kFailed);
  CHECK(GenericSendOutcome(429, "{}").outcome == SendOutcome::kRetry);
  CHECK(GenericSendOutcome(500, "{}").outcome == SendOutcome::kRetry);
  GenericMessage m;
  m.id = "conversations/a/messages/b";
  m.to = "+447700900123";
  m.text = "Hi";
  const auto body = nlohmann::json::parse(GenericSendBody(m));
  CHECK(body["id"] == m.id);
  CHECK(body["to"] == m.to);
  CHECK_FALSE(body.contains("status_callback"));
}

}  // namespace
}  // namespace crm::interaction
