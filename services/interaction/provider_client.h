// Messages out through a provider's HTTP API with libcurl: Twilio's
// Messages resource (form-encoded POST, basic auth), WhatsApp's Cloud API
// (JSON, Bearer token) and the generic signed JSON contract. One client per
// delivery thread, its connection kept open between messages.
#pragma once

#include <string>
#include <vector>

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

// What the generic provider is sent.
struct GenericMessage {
  std::string id;  // the message's name
  std::string channel;
  std::string from;
  std::string to;
  std::string text;
  std::string status_callback;
};

// The generic adapter's request body and what its answer means: 2xx with
// {"id": ...} accepted; 410 the address cannot receive (bounce, suppress);
// other 4xx failed; 429 and 5xx retried.
std::string GenericSendBody(const GenericMessage& message);
ProviderResult GenericSendOutcome(long http_status, const std::string& response_body);

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
  // POSTs a text message to WhatsApp's Cloud API for `settings`' phone
  // number id.
  ProviderResult SendWhatsApp(const v1::ProviderSettings& settings, const std::string& token,
                              const std::string& to, const std::string& text,
                              absl::Duration timeout);
  // POSTs `message` to the generic provider's base URL, signed with
  // `webhook_secret` (X-CRM-Signature) and the token as a Bearer token.
  ProviderResult SendGeneric(const v1::ProviderSettings& settings, const std::string& token,
                             const std::string& webhook_secret, const GenericMessage& message,
                             absl::Duration timeout);

 private:
  struct Response {
    bool answered = false;  // false: no HTTP answer (detail says why)
    long status = 0;
    std::string body;
    std::string detail;
  };
  // One POST of `body` on the kept connection.
  Response Post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, const std::string* basic_user,
                const std::string* basic_password, absl::Duration timeout);

  void* curl_;  // CURL*
};

}  // namespace crm::interaction
