#include "services/ticketing/customer_references.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace crm::ticketing {
namespace {

constexpr char kCaller[] = "services/ticketing";

// The customer service's answer about `what` as this service's status.
absl::Status Unanswered(const grpc::Status& status, absl::string_view field,
                        absl::string_view what) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", what, " does not exist"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded while checking ", field, " with the customer service"));
    default:
      return absl::UnavailableError(absl::StrCat("customer service could not check ", field, ": ",
                                                 status.error_message(), "; retry"));
  }
}

}  // namespace

CustomerReferences::CustomerReferences(std::shared_ptr<grpc::Channel> customer_service)
    : stub_(crm::customer::v1::CustomerService::NewStub(std::move(customer_service))) {}

absl::Status CustomerReferences::Check(const server::CallScope& scope, v1::Ticket* out) {
  const v1::Ticket& ticket = *out;
  crm::customer::v1::GetCustomerRequest get;
  get.set_name(ticket.requester());
  crm::customer::v1::Customer customer;
  grpc::Status status =
      stub_->GetCustomer(server::CallOnBehalf(scope, kCaller).get(), get, &customer);
  if (!status.ok()) return Unanswered(status, "ticket.requester", ticket.requester());
  if (!customer.merged_into().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("ticket.requester: ", ticket.requester(),
                                                      " was merged into ", customer.merged_into(),
                                                      "; use that customer"));
  }
  if (customer.has_delete_time()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket.requester: ", ticket.requester(), " is deleted"));
  }
  if (!ticket.order().empty()) {
    CRM_RETURN_IF_ERROR(CheckOrder(scope, ticket.requester(), ticket.order(), "ticket.order"));
  }
  for (const std::string& tag : customer.tags()) out->add_requester_tags(tag);
  if (out->language().empty()) out->set_language(customer.locale());
  return absl::OkStatus();
}

absl::Status CustomerReferences::CheckOrder(const server::CallScope& scope,
                                            const std::string& requester, const std::string& order,
                                            absl::string_view field) {
  crm::customer::v1::GetOrderRequest get;
  get.set_name(order);
  crm::customer::v1::Order found;
  grpc::Status status = stub_->GetOrder(server::CallOnBehalf(scope, kCaller).get(), get, &found);
  if (!status.ok()) return Unanswered(status, field, order);
  if (found.customer() != requester) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", order, " is not an order of ", requester));
  }
  return absl::OkStatus();
}

}  // namespace crm::ticketing
