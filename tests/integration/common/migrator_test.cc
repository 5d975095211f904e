// The migrator against a real Postgres: concurrent starts, edited files.
#include "common/db/migrator.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "common/server/service_runtime.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

std::vector<db::MigrationFile> Files() {
  return {
      {"0001_create_widgets.sql",
       "CREATE TABLE mig.widgets (tenant_id text NOT NULL, id bigint NOT NULL, "
       "PRIMARY KEY (tenant_id, id));"},
      // Not idempotent: running it twice would fail, so "applied once" is real.
      {"0002_add_color.sql", "ALTER TABLE mig.widgets ADD COLUMN color text;"},
      {"0003_seed.sql", "INSERT INTO mig.widgets (tenant_id, id) VALUES ('t', 1);"},
  };
}

TEST_CASE("four concurrent migrators apply each migration once", "[integration][migrator]") {
  const std::string url = CreateDatabase("mig");
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      db::Pool pool(db::PoolOptions{url, 1, "mig"});
      db::Migrator migrator(pool, "mig", Files());
      auto n = migrator.Migrate();
      if (n.ok()) {
        applied += *n;
      } else {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  CHECK(applied.load() == 3);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM mig.schema_migrations")[0][0].as<int>() == 3);
  CHECK(tx.exec("SELECT count(*) FROM mig.widgets")[0][0].as<int>() == 1);

  db::Pool pool(db::PoolOptions{url, 1, "mig"});
  db::Migrator again(pool, "mig", Files());
  CHECK(*again.Migrate() == 0);
  CHECK(*again.IsCurrent());
}

TEST_CASE("an edited applied migration stops the service", "[integration][migrator]") {
  const std::string url = CreateDatabase("mig");
  db::Pool pool(db::PoolOptions{url, 1, "mig"});
  {
    db::Migrator migrator(pool, "mig", Files());
    REQUIRE(migrator.Migrate().ok());
  }
  auto edited = Files();
  edited[1].sql = "ALTER TABLE mig.widgets ADD COLUMN colour text;";
  db::Migrator migrator(pool, "mig", edited);
  auto result = migrator.Migrate();
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(*migrator.IsCurrent());

  // A binary with a newer migration is not current until it migrates.
  auto newer = Files();
  newer.push_back({"0004_more.sql", "ALTER TABLE mig.widgets ADD COLUMN size int;"});
  db::Migrator newer_migrator(pool, "mig", newer);
  CHECK_FALSE(*newer_migrator.IsCurrent());
  CHECK(*newer_migrator.Migrate() == 1);
  CHECK(*newer_migrator.IsCurrent());
}

TEST_CASE("a service whose migration fails reports it and stops cleanly",
          "[integration][migrator]") {
  const std::string url = CreateDatabase("mig");
  std::vector<db::MigrationFile> files = Files();
  // The state an operator can leave behind: an object the migration creates
  // already exists.
  ExecSql(url, "CREATE SCHEMA mig; CREATE TABLE mig.widgets (id int);");
  server::ServiceDefinition service;
  service.name = "mig";
  service.schema = "mig";
  service.migrations = files;
  server::RuntimeConfig config;
  config.db_url = url;
  config.db_pool_size = 1;
  auto runtime = server::ServiceRuntime::Start(config, service);
  REQUIRE_FALSE(runtime.ok());
  INFO(runtime.status().ToString());
  CHECK(runtime.status().code() == absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace crm::testing
