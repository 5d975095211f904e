// The customer service in-process (ServiceHarness) with its typed stub and a
// helper that creates a customer.
#pragma once

#include <memory>
#include <string>

#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "services/customer/customer_app.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {

class CustomerHarness : public ServiceHarness {
 public:
  explicit CustomerHarness(const std::string& db_prefix = "customer",
                           const Adjust& adjust = nullptr)
      : ServiceHarness(customer::Definition(), db_prefix, adjust),
        stub_(Stub<crm::customer::v1::CustomerService>()) {}

  crm::customer::v1::CustomerService::Stub& stub() { return *stub_; }

  // Creates a customer with just an e-mail address; fails the test otherwise.
  crm::customer::v1::Customer NewCustomer(const std::string& email,
                                          const std::string& tenant = "acme") {
    crm::customer::v1::CreateCustomerRequest req;
    req.mutable_customer()->set_email(email);
    crm::customer::v1::Customer c;
    grpc::Status s = stub_->CreateCustomer(Ctx(tenant).get(), req, &c);
    if (!s.ok()) FAIL("CreateCustomer failed: " << s.error_message());
    return c;
  }

 private:
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
};

}  // namespace crm::testing
