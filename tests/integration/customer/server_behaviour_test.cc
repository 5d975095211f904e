// What the server runner promises, shown on the customer service: health
// follows the database and the migrations, and a saturated service refuses
// at once instead of queueing without bound.
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "common/server/health_client.h"
#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::UpdateCustomerRequest;

bool EventuallyTrue(const std::function<bool()>& condition, absl::Duration within) {
  const absl::Time until = absl::Now() + within;
  while (absl::Now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

bool EventuallyHealth(CustomerHarness& h, server::HealthState want, absl::Duration within) {
  const absl::Time until = absl::Now() + within;
  while (absl::Now() < until) {
    auto state = server::CheckHealth(h.channel());
    if (state.ok() && *state == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_CASE("health is SERVING only while the database is reachable", "[integration][health]") {
  CustomerHarness h("health", [](server::RuntimeConfig& c) {
    c.server.health_interval = absl::Milliseconds(100);
  });
  CHECK(EventuallyHealth(h, server::HealthState::kServing, absl::Seconds(2)));
  const std::string db = h.db_url().substr(h.db_url().rfind("dbname=") + 7);
  // Cut the database off: no new connections, existing ones terminated.
  ExecSql(AdminUrl(), "ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
  ExecSql(AdminUrl(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                          db + "' AND pid <> pg_backend_pid()");
  CHECK(EventuallyHealth(h, server::HealthState::kNotServing, absl::Seconds(5)));
  ExecSql(AdminUrl(), "ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
  CHECK(EventuallyHealth(h, server::HealthState::kServing, absl::Seconds(5)));
}

TEST_CASE("health is NOT_SERVING until the migrations are applied", "[integration][health]") {
  CustomerHarness h("nomig", [](server::RuntimeConfig& c) {
    c.migrate = false;
    c.server.health_interval = absl::Milliseconds(100);
  });
  CHECK(EventuallyHealth(h, server::HealthState::kNotServing, absl::Seconds(2)));
  auto applied = server::ServiceRuntime::MigrateOnly(h.db_url(), h.service());
  REQUIRE(applied.ok());
  CHECK(*applied ==
        static_cast<int>(customer::EmbeddedMigrations().size() + db::KitMigrations().size()));
  CHECK(EventuallyHealth(h, server::HealthState::kServing, absl::Seconds(5)));
}

TEST_CASE("a saturated service answers RESOURCE_EXHAUSTED at once", "[integration][executor]") {
  CustomerHarness h("busy", [](server::RuntimeConfig& c) {
    c.db_pool_size = 1;
    c.queue_capacity = 1;
  });
  CreateCustomerRequest create;
  create.mutable_customer()->set_email("busy@example.com");
  Customer c;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &c).ok());
  const std::string id = c.name().substr(std::string("customers/").size());
  pqxx::connection conn(h.db_url());
  pqxx::work lock(conn);
  lock.exec_params("SELECT 1 FROM customer.customers WHERE id = $1::uuid FOR UPDATE", id);

  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(c.name());
  update.mutable_update_mask()->add_paths("given_name");
  auto call = [&] {
    Customer out;
    return h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &out).error_code();
  };
  // One update occupies the only worker (waiting for the row lock), one
  // waits in the only queue slot; the test's thread only records codes.
  std::atomic<int> first{-1}, second{-1};
  std::thread worker([&] { first = call(); });
  const std::string db = h.db_url().substr(h.db_url().rfind("dbname=") + 7);
  REQUIRE(EventuallyTrue(
      [&] {
        pqxx::connection watch(AdminUrl());
        pqxx::nontransaction q(watch);
        return q.exec_params(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND "
                    "wait_event_type = 'Lock'",
                    db)[0][0]
                   .as<int>() == 1;
      },
      absl::Seconds(10)));
  std::thread queued([&] { second = call(); });
  REQUIRE(EventuallyTrue([&] { return h.runtime().executor().queued() == 1; }, absl::Seconds(10)));

  // Every further call is refused, not queued behind the lock (a queued one
  // would wait for the lock until its deadline).
  for (int i = 0; i < 4; ++i) CHECK(call() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  lock.commit();
  worker.join();
  queued.join();
  CHECK(first.load() == grpc::StatusCode::OK);
  CHECK(second.load() == grpc::StatusCode::OK);
}

}  // namespace
}  // namespace crm::testing
