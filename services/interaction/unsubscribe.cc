#include "services/interaction/unsubscribe.h"

#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::interaction {
namespace {

constexpr char kUnsubscribeQuery[] = "unsubscribe";

}  // namespace

std::string UnsubscribeToken(const api::PageTokenCodec& tokens, const std::string& tenant,
                             const std::string& message_name) {
  return tokens.Encode({tenant, message_name}, kUnsubscribeQuery);
}

absl::Status ParseUnsubscribeToken(const api::PageTokenCodec& tokens, const std::string& token,
                                   std::string* tenant, std::string* message_name) {
  auto key = tokens.Decode(token, kUnsubscribeQuery);
  if (!key.ok() || key->size() != 2) {
    return absl::InvalidArgumentError("token: not an unsubscribe link of this service");
  }
  *tenant = (*key)[0];
  *message_name = (*key)[1];
  return absl::OkStatus();
}

Unsubscriber::Unsubscriber(DeliveryStore& store, CustomerDirectory& customers,
                           const api::PageTokenCodec& tokens)
    : store_(store), customers_(customers), tokens_(tokens) {}

absl::Status Unsubscriber::Deny(const std::string& tenant, const v1::Unsubscribe& unsubscribe) {
  server::CallScope scope;
  scope.tenant = tenant;
  scope.request_id = crypto::NewUuid();
  scope.actor = "services/interaction";
  scope.deadline = absl::Now() + absl::Seconds(10);
  const std::string message_id = unsubscribe.message().substr(unsubscribe.message().rfind('/') + 1);
  // The same request id for every try of one unsubscribe: the customer
  // service records the denial once.
  CRM_RETURN_IF_ERROR(customers_.DenyMarketing(scope, unsubscribe.customer(),
                                               ConsentChannelOf(unsubscribe.channel()),
                                               absl::StrCat("unsubscribe-", message_id)));
  return store_.ConfirmConsentDenied(tenant, unsubscribe.message());
}

absl::StatusOr<v1::Unsubscribe> Unsubscriber::Unsubscribe(const std::string& token) {
  std::string tenant, message;
  CRM_RETURN_IF_ERROR(ParseUnsubscribeToken(tokens_, token, &tenant, &message));
  CRM_ASSIGN_OR_RETURN(v1::Unsubscribe unsubscribe, store_.RecordUnsubscribe(tenant, message));
  const absl::Status denied = Deny(tenant, unsubscribe);
  if (!denied.ok()) {
    log::Warning("consent denial left for housekeeping",
                 {{"tenant", tenant}, {"error", std::string(denied.message())}});
  }
  return unsubscribe;
}

absl::StatusOr<int64_t> Unsubscriber::RetryPending() {
  std::vector<std::string> tenants;
  CRM_ASSIGN_OR_RETURN(std::vector<v1::Unsubscribe> pending,
                       store_.PendingConsentDenials(100, &tenants));
  int64_t done = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (Deny(tenants[i], pending[i]).ok()) ++done;
  }
  return done;
}

}  // namespace crm::interaction
