// What db::RunInTransaction and db::ReadOnce promise, as a non-superuser
// role under row-level security: the tenant and the deadline bind every
// statement, reads cannot write, and nothing carries over to the next use of
// the connection.
#include "common/db/transaction.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "common/db/pool.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

// A table with row-level security by tenant, owned by a role that is
// subject to it (FORCE), and a pool connected as that role.
struct RlsFixture {
  RlsFixture() {
    const std::string admin = CreateDatabase("tx");
    ExecSql(admin,
            "DO $$ BEGIN CREATE ROLE crm_tx_test LOGIN; EXCEPTION WHEN duplicate_object OR "
            "unique_violation THEN NULL; END $$;"
            "CREATE SCHEMA t AUTHORIZATION crm_tx_test;");
    url = WithParam(admin, "user", "crm_tx_test");
    ExecSql(url,
            "CREATE TABLE t.items (tenant_id text NOT NULL, id int NOT NULL, label text, "
            "PRIMARY KEY (tenant_id, id));"
            "ALTER TABLE t.items ENABLE ROW LEVEL SECURITY;"
            "ALTER TABLE t.items FORCE ROW LEVEL SECURITY;"
            "CREATE POLICY tenant ON t.items USING (tenant_id = "
            "current_setting('app.tenant_id', true));");
    // As the superuser, whom row-level security does not bind.
    ExecSql(admin, "INSERT INTO t.items VALUES ('a', 1, 'one of a'), ('b', 1, 'one of b');");
    pool = std::make_unique<db::Pool>(db::PoolOptions{url, 1, "tx-test"});
    pool->Prepare("tx_get_item", "SELECT label FROM t.items WHERE id = $1");
    pool->Prepare("tx_get_any", "SELECT count(*) FROM t.items");
    pool->Prepare("tx_sleep_seconds", "SELECT pg_sleep($1::float8)");
    pool->Prepare("tx_insert_item", "INSERT INTO t.items VALUES ($1, $2, $3) RETURNING id");
    pool->Prepare("tx_read_settings",
                  "SELECT COALESCE(current_setting('app.tenant_id', true), ''), "
                  "current_setting('statement_timeout'), current_setting('transaction_read_only')");
  }

  db::TxOptions For(const std::string& tenant, absl::Duration within = absl::Seconds(10)) {
    db::TxOptions options;
    options.tenant = tenant;
    options.deadline = absl::Now() + within;
    return options;
  }

  std::string url;
  std::unique_ptr<db::Pool> pool;
};

TEST_CASE("ReadOnce: the tenant binds the statement under row-level security",
          "[integration][db]") {
  RlsFixture f;
  auto a = db::ReadOnce(*f.pool, f.For("a"), "tx_get_item", 1);
  REQUIRE(a.ok());
  REQUIRE(a->size() == 1);
  CHECK((*a)[0][0].as<std::string>() == "one of a");
  auto b = db::ReadOnce(*f.pool, f.For("b"), "tx_get_item", 1);
  REQUIRE(b.ok());
  REQUIRE(b->size() == 1);
  CHECK((*b)[0][0].as<std::string>() == "one of b");
  // No tenant: the policy admits nothing.
  auto none = db::ReadOnce(*f.pool, f.For(""), "tx_get_any");
  REQUIRE(none.ok());
  CHECK((*none)[0][0].as<int>() == 0);
}

TEST_CASE("ReadOnce: arguments are literals, never SQL", "[integration][db]") {
  RlsFixture f;
  // A hostile tenant and argument are quoted: no row, no error, no injection.
  auto hostile = db::ReadOnce(*f.pool, f.For("a'); DELETE FROM t.items; --"), "tx_get_any");
  REQUIRE(hostile.ok());
  CHECK((*hostile)[0][0].as<int>() == 0);
  auto bad_type = db::ReadOnce(*f.pool, f.For("a"), "tx_get_item", std::string("1); --"));
  CHECK(bad_type.status().code() == absl::StatusCode::kInvalidArgument);
  auto a = db::ReadOnce(*f.pool, f.For("a"), "tx_get_any");
  REQUIRE(a.ok());
  CHECK((*a)[0][0].as<int>() == 1);
}

TEST_CASE("ReadOnce: the deadline becomes the statement timeout", "[integration][db]") {
  RlsFixture f;
  const absl::Time start = absl::Now();
  auto slow = db::ReadOnce(*f.pool, f.For("a", absl::Milliseconds(200)), "tx_sleep_seconds", 5.0);
  CHECK(slow.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(4));
  auto late = db::ReadOnce(*f.pool, f.For("a", -absl::Seconds(1)), "tx_get_any");
  CHECK(late.status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("ReadOnce: a read cannot write", "[integration][db]") {
  RlsFixture f;
  auto write = db::ReadOnce(*f.pool, f.For("a"), "tx_insert_item", std::string("a"), 2,
                            std::string("sneaky"));
  CHECK_FALSE(write.ok());
  auto count = db::ReadOnce(*f.pool, f.For("a"), "tx_get_any");
  REQUIRE(count.ok());
  CHECK((*count)[0][0].as<int>() == 1);
}

TEST_CASE("settings end with the read or transaction that made them", "[integration][db]") {
  RlsFixture f;
  auto during = db::ReadOnce(*f.pool, f.For("a", absl::Seconds(30)), "tx_read_settings");
  REQUIRE(during.ok());
  CHECK((*during)[0][0].as<std::string>() == "a");
  CHECK((*during)[0][1].as<std::string>() != "0");
  CHECK((*during)[0][2].as<std::string>() == "on");
  // The pool has one connection: the next use of it sees the defaults.
  auto lease = f.pool->Acquire(absl::Now() + absl::Seconds(5));
  REQUIRE(lease.ok());
  {
    pqxx::nontransaction tx(lease->conn());
    auto after = tx.exec_prepared("tx_read_settings");
    CHECK(after[0][0].as<std::string>().empty());
    CHECK(after[0][1].as<std::string>() == "0");
    CHECK(after[0][2].as<std::string>() == "off");
  }
}

TEST_CASE("RunInTransaction: settings and isolation arrive with BEGIN", "[integration][db]") {
  RlsFixture f;
  db::TxOptions options = f.For("b", absl::Seconds(30));
  options.isolation = db::Isolation::kSerializable;
  options.read_only = true;
  std::string tenant, timeout, read_only, isolation;
  absl::Status status = db::RunInTransaction(*f.pool, options, [&](db::Tx& tx) {
    auto row = db::Exec(tx, "tx_read_settings")[0];
    tenant = row[0].as<std::string>();
    timeout = row[1].as<std::string>();
    read_only = row[2].as<std::string>();
    isolation = tx.exec("SHOW transaction_isolation")[0][0].as<std::string>();
    return absl::OkStatus();
  });
  REQUIRE(status.ok());
  CHECK(tenant == "b");
  CHECK(timeout != "0");
  CHECK(read_only == "on");
  CHECK(isolation == "serializable");

  // A write commits under its tenant; a read-only transaction refuses one.
  status = db::RunInTransaction(*f.pool, f.For("b"), [](db::Tx& tx) {
    db::Exec(tx, "tx_insert_item", std::string("b"), 2, std::string("two of b"));
    return absl::OkStatus();
  });
  CHECK(status.ok());
  db::TxOptions read = f.For("b");
  read.read_only = true;
  status = db::RunInTransaction(*f.pool, read, [](db::Tx& tx) {
    db::Exec(tx, "tx_insert_item", std::string("b"), 3, std::string("three of b"));
    return absl::OkStatus();
  });
  CHECK_FALSE(status.ok());
  // Row-level security holds for writes too: tenant b cannot write a's rows.
  status = db::RunInTransaction(*f.pool, f.For("b"), [](db::Tx& tx) {
    db::Exec(tx, "tx_insert_item", std::string("a"), 9, std::string("forged"));
    return absl::OkStatus();
  });
  CHECK_FALSE(status.ok());
  auto b = db::ReadOnce(*f.pool, f.For("b"), "tx_get_any");
  REQUIRE(b.ok());
  CHECK((*b)[0][0].as<int>() == 2);
}

}  // namespace
}  // namespace crm::testing
