// What the server runner promises, shown on the customer service: health
// follows the database and the migrations, and a saturated service refuses
// at once instead of queueing without bound.
#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "common/server/health_client.h"
#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::UpdateCustomerRequest;

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

  // One update occupies the only worker (blocked on the lock), one waits in
  // the queue; every further call is refused immediately.
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::atomic<int64_t> slowest_refusal_ms{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(i < 2 ? 0 : 300));
      UpdateCustomerRequest update;
      update.mutable_customer()->set_name(c.name());
      update.mutable_update_mask()->add_paths("given_name");
      Customer out;
      const absl::Time start = absl::Now();
      grpc::Status s = h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &out);
      const int64_t ms = absl::ToInt64Milliseconds(absl::Now() - start);
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
        int64_t prev = slowest_refusal_ms.load();
        while (ms > prev && !slowest_refusal_ms.compare_exchange_weak(prev, ms)) {
        }
      } else {
        ++other;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  lock.commit();
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 2);
  CHECK(exhausted.load() == 4);
  CHECK(other.load() == 0);
  CHECK(slowest_refusal_ms.load() < 500);  // refused, not queued behind the lock
}

}  // namespace
}  // namespace crm::testing
