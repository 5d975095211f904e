// What a ticket refers to in the customer service, checked there before the
// ticket is written: the requester exists and is active; the order, when
// given, exists and is the requester's.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing {

class CustomerReferences {
 public:
  explicit CustomerReferences(std::shared_ptr<grpc::Channel> customer_service);

  // Checks the ticket's requester and order and fills in what the ticket
  // takes from the requester: its tags (`requester_tags`), and its locale
  // as the ticket's `language` when the ticket has none. FAILED_PRECONDITION
  // naming the field (no such customer or order, a deleted or merged
  // customer, another customer's order), or UNAVAILABLE / DEADLINE_EXCEEDED
  // when the customer service cannot answer in time.
  absl::Status Check(const server::CallScope& scope, v1::Ticket* ticket);
  // Only the order, as `field`: it exists and is `requester`'s.
  absl::Status CheckOrder(const server::CallScope& scope, const std::string& requester,
                          const std::string& order, absl::string_view field);

 private:
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
};

}  // namespace crm::ticketing
