// Channel providers calling in over HTTP (the public port): inbound
// messages and delivery reports for a tenant's channel account at
// /webhooks/{tenant}/{account uuid}. Each request is verified with the
// account's secret before anything is read from it: Twilio's
// X-Twilio-Signature (HMAC-SHA1 of the URL and the sorted parameters with
// the auth token).
#pragma once

#include <map>
#include <string>

#include "services/interaction/channel_account_store.h"
#include "services/interaction/conversation_service.h"
#include "services/interaction/delivery_store.h"
#include "services/interaction/secret_files.h"

namespace crm::interaction {

struct WebhookAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// Twilio's signature of a request to `url` with form `params`.
std::string TwilioSignature(const std::string& token, const std::string& url,
                            const std::multimap<std::string, std::string>& params);

class Webhooks {
 public:
  Webhooks(ChannelAccountStore& accounts, const SecretFiles& secrets,
           ConversationServiceImpl& inbox, DeliveryStore& deliveries, std::string public_base_url);

  // A POST to `path` (with its query string, as the provider called it)
  // carrying form `params` and the provider's `signature` header.
  WebhookAnswer Handle(const std::string& tenant, const std::string& account_id,
                       const std::string& path,
                       const std::multimap<std::string, std::string>& params,
                       const std::string& signature);

 private:
  WebhookAnswer Twilio(const server::CallScope& scope, const v1::ChannelAccount& account,
                       const std::multimap<std::string, std::string>& params);

  ChannelAccountStore& accounts_;
  const SecretFiles& secrets_;
  ConversationServiceImpl& inbox_;
  DeliveryStore& deliveries_;
  std::string public_base_url_;
};

}  // namespace crm::interaction
