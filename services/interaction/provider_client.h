// Messages out through a provider's HTTP API with libcurl: Twilio's
// Messages resource for SMS (form-encoded POST, basic auth). One client per
// delivery thread, its connection kept open between messages.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "crm/interaction/v1/channel_account.pb.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {

struct ProviderResult {
  SendOutcome outcome = SendOutcome::kRetry;
  std::string external_id;  // the provider's message id, when accepted
  std::string detail;       // what went wrong
  bool suppress = false;    // the number cannot receive messages
};

class ProviderClient {
 public:
  ProviderClient();
  ~ProviderClient();
  ProviderClient(const ProviderClient&) = delete;
  ProviderClient& operator=(const ProviderClient&) = delete;

  // POSTs To, From, Body and StatusCallback (when not empty) to Twilio's
  // Messages resource of `settings`.
  ProviderResult SendTwilio(const v1::ProviderSettings& settings, const std::string& token,
                            const std::string& from, const std::string& to, const std::string& body,
                            const std::string& status_callback, absl::Duration timeout);

 private:
  void* curl_;  // CURL*
};

}  // namespace crm::interaction
