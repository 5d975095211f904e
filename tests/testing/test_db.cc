#include "tests/testing/test_db.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"

namespace crm::testing {

std::string AdminUrl() {
  const char* url = std::getenv("CRM_TEST_DB_URL");
  if (url == nullptr || *url == '\0') {
    FAIL("CRM_TEST_DB_URL is not set: run ./scripts/test, which starts a throwaway Postgres");
  }
  return url;
}

std::string WithParam(const std::string& url, const std::string& key, const std::string& value) {
  // libpq takes the last occurrence of a keyword.
  return absl::StrCat(url, " ", key, "=", value);
}

void ExecSql(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

std::string CreateDatabase(const std::string& prefix) {
  const std::string admin = AdminUrl();
  std::string suffix = crypto::NewUuid().substr(0, 8);
  const std::string name = absl::StrCat("crm_t_", prefix, "_", suffix);
  ExecSql(admin, absl::StrCat("CREATE DATABASE ", name));
  return WithParam(admin, "dbname", name);
}

}  // namespace crm::testing
