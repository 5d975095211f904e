// Pure rules of outbound messages: what a valid channel account,
// suppression and SendMessage request are, who may be sent what (consent
// and suppression), the retry schedule, and how an SMTP answer is read.
// No I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/interaction/v1/channel_account.pb.h"
#include "crm/interaction/v1/conversation_service.pb.h"
#include "crm/interaction/v1/delivery.pb.h"
#include "crm/interaction/v1/delivery_service.pb.h"

namespace crm::interaction {

// Names of secret files: 1 to 128 of [A-Za-z0-9_.-], not starting with a dot.
bool IsValidSecretName(absl::string_view name);

// The account as created or updated (all of it): INVALID_ARGUMENT naming
// the field under `field` ("account").
absl::Status ValidateChannelAccount(const v1::ChannelAccount& account, absl::string_view field);
// The paths UpdateChannelAccount takes.
absl::Status CheckChannelAccountPaths(const std::vector<std::string>& paths);

// A suppression's address normalised ("EMAIL"/"PHONE" kind and address):
// INVALID_ARGUMENT naming `suppression.address` / `suppression.reason`.
absl::Status ValidateSuppression(const v1::Suppression& suppression);
// `suppressions/EMAIL:ann@example.com` → kind and address.
absl::Status ParseSuppressionName(absl::string_view name, std::string* kind, std::string* address);

// A SendMessage request, before anything is looked up.
absl::Status ValidateSend(const v1::SendMessageRequest& request);

// Whether a suppression of `reason` stops a message of `purpose`: a hard
// bounce stops everything, the other reasons stop marketing.
bool Suppresses(v1::SuppressionReason reason, v1::Purpose purpose);

// The wait before attempt `attempt` + 1 after `attempt` failed: `base`
// doubled per attempt, at most an hour.
absl::Duration RetryDelay(int attempt, absl::Duration base);

// What an SMTP exchange's outcome means for the message.
enum class SendOutcome {
  kSent,     // accepted by the server
  kRetry,    // a 4xx reply or a connection problem: try again later
  kBounced,  // a 5xx reply about the recipient: a hard bounce
  kFailed,   // a 5xx reply about anything else (sender, size, auth)
};
// A provider's report of a message (Twilio's MessageStatus and ErrorCode)
// as a delivery status; UNSPECIFIED for reports that change nothing
// (queued, sending). `suppress` is set for errors that mean the number
// cannot receive.
v1::DeliveryStatus StatusOfTwilio(absl::string_view status, absl::string_view error_code,
                                  bool* suppress);
// Whether a delivery may move from `current` to `next`: forward only
// (SENT, DELIVERED, OPENED, CLICKED), and to a failure from anything short
// of one.
bool MovesForward(v1::DeliveryStatus current, v1::DeliveryStatus next);
// A RecordDeliveryEvent request: INVALID_ARGUMENT naming the field.
absl::Status ValidateDeliveryEvent(const v1::RecordDeliveryEventRequest& r);

// `smtp_code` is the last reply code (0 when none came); `recipient_stage`
// whether the refusal came at RCPT TO.
SendOutcome ClassifySmtp(bool ok, int smtp_code, bool recipient_stage);

}  // namespace crm::interaction
