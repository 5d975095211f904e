// Who sent a message, asked of the customer service: the customer an
// address belongs to (IdentifyCustomer, which creates one when nobody has
// it), or a customer named by the caller, checked to be active.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "services/interaction/conversation_domain.h"

namespace crm::interaction {

// The customer service's consent channel of a channel we send on (EMAIL,
// SMS, WHATSAPP).
crm::customer::v1::ConsentChannel ConsentChannelOf(v1::Channel channel);

struct ResolvedCustomer {
  std::string name;  // customers/{id}
  bool created = false;
};

class CustomerDirectory {
 public:
  explicit CustomerDirectory(std::shared_ptr<grpc::Channel> customer_service);

  // The customer `contact` identifies; created (with `sender_name` as its
  // name, when given) if nobody has it.
  absl::StatusOr<ResolvedCustomer> Identify(const server::CallScope& scope,
                                            const ContactAddress& contact,
                                            const std::string& sender_name);
  // `customer` when it is active, the survivor when it was merged;
  // FAILED_PRECONDITION naming `field` when it does not exist or is deleted.
  absl::StatusOr<std::string> Check(const server::CallScope& scope, const std::string& customer,
                                    absl::string_view field);
  // The same, with the customer's profile.
  absl::StatusOr<crm::customer::v1::Customer> Fetch(const server::CallScope& scope,
                                                    const std::string& customer,
                                                    absl::string_view field);
  // OK when the customer consents to marketing on `channel` now;
  // FAILED_PRECONDITION naming `purpose` and the customer service's reason
  // otherwise.
  // Order `order` (orders/{id}) when it is `customer`'s; FAILED_PRECONDITION
  // naming `field` otherwise.
  absl::StatusOr<crm::customer::v1::Order> FetchOrder(const server::CallScope& scope,
                                                      const std::string& order,
                                                      const std::string& customer,
                                                      absl::string_view field);
  // Records that the customer denies marketing on `channel` (a one-click
  // unsubscribe), idempotent by `request_id`.
  absl::Status DenyMarketing(const server::CallScope& scope, const std::string& customer,
                             crm::customer::v1::ConsentChannel channel,
                             const std::string& request_id);
  absl::Status CheckMarketingConsent(const server::CallScope& scope, const std::string& customer,
                                     crm::customer::v1::ConsentChannel channel);

 private:
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
};

}  // namespace crm::interaction
