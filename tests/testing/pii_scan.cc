#include "tests/testing/pii_scan.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

namespace crm::testing {

std::vector<std::string> PersonalValueLeaks(const std::string& db_url, const std::string& schema,
                                            const std::vector<std::string>& values,
                                            size_t min_columns) {
  pqxx::connection conn(db_url);
  pqxx::nontransaction tx(conn);
  auto columns = tx.exec_params(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE "
      "table_schema = $1 AND data_type IN ('text', 'jsonb', 'bytea', 'ARRAY', "
      "'character varying')",
      schema);
  REQUIRE(columns.size() >= min_columns);
  std::vector<std::string> leaks;
  for (const auto& col : columns) {
    const std::string table = col[0].as<std::string>();
    const std::string column = col[1].as<std::string>();
    const std::string type = col[2].as<std::string>();
    std::string expr = "\"" + column + "\"::text";
    if (type == "bytea") expr = "encode(\"" + column + "\", 'escape')";
    for (const auto& value : values) {
      auto n = tx.exec_params(
          "SELECT count(*) FROM " + schema + "." + table + " WHERE strpos(" + expr + ", $1) > 0",
          value);
      if (n[0][0].as<int>() > 0) leaks.push_back(table + "." + column + " has " + value);
    }
  }
  return leaks;
}

}  // namespace crm::testing
