#include "common/db/migrator.h"

#include <catch2/catch.hpp>

namespace crm::db {
namespace {

TEST_CASE("migrations are ordered by version whatever the input order", "[migrator]") {
  auto m = ParseMigrations({{"0002_add_index.sql", "B"}, {"0001_create_things.sql", "A"}});
  REQUIRE(m.ok());
  REQUIRE(m->size() == 2);
  CHECK((*m)[0].version == 1);
  CHECK((*m)[0].name == "0001_create_things");
  CHECK((*m)[1].version == 2);
  CHECK((*m)[0].checksum.size() == 64);
}

TEST_CASE("bad migration sets are rejected", "[migrator]") {
  CHECK_FALSE(ParseMigrations({{"0001_a.sql", "A"}, {"0001_b.sql", "B"}}).ok());  // duplicate
  CHECK_FALSE(ParseMigrations({{"0001_a.sql", "A"}, {"0003_c.sql", "C"}}).ok());  // gap
  CHECK_FALSE(ParseMigrations({{"0002_b.sql", "B"}}).ok());                       // not from 1
  CHECK_FALSE(ParseMigrations({{"1_a.sql", "A"}}).ok());
  CHECK_FALSE(ParseMigrations({{"0001_Add-Thing.sql", "A"}}).ok());
  CHECK_FALSE(ParseMigrations({{"0001_a.txt", "A"}}).ok());
  CHECK_FALSE(ParseMigrations({{"abcd_a.sql", "A"}}).ok());
  CHECK(ParseMigrations({}).ok());
}

TEST_CASE("planning applies only what is missing", "[migrator]") {
  auto all = *ParseMigrations({{"0001_a.sql", "A"}, {"0002_b.sql", "B"}, {"0003_c.sql", "C"}});
  auto pending = PlanMigrations(all, {});
  REQUIRE(pending.ok());
  CHECK(pending->size() == 3);
  pending = PlanMigrations(all, {{1, all[0].name, all[0].checksum}});
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 2);
  CHECK((*pending)[0].version == 2);
  pending = PlanMigrations(all, {{1, all[0].name, all[0].checksum},
                                 {2, all[1].name, all[1].checksum},
                                 {3, all[2].name, all[2].checksum}});
  CHECK(pending->empty());
}

TEST_CASE("an edited applied migration is refused", "[migrator]") {
  auto all = *ParseMigrations({{"0001_a.sql", "A edited"}, {"0002_b.sql", "B"}});
  auto original = *ParseMigrations({{"0001_a.sql", "A"}});
  auto pending = PlanMigrations(all, {{1, original[0].name, original[0].checksum}});
  REQUIRE_FALSE(pending.ok());
  CHECK(pending.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(pending.status().message()).find("never be edited") != std::string::npos);
}

TEST_CASE("a database missing an earlier migration is refused", "[migrator]") {
  auto all = *ParseMigrations({{"0001_a.sql", "A"}, {"0002_b.sql", "B"}});
  auto pending = PlanMigrations(all, {{2, all[1].name, all[1].checksum}});
  CHECK(pending.status().code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace crm::db

namespace crm::db {
namespace {

TEST_CASE("statement names are <service>_<verb>_<noun>", "[db]") {
  CHECK(IsStatementName("customer_get_customer"));
  CHECK(IsStatementName("gateway_list_api_keys"));
  CHECK(IsStatementName("kit2_prune_outbox"));
  CHECK_FALSE(IsStatementName("get_customer"));
  CHECK_FALSE(IsStatementName("customer_Get_customer"));
  CHECK_FALSE(IsStatementName("customer__customer"));
  CHECK_FALSE(IsStatementName("customer_get_customer;"));
  CHECK_FALSE(IsStatementName(""));
}

}  // namespace
}  // namespace crm::db
