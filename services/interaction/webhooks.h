// Channel providers calling in over HTTP (the public port): inbound
// messages and delivery reports for a tenant's channel account at
// /webhooks/{tenant}/{account uuid}. Each request is verified with the
// account's secret before anything in it is used:
// - Twilio: X-Twilio-Signature, HMAC-SHA1 of the URL and the sorted form
//   parameters with the auth token.
// - WhatsApp Cloud API: X-Hub-Signature-256, HMAC-SHA256 of the raw body
//   with the app secret; the subscription handshake (GET with
//   hub.verify_token) answers hub.challenge.
// - Generic: X-CRM-Signature `t=<unix seconds>,v1=<hex HMAC-SHA256 of
//   "<t>.<body>">` with the account's webhook secret, at most 5 minutes
//   old; JSON `{"type": "message", ...}` or `{"type": "status", ...}`
//   (docs/interaction.md).
// - Inbound mail (e-mail accounts with `inbound.webhook_secret`): a raw
//   RFC 5322 message as the body, signed as the generic adapter's calls.
#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
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

// A provider's call as the public HTTP server received it.
struct WebhookRequest {
  std::string method;  // GET or POST
  // The path with its query string, as the provider called it.
  std::string path;
  // Query and form parameters.
  std::multimap<std::string, std::string> params;
  std::string body;
  // The signature header of the account's provider (X-Twilio-Signature,
  // X-Hub-Signature-256 or X-CRM-Signature), "" when absent.
  std::string signature;
};

// Twilio's signature of a request to `url` with form `params`.
std::string TwilioSignature(const std::string& token, const std::string& url,
                            const std::multimap<std::string, std::string>& params);
// The generic adapter's X-CRM-Signature of `body` sent at `at`.
std::string GenericSignature(const std::string& secret, absl::Time at, const std::string& body);

class Webhooks {
 public:
  Webhooks(ChannelAccountStore& accounts, const SecretFiles& secrets,
           ConversationServiceImpl& inbox, DeliveryStore& deliveries, std::string public_base_url);

  WebhookAnswer Handle(const std::string& tenant, const std::string& account_id,
                       const WebhookRequest& request);

 private:
  WebhookAnswer Twilio(const server::CallScope& scope, const v1::ChannelAccount& account,
                       const WebhookRequest& request);
  WebhookAnswer WhatsApp(const server::CallScope& scope, const v1::ChannelAccount& account,
                         const WebhookRequest& request);
  WebhookAnswer Generic(const server::CallScope& scope, const v1::ChannelAccount& account,
                        const WebhookRequest& request);
  WebhookAnswer InboundMail(const server::CallScope& scope, const v1::ChannelAccount& account,
                            const WebhookRequest& request);
  // Whether X-CRM-Signature signs the body with `secret`, recently (a
  // refusal is logged).
  static bool SignedByGeneric(const std::string& secret, const server::CallScope& scope,
                              const v1::ChannelAccount& account, const WebhookRequest& request);
  // Stores an inbound message: 200, 400 for one the service refuses, 503
  // for the provider to retry.
  WebhookAnswer Receive(const server::CallScope& scope, v1::ReceiveMessageRequest request);
  // A delivery report: 200 unless the database is away (503).
  WebhookAnswer Report(const server::CallScope& scope, v1::Channel channel,
                       const std::string& external_id, v1::DeliveryStatus status,
                       const std::string& reason, bool suppress);

  ChannelAccountStore& accounts_;
  const SecretFiles& secrets_;
  ConversationServiceImpl& inbox_;
  DeliveryStore& deliveries_;
  std::string public_base_url_;
};

}  // namespace crm::interaction
