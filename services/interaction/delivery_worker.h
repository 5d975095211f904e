// A delivery thread's work: take due messages from the queue, send each on
// its channel (e-mail over SMTP), and record what happened: SENT, a retry
// after an exponential backoff, a hard bounce (and the address suppressed)
// or a failure after the last attempt. Each worker owns its SMTP
// connection, which stays open between messages.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/page_token.h"
#include "services/interaction/delivery_store.h"
#include "services/interaction/provider_client.h"
#include "services/interaction/secret_files.h"
#include "services/interaction/smtp_sender.h"
#include "services/interaction/unsubscribe.h"

namespace crm::interaction {

struct DeliveryOptions {
  int batch = 20;
  absl::Duration lease = absl::Seconds(60);
  absl::Duration backoff = absl::Seconds(30);  // before the second attempt; doubles
  int max_attempts = 8;
  absl::Duration poll = absl::Milliseconds(500);
  absl::Duration send_timeout = absl::Seconds(30);
  // Where one-click unsubscribe links point: <base>/unsubscribe/<token>.
  std::string public_base_url;
};

class DeliveryWorker {
 public:
  DeliveryWorker(DeliveryStore& store, const SecretFiles& secrets,
                 const api::PageTokenCodec& tokens, DeliveryOptions options);

  // One round: returns how long to wait before the next.
  absl::StatusOr<absl::Duration> Step();

 private:
  Attempt Deliver(Claimed claimed);

  DeliveryStore& store_;
  const SecretFiles& secrets_;
  const api::PageTokenCodec& tokens_;
  DeliveryOptions options_;
  // E-mail over SMTP; SMS, WhatsApp and the rest through the account's
  // provider.
  void SendEmail(const v1::ChannelAccount& account, Attempt* attempt);
  void SendThroughProvider(const v1::ChannelAccount& account, Attempt* attempt);

  SmtpSender smtp_;
  ProviderClient provider_;
};

}  // namespace crm::interaction
