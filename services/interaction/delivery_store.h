// Outbound delivery in the `interaction` schema: the suppression list, and
// the delivery queue the workers take messages from (across tenants, with
// a lease) and record each outcome in (status, history, events, bounces
// onto the suppression list).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/interaction/v1/channel_account.pb.h"
#include "crm/interaction/v1/conversation.pb.h"
#include "crm/interaction/v1/delivery_service.pb.h"

namespace crm::interaction {

// A message a worker took from the queue, with the account it goes out
// through (or why there is none).
struct Claimed {
  std::string tenant;
  v1::Message message;
  std::optional<v1::ChannelAccount> account;
  std::string account_error;
};

// What became of one attempt.
struct Attempt {
  Claimed claimed;
  v1::DeliveryStatus status = v1::DELIVERY_STATUS_QUEUED;  // QUEUED: retry later
  std::string reason;
  absl::Time retry_at;  // for QUEUED
  // The address to put on the suppression list (a hard bounce); empty for none.
  std::string suppress;
  // The channel's id of the message once it accepted it (a provider's
  // message id); empty to keep what the message has.
  std::string external_id;
};

class DeliveryStore {
 public:
  DeliveryStore(db::Pool& pool, api::PageTokenCodec tokens);

  absl::StatusOr<v1::ListSuppressionsResponse> ListSuppressions(
      const server::CallScope& scope, const v1::ListSuppressionsRequest& request);
  // `suppression` validated.
  absl::StatusOr<v1::Suppression> AddSuppression(const server::CallScope& scope,
                                                 const v1::Suppression& suppression);
  absl::Status DeleteSuppression(const server::CallScope& scope, const std::string& kind,
                                 const std::string& address);

  // A one-click unsubscribe with the link of `message_name` in `tenant`:
  // the address goes on the suppression list (UNSUBSCRIBED, unless it is a
  // hard bounce already), `unsubscribe.recorded` is published, and the
  // consent denial the customer service still has to record is kept until
  // ConfirmConsentDenied. NOT_FOUND for a message that no longer exists.
  absl::StatusOr<v1::Unsubscribe> RecordUnsubscribe(const std::string& tenant,
                                                    const std::string& message_name);
  absl::Status ConfirmConsentDenied(const std::string& tenant, const std::string& message_name);
  // Consent denials still to be recorded, across tenants (oldest first).
  absl::StatusOr<std::vector<v1::Unsubscribe>> PendingConsentDenials(
      int limit, std::vector<std::string>* tenants);

  // Takes up to `batch` due messages of any tenant and holds them for
  // `lease` (a worker that dies leaves them to another after it), counting
  // the attempt.
  absl::StatusOr<std::vector<Claimed>> Claim(int batch, absl::Duration lease);
  // Records the attempts' outcomes, each in its tenant.
  absl::Status Record(const std::vector<Attempt>& attempts);
  // A provider's report on message `external_id` of `channel` in `tenant`
  // (a status callback): applied when it moves the delivery forward
  // (MovesForward), with `message.delivery_changed`; `suppress` puts the
  // recipient on the suppression list (HARD_BOUNCE). NOT_FOUND for a message
  // the tenant does not have; false when the report changed nothing.
  absl::StatusOr<bool> RecordStatus(const std::string& tenant, v1::Channel channel,
                                    const std::string& external_id, v1::DeliveryStatus status,
                                    const std::string& reason, bool suppress);
  // When the next queued message falls due, if any is queued.
  absl::StatusOr<std::optional<absl::Time>> NextDue();

 private:
  db::Pool& pool_;
  api::PageTokenCodec tokens_;
};

// The suppression, if any, of `address` (kind EMAIL or PHONE) in `tx`.
std::optional<v1::SuppressionReason> SuppressionOf(db::Tx& tx, const std::string& tenant,
                                                   const std::string& kind,
                                                   const std::string& address);

}  // namespace crm::interaction
