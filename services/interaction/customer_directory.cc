#include "services/interaction/customer_directory.h"

#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::interaction {

crm::customer::v1::ConsentChannel ConsentChannelOf(v1::Channel channel) {
  switch (channel) {
    case v1::CHANNEL_EMAIL:
      return crm::customer::v1::CONSENT_CHANNEL_EMAIL;
    case v1::CHANNEL_WHATSAPP:
      return crm::customer::v1::CONSENT_CHANNEL_WHATSAPP;
    default:
      return crm::customer::v1::CONSENT_CHANNEL_SMS;
  }
}
namespace {

namespace cv1 = crm::customer::v1;

constexpr char kCaller[] = "services/interaction";

absl::Status Unanswered(const grpc::Status& status, absl::string_view field) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return absl::FailedPreconditionError(absl::StrCat(field, ": no such customer"));
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": the customer service refused it: ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded while resolving ", field, " with the customer service"));
    default:
      return absl::UnavailableError(absl::StrCat("customer service could not resolve ", field, ": ",
                                                 status.error_message(), "; retry"));
  }
}

cv1::IdentityKind KindOf(const ContactAddress& contact, std::string* source) {
  source->clear();
  if (contact.kind == "EMAIL") return cv1::IDENTITY_KIND_EMAIL;
  if (contact.kind == "PHONE") return cv1::IDENTITY_KIND_PHONE;
  *source = contact.kind;  // a social channel's ids, e.g. source "messenger"
  return cv1::IDENTITY_KIND_EXTERNAL_ID;
}

}  // namespace

CustomerDirectory::CustomerDirectory(std::shared_ptr<grpc::Channel> customer_service)
    : stub_(cv1::CustomerService::NewStub(std::move(customer_service))) {}

absl::StatusOr<ResolvedCustomer> CustomerDirectory::Identify(const server::CallScope& scope,
                                                             const ContactAddress& contact,
                                                             const std::string& sender_name) {
  cv1::IdentifyCustomerRequest request;
  cv1::Identity* identity = request.add_identities();
  std::string source;
  identity->set_kind(KindOf(contact, &source));
  identity->set_source(source);
  identity->set_value(contact.address);
  cv1::IdentifyCustomerResponse response;
  grpc::Status status =
      stub_->IdentifyCustomer(server::CallOnBehalf(scope, kCaller).get(), request, &response);
  if (!status.ok()) return Unanswered(status, "from");
  ResolvedCustomer resolved{response.customer().name(), response.created()};
  if (resolved.created && !sender_name.empty()) {
    // The sender's name as the channel gave it; the customer exists either
    // way, so a failure here is logged, not returned.
    cv1::UpdateCustomerRequest update;
    update.mutable_customer()->set_name(resolved.name);
    SplitName(sender_name, update.mutable_customer()->mutable_given_name(),
              update.mutable_customer()->mutable_family_name());
    update.mutable_update_mask()->add_paths("given_name");
    update.mutable_update_mask()->add_paths("family_name");
    cv1::Customer updated;
    grpc::Status named =
        stub_->UpdateCustomer(server::CallOnBehalf(scope, kCaller).get(), update, &updated);
    if (!named.ok()) {
      log::Warning("could not name a customer created for a sender",
                   {{"customer", resolved.name}, {"error", named.error_message()}});
    }
  }
  return resolved;
}

absl::StatusOr<std::string> CustomerDirectory::Check(const server::CallScope& scope,
                                                     const std::string& customer,
                                                     absl::string_view field) {
  CRM_ASSIGN_OR_RETURN(cv1::Customer found, Fetch(scope, customer, field));
  return found.name();
}

absl::StatusOr<cv1::Customer> CustomerDirectory::Fetch(const server::CallScope& scope,
                                                       const std::string& customer,
                                                       absl::string_view field) {
  std::string name = customer;
  for (int hop = 0; hop < 5; ++hop) {
    cv1::GetCustomerRequest get;
    get.set_name(name);
    cv1::Customer found;
    grpc::Status status =
        stub_->GetCustomer(server::CallOnBehalf(scope, kCaller).get(), get, &found);
    if (!status.ok()) return Unanswered(status, field);
    if (!found.merged_into().empty()) {
      name = found.merged_into();
      continue;
    }
    if (found.has_delete_time()) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", name, " is deleted"));
    }
    return found;
  }
  return absl::FailedPreconditionError(
      absl::StrCat(field, ": ", customer, " was merged too often"));
}

absl::StatusOr<cv1::Order> CustomerDirectory::FetchOrder(const server::CallScope& scope,
                                                         const std::string& order,
                                                         const std::string& customer,
                                                         absl::string_view field) {
  cv1::GetOrderRequest get;
  get.set_name(order);
  cv1::Order found;
  grpc::Status status = stub_->GetOrder(server::CallOnBehalf(scope, kCaller).get(), get, &found);
  if (!status.ok()) return Unanswered(status, field);
  if (found.customer() != customer) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", order, " is not an order of ", customer));
  }
  return found;
}

absl::Status CustomerDirectory::DenyMarketing(const server::CallScope& scope,
                                              const std::string& customer,
                                              cv1::ConsentChannel channel,
                                              const std::string& request_id) {
  cv1::RecordConsentRequest request;
  request.set_name(customer);
  request.set_request_id(request_id);
  cv1::Consent* consent = request.mutable_consent();
  consent->set_channel(channel);
  consent->set_purpose(cv1::CONSENT_PURPOSE_MARKETING);
  consent->set_status(cv1::CONSENT_STATUS_DENIED);
  consent->set_source("list-unsubscribe");
  consent->set_text_version("rfc8058");
  cv1::Consent recorded;
  grpc::Status status =
      stub_->RecordConsent(server::CallOnBehalf(scope, kCaller).get(), request, &recorded);
  if (!status.ok()) return Unanswered(status, "customer");
  return absl::OkStatus();
}

absl::Status CustomerDirectory::CheckMarketingConsent(const server::CallScope& scope,
                                                      const std::string& customer,
                                                      cv1::ConsentChannel channel) {
  cv1::CheckConsentRequest request;
  request.set_name(customer);
  request.set_channel(channel);
  request.set_purpose(cv1::CONSENT_PURPOSE_MARKETING);
  cv1::CheckConsentResponse response;
  grpc::Status status =
      stub_->CheckConsent(server::CallOnBehalf(scope, kCaller).get(), request, &response);
  if (!status.ok()) return Unanswered(status, "customer");
  if (!response.allowed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("purpose: ", customer, " does not consent to marketing by ",
                     api::EnumText(channel), ": ", response.reason()));
  }
  return absl::OkStatus();
}

}  // namespace crm::interaction
