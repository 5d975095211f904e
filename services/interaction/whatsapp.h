// WhatsApp's Cloud API, as far as the service speaks it. Pure: building the
// send request, reading the webhook's JSON, checking its signature; the
// HTTP calls are ProviderClient's and Webhooks'.
//
// - Send: POST {base_url}/{phone_number_id}/messages with a Bearer access
//   token, {"messaging_product": "whatsapp", "to": "<digits>", "type":
//   "text", "text": {"body": ...}}; the answer's messages[0].id is the
//   message's wamid.
// - Webhook: Meta verifies the endpoint with a GET (hub.mode=subscribe,
//   hub.verify_token, hub.challenge) and then POSTs JSON signed with
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the
//   app secret>. entry[].changes[].value carries messages (inbound) and
//   statuses (sent, delivered, read, failed).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/interaction/v1/conversation_service.pb.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {

inline constexpr char kWhatsAppBaseUrl[] = "https://graph.facebook.com/v19.0";

// The send request's body for `to` (E.164; the API takes the digits).
std::string WhatsAppSendBody(absl::string_view to, absl::string_view text);

// What a send's HTTP answer means: the wamid when accepted; a bounce (and
// suppression) when the number is not on WhatsApp (131026); FAILED for
// what a retry cannot fix (4xx, e.g. 131047 outside the 24-hour window);
// a retry for throttling (429, 130429, 80007) and server errors.
struct WhatsAppSendResult {
  SendOutcome outcome = SendOutcome::kRetry;
  std::string external_id;
  std::string detail;
  bool suppress = false;
};
WhatsAppSendResult WhatsAppSendOutcome(long http_status, absl::string_view response_body);

// "sha256=" and the hex HMAC-SHA256 of `body` with `app_secret`.
std::string WhatsAppSignature(absl::string_view app_secret, absl::string_view body);

// A delivery report in a webhook.
struct WhatsAppStatus {
  std::string external_id;  // the wamid
  v1::DeliveryStatus status = v1::DELIVERY_STATUS_UNSPECIFIED;
  std::string reason;
  bool suppress = false;
};

struct WhatsAppWebhook {
  // Inbound messages as ReceiveMessage requests (channel WHATSAPP, from in
  // E.164, external id the wamid, sent time from the timestamp; media as
  // attachments named by their media id).
  std::vector<v1::ReceiveMessageRequest> messages;
  std::vector<WhatsAppStatus> statuses;
};

// INVALID_ARGUMENT for a body that is not a WhatsApp Business webhook.
absl::StatusOr<WhatsAppWebhook> ParseWhatsAppWebhook(absl::string_view body);

}  // namespace crm::interaction
