// The service table every harness and script follows (deploy/services.tsv).
#include <catch2/catch.hpp>

#include "tests/testing/suite.h"

namespace crm::testing {
namespace {

TEST_CASE("the service table parses into rows", "[testing]") {
  auto rows = ParseServiceTable(
      "# name grpc metrics schema routes extensions\n"
      "gateway   50051  9451  gateway   -                  -\n"
      "\n"
      "customer\t50061\t9461\tcustomer\tcrm.customer.v1\tpg_trgm,citext\n");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].name == "gateway");
  CHECK((*rows)[0].routes.empty());
  CHECK((*rows)[1].grpc_port == 50061);
  CHECK((*rows)[1].metrics_port == 9461);
  CHECK((*rows)[1].routes == std::vector<std::string>{"crm.customer.v1"});
  CHECK((*rows)[1].extensions == std::vector<std::string>{"pg_trgm", "citext"});
  auto bad = ParseServiceTable("gateway 50051\n");
  CHECK(bad.status().message() ==
        "services table line 1: expected name grpc_port metrics_port schema routes extensions");
}

TEST_CASE("a service's database SQL is the script's with its values", "[testing]") {
  ServiceRow row;
  row.name = "ticketing";
  row.schema = "ticketing";
  const std::string sql = ServiceDatabaseSql("SELECT :'svc', :'schema', :'extensions';", row);
  CHECK(sql == "SELECT 'ticketing', 'ticketing', '-';");
  row.extensions = {"pg_trgm", "btree_gist"};
  CHECK(ServiceDatabaseSql(":'extensions'", row) == "'pg_trgm,btree_gist'");
}

}  // namespace
}  // namespace crm::testing
