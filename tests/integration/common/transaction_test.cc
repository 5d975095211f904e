// What db::RunInTransaction and db::Reader (db::ReadOnce) promise, as a
// non-superuser role under row-level security: the tenant and the deadline
// bind every statement, reads cannot write, nothing carries over to the next
// use of the connection, and pipelined reads keep to their own answers.
#include "common/db/transaction.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <vector>

#include "absl/time/clock.h"
#include "common/db/pool.h"
#include "common/db/reader.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

// A table with row-level security by tenant, owned by a role that is
// subject to it (FORCE), and a pool connected as that role.
struct RlsFixture {
  RlsFixture() {
    admin = CreateDatabase("tx");
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
    // One connection, so that every read follows the one before on it.
    reader = std::make_unique<db::Reader>(*pool, db::ReaderOptions{1, 1024});
  }

  db::TxOptions For(const std::string& tenant, absl::Duration within = absl::Seconds(10)) {
    db::TxOptions options;
    options.tenant = tenant;
    options.deadline = absl::Now() + within;
    return options;
  }

  std::string url;
  std::unique_ptr<db::Pool> pool;
  std::unique_ptr<db::Reader> reader;
  std::string admin;  // a superuser's URL of the same database
};

TEST_CASE("ReadOnce: the tenant binds the statement under row-level security",
          "[integration][db]") {
  RlsFixture f;
  auto a = db::ReadOnce(*f.reader, f.For("a"), "tx_get_item", 1);
  REQUIRE(a.ok());
  REQUIRE(a->size() == 1);
  CHECK((*a)[0][0].as<std::string>() == "one of a");
  auto b = db::ReadOnce(*f.reader, f.For("b"), "tx_get_item", 1);
  REQUIRE(b.ok());
  REQUIRE(b->size() == 1);
  CHECK((*b)[0][0].as<std::string>() == "one of b");
  // No tenant: the policy admits nothing.
  auto none = db::ReadOnce(*f.reader, f.For(""), "tx_get_any");
  REQUIRE(none.ok());
  CHECK((*none)[0][0].as<int>() == 0);
}

TEST_CASE("ReadOnce: arguments are parameters, never SQL", "[integration][db]") {
  RlsFixture f;
  // A hostile tenant and argument are quoted: no row, no error, no injection.
  auto hostile = db::ReadOnce(*f.reader, f.For("a'); DELETE FROM t.items; --"), "tx_get_any");
  REQUIRE(hostile.ok());
  CHECK((*hostile)[0][0].as<int>() == 0);
  auto bad_type = db::ReadOnce(*f.reader, f.For("a"), "tx_get_item", std::string("1); --"));
  CHECK(bad_type.status().code() == absl::StatusCode::kInvalidArgument);
  auto a = db::ReadOnce(*f.reader, f.For("a"), "tx_get_any");
  REQUIRE(a.ok());
  CHECK((*a)[0][0].as<int>() == 1);
}

TEST_CASE("ReadOnce: the deadline becomes the statement timeout", "[integration][db]") {
  RlsFixture f;
  const absl::Time start = absl::Now();
  auto slow = db::ReadOnce(*f.reader, f.For("a", absl::Milliseconds(200)), "tx_sleep_seconds", 5.0);
  CHECK(slow.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(4));
  auto late = db::ReadOnce(*f.reader, f.For("a", -absl::Seconds(1)), "tx_get_any");
  CHECK(late.status().code() == absl::StatusCode::kDeadlineExceeded);
}

TEST_CASE("ReadOnce: a read cannot write", "[integration][db]") {
  RlsFixture f;
  auto write = db::ReadOnce(*f.reader, f.For("a"), "tx_insert_item", std::string("a"), 2,
                            std::string("sneaky"));
  CHECK_FALSE(write.ok());
  auto count = db::ReadOnce(*f.reader, f.For("a"), "tx_get_any");
  REQUIRE(count.ok());
  CHECK((*count)[0][0].as<int>() == 1);
}

TEST_CASE("settings end with the read or transaction that made them", "[integration][db]") {
  RlsFixture f;
  auto during = db::ReadOnce(*f.reader, f.For("a", absl::Seconds(30)), "tx_read_settings");
  REQUIRE(during.ok());
  CHECK((*during)[0][0].as<std::string>() == "a");
  CHECK((*during)[0][1].as<std::string>() != "0");
  CHECK((*during)[0][2].as<std::string>() == "on");
  // The reader has one connection: its next read, with neither tenant nor
  // deadline, sees the session's defaults.
  auto next = db::ReadOnce(*f.reader, db::TxOptions{}, "tx_read_settings");
  REQUIRE(next.ok());
  CHECK((*next)[0][0].as<std::string>().empty());
  CHECK((*next)[0][1].as<std::string>() == "0");
  CHECK((*next)[0][2].as<std::string>() == "on");
  // The same for a pooled connection after a transaction.
  REQUIRE(db::RunInTransaction(*f.pool, f.For("b"), [](db::Tx& tx) {
            db::Exec(tx, "tx_read_settings");
            return absl::OkStatus();
          }).ok());
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
  auto b = db::ReadOnce(*f.reader, f.For("b"), "tx_get_any");
  REQUIRE(b.ok());
  CHECK((*b)[0][0].as<int>() == 2);
}

}  // namespace
// Results of reads sent with Reader::Read, collected for the main thread.
struct Collected {
  explicit Collected(size_t n) : results(n) {}
  db::Reader::Done At(size_t i) {
    return [this, i](absl::StatusOr<db::Rows> rows) {
      std::lock_guard<std::mutex> lock(mu);
      results[i] = std::move(rows);
      ++done;
      cv.notify_all();
    };
  }
  bool WaitAll(absl::Duration within) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, absl::ToChronoSeconds(within),
                       [this] { return done == results.size(); });
  }
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  std::vector<absl::StatusOr<db::Rows>> results;
};

TEST_CASE("Reader: pipelined reads of two tenants each get their own answer", "[integration][db]") {
  RlsFixture f;
  constexpr size_t kReads = 300;
  Collected collected(kReads);
  for (size_t i = 0; i < kReads; ++i) {
    f.reader->Read(f.For(i % 2 == 0 ? "a" : "b"), "tx_get_item", collected.At(i), 1);
  }
  REQUIRE(collected.WaitAll(absl::Seconds(30)));
  for (size_t i = 0; i < kReads; ++i) {
    REQUIRE(collected.results[i].ok());
    REQUIRE(collected.results[i]->size() == 1);
    CHECK((*collected.results[i])[0][0].as<std::string>() ==
          (i % 2 == 0 ? "one of a" : "one of b"));
  }
}

TEST_CASE("Reader: a failing read leaves its neighbours in the pipeline alone",
          "[integration][db]") {
  RlsFixture f;
  Collected collected(3);
  f.reader->Read(f.For("a"), "tx_get_item", collected.At(0), 1);
  f.reader->Read(f.For("a"), "tx_get_item", collected.At(1), std::string("not a number"));
  f.reader->Read(f.For("b"), "tx_get_item", collected.At(2), 1);
  REQUIRE(collected.WaitAll(absl::Seconds(30)));
  REQUIRE(collected.results[0].ok());
  CHECK((*collected.results[0])[0][0].as<std::string>() == "one of a");
  CHECK(collected.results[1].status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(collected.results[2].ok());
  CHECK((*collected.results[2])[0][0].as<std::string>() == "one of b");
}

TEST_CASE("Reader: a lost connection fails its reads UNAVAILABLE, then reconnects",
          "[integration][db]") {
  RlsFixture f;
  REQUIRE(db::ReadOnce(*f.reader, f.For("a"), "tx_get_any").ok());
  // A slow read in flight when the server ends the connection.
  Collected collected(1);
  f.reader->Read(f.For("a", absl::Seconds(30)), "tx_sleep_seconds", collected.At(0), 20.0);
  // Poll until the sleep is running, then end its backend (this database's
  // only: tests running in parallel use the same role).
  pqxx::connection admin(f.admin);
  bool terminated = false;
  for (const absl::Time until = absl::Now() + absl::Seconds(10);
       !terminated && absl::Now() < until;) {
    pqxx::nontransaction tx(admin);
    terminated = tx.exec(
                       "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                       "pg_stat_activity WHERE usename = 'crm_tx_test' AND state = 'active' "
                       "AND datname = current_database() AND query LIKE '%pg_sleep%') t")[0][0]
                     .as<int>() > 0;
  }
  REQUIRE(terminated);
  REQUIRE(collected.WaitAll(absl::Seconds(15)));
  CHECK(collected.results[0].status().code() == absl::StatusCode::kUnavailable);
  auto again = db::ReadOnce(*f.reader, f.For("a"), "tx_get_any");
  REQUIRE(again.ok());
  CHECK((*again)[0][0].as<int>() == 1);
}

TEST_CASE("Reader: more reads in flight than allowed answer RESOURCE_EXHAUSTED",
          "[integration][db]") {
  RlsFixture f;
  db::Reader reader(*f.pool, db::ReaderOptions{1, 1});
  Collected collected(2);
  reader.Read(f.For("a"), "tx_sleep_seconds", collected.At(0), 0.5);
  reader.Read(f.For("a"), "tx_get_any", collected.At(1));
  REQUIRE(collected.WaitAll(absl::Seconds(15)));
  CHECK(collected.results[0].ok());
  CHECK(collected.results[1].status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("Reader: a statement nobody registered is an internal error, not a crash",
          "[integration][db]") {
  RlsFixture f;
  auto rows = db::ReadOnce(*f.reader, f.For("a"), "tx_never_registered");
  CHECK(rows.status().code() == absl::StatusCode::kInternal);
  CHECK(db::ReadOnce(*f.reader, f.For("a"), "tx_get_any").ok());
}

TEST_CASE("dynamic statements are prepared once per connection, at most so many shapes",
          "[integration][db]") {
  RlsFixture f;  // a pool of one connection
  auto run = [&](const std::string& sql, const std::vector<std::string>& params) {
    std::vector<std::string> labels;
    absl::Status s = db::RunInTransaction(*f.pool, f.For("a"), [&](db::Tx& tx) {
      for (const auto& row :
           db::ExecDynamic(tx, "tx_list_items", sql, params, db::Planning::kOncePerConnection)) {
        labels.push_back(row[0].as<std::string>());
      }
      return absl::OkStatus();
    });
    REQUIRE(s.ok());
    return labels;
  };
  auto prepared = [&] {
    int count = -1;
    REQUIRE(db::RunInTransaction(*f.pool, f.For("a"), [&](db::Tx& tx) {
              count = tx.exec(
                            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE "
                            "'tx_list_items_%'")[0][0]
                          .as<int>();
              return absl::OkStatus();
            }).ok());
    return count;
  };
  const std::string by_id = "SELECT label FROM t.items WHERE id = $1";
  CHECK(run(by_id, {"1"}) == std::vector<std::string>{"one of a"});  // the tenant still binds
  CHECK(run(by_id, {"2"}).empty());
  CHECK(prepared() == 1);  // one shape, one statement, whatever the values
  // Past the limit, new shapes run unprepared and still answer.
  for (size_t i = 0; i < db::kMaxDynamicStatements + 5; ++i) {
    const std::string sql =
        "SELECT label FROM t.items WHERE id = $1 AND " + std::to_string(i) + " >= 0";
    CHECK(run(sql, {"1"}) == std::vector<std::string>{"one of a"});
  }
  CHECK(prepared() == static_cast<int>(db::kMaxDynamicStatements));
  // Planned at each call, nothing is prepared.
  REQUIRE(db::RunInTransaction(*f.pool, f.For("a"), [&](db::Tx& tx) {
            db::ExecDynamic(tx, "tx_list_other", by_id, {"1"});
            return absl::OkStatus();
          }).ok());
  CHECK(prepared() == static_cast<int>(db::kMaxDynamicStatements));
}

}  // namespace crm::testing
