// Any service of the suite in-process on 127.0.0.1:0 over a fresh database:
// its definition (e.g. crm::customer::Definition()) started by the same
// runtime the binary uses, a channel, typed stubs and tenant-stamped
// contexts.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/server/service_runtime.h"
#include "tests/testing/test_db.h"

namespace crm::testing {

class ServiceHarness {
 public:
  using Adjust = std::function<void(server::RuntimeConfig&)>;

  ServiceHarness(const server::ServiceDefinition& service, const std::string& db_prefix,
                 const Adjust& adjust = nullptr)
      : service_(service) {
    db_url_ = CreateDatabase(db_prefix);
    server::RuntimeConfig config;
    config.db_url = db_url_;
    config.db_pool_size = 6;
    config.page_token_secret = "integration-test-secret-0123456789";
    config.server.grpc_port = 0;
    config.server.shutdown_grace = absl::Seconds(2);
    if (adjust) adjust(config);
    db_url_ = config.db_url;  // an Adjust may reuse another harness's database
    auto runtime = server::ServiceRuntime::Start(config, service_);
    if (!runtime.ok()) FAIL(service_.name << " did not start: " << runtime.status().message());
    runtime_ = std::move(runtime).value();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  // An Adjust that points the service's `needs` entry `name` at `address`.
  static Adjust Calling(const std::string& name, const std::string& address) {
    return [name, address](server::RuntimeConfig& config) { config.services[name] = address; };
  }

  // A stub of the generated service `Svc` on this service's channel.
  template <typename Svc>
  std::unique_ptr<typename Svc::Stub> Stub() {
    return Svc::NewStub(channel_);
  }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::string& db_url() const { return db_url_; }
  const server::ServiceDefinition& service() const { return service_; }
  server::ServiceRuntime& runtime() { return *runtime_; }

  // A context for `tenant` (none when empty) with a 10 s deadline.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = "acme") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!tenant.empty()) ctx->AddMetadata("x-crm-tenant", tenant);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return ctx;
  }

 private:
  server::ServiceDefinition service_;
  std::string db_url_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace crm::testing
