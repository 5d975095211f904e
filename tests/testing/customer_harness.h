// An in-process customer service on 127.0.0.1:0 over a fresh database, with
// typed stubs and tenant-stamped contexts.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "services/customer/customer_app.h"
#include "tests/testing/test_db.h"

namespace crm::testing {

class CustomerHarness {
 public:
  explicit CustomerHarness(
      const std::string& db_prefix = "customer",
      const std::function<void(customer::AppConfig&)>& adjust = [](customer::AppConfig&) {}) {
    db_url_ = CreateDatabase(db_prefix);
    customer::AppConfig config;
    config.db_url = db_url_;
    config.db_pool_size = 6;
    config.page_token_secret = "integration-test-secret-0123456789";
    config.server.grpc_port = 0;
    config.server.shutdown_grace = absl::Seconds(2);
    adjust(config);
    auto app = customer::App::Start(config);
    if (!app.ok()) FAIL("customer app did not start: " << app.status().message());
    app_ = std::move(app).value();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", app_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = crm::customer::v1::CustomerService::NewStub(channel_);
  }

  crm::customer::v1::CustomerService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::string& db_url() const { return db_url_; }
  customer::App& app() { return *app_; }

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

  // A context for `tenant` with a 10 s deadline.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = "acme") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!tenant.empty()) ctx->AddMetadata("x-crm-tenant", tenant);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return ctx;
  }

 private:
  std::string db_url_;
  std::unique_ptr<customer::App> app_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
};

}  // namespace crm::testing
