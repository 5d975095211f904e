// One-click unsubscribe (RFC 8058): the sealed token in a marketing
// message's List-Unsubscribe link, and what using it does: the address is
// suppressed and `unsubscribe.recorded` published at once, and the
// customer's marketing consent on the channel is denied in the customer
// service, now or, if that service cannot answer, by housekeeping later.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "services/interaction/customer_directory.h"
#include "services/interaction/delivery_store.h"

namespace crm::interaction {

// The token of a message's unsubscribe link, sealed by `tokens`.
std::string UnsubscribeToken(const api::PageTokenCodec& tokens, const std::string& tenant,
                             const std::string& message_name);
// The tenant and message a token names; INVALID_ARGUMENT for a forged one.
absl::Status ParseUnsubscribeToken(const api::PageTokenCodec& tokens, const std::string& token,
                                   std::string* tenant, std::string* message_name);

class Unsubscriber {
 public:
  Unsubscriber(DeliveryStore& store, CustomerDirectory& customers,
               const api::PageTokenCodec& tokens);

  // Acts on the link's `token`: INVALID_ARGUMENT for a forged one,
  // NOT_FOUND for a message that is gone; OK once the unsubscribe is
  // recorded (the consent denial may still be pending).
  absl::StatusOr<v1::Unsubscribe> Unsubscribe(const std::string& token);
  // Housekeeping: records the consent denials still pending; returns how
  // many it recorded.
  absl::StatusOr<int64_t> RetryPending();

 private:
  absl::Status Deny(const std::string& tenant, const v1::Unsubscribe& unsubscribe);

  DeliveryStore& store_;
  CustomerDirectory& customers_;
  const api::PageTokenCodec& tokens_;
};

}  // namespace crm::interaction
