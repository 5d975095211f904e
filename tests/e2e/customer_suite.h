// The customer service and the gateway as real binaries (tests/testing/suite.h)
// with what the e2e tests of this folder share: the customer stub, a
// customer factory, polling with a deadline, and a row-lock probe.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/server/health_client.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/gateway/v1/api_key_service.grpc.pb.h"
#include "tests/testing/net.h"
#include "tests/testing/process.h"
#include "tests/testing/suite.h"
#include "tests/testing/test_db.h"

namespace crm::testing {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::CustomerService;
using crm::customer::v1::DeleteCustomerRequest;
using crm::customer::v1::GetCustomerRequest;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using crm::customer::v1::UpdateCustomerRequest;

// The suite's admin token (tests/testing/suite.cc).
inline constexpr char kAdminToken[] = "e2e-admin-token-0123456789";

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
}

// Polls `condition` until it holds or `within` passes; true if it held.
inline bool Eventually(const std::function<bool()>& condition, absl::Duration within) {
  const absl::Time until = absl::Now() + within;
  while (absl::Now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

// Whether a statement of the customer service waits for a row lock.
inline bool CustomerWaitsForLock(const std::string& db_url) {
  pqxx::connection watch(db_url);
  pqxx::nontransaction q(watch);
  return q.exec(
              "SELECT count(*) FROM pg_stat_activity WHERE usename = 'crm_customer' AND "
              "wait_event_type = 'Lock'")[0][0]
             .as<int>() > 0;
}

// The suite (tests/testing/suite.h) with the customer service's stub and
// the names these tests use.
class Suite : public E2eSuite {
 public:
  explicit Suite(std::vector<std::string> extra_gateway_args = {})
      : E2eSuite(std::move(extra_gateway_args)), stub_(CustomerService::NewStub(channel())) {}

  CustomerService::Stub& stub() { return *stub_; }
  ChildProcess& customer() { return process("customer"); }
  ChildProcess& gateway() { return process("gateway"); }
  int customer_port() const { return port("customer"); }
  int customer_metrics() const { return metrics_port("customer"); }
  int gateway_port() const { return port("gateway"); }
  int gateway_metrics() const { return metrics_port("gateway"); }

 private:
  std::unique_ptr<CustomerService::Stub> stub_;
};

inline Customer Create(Suite& s, const std::string& key, const std::string& email) {
  CreateCustomerRequest req;
  req.mutable_customer()->set_email(email);
  req.mutable_customer()->set_country("GB");
  Customer out;
  grpc::Status st = s.stub().CreateCustomer(Suite::Ctx(key).get(), req, &out);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return out;
}

}  // namespace crm::testing
