// Throwaway databases for integration and e2e tests. The test script starts
// a Postgres and exports CRM_TEST_DB_URL (a superuser connection string);
// without it every test that needs a database FAILS, never skips.
#pragma once

#include <string>

namespace crm::testing {

// The admin connection string; fails the current test when unset.
std::string AdminUrl();

// Creates a fresh database and returns a connection string for it (as the
// superuser). The database is left behind: the whole cluster is throwaway.
std::string CreateDatabase(const std::string& prefix);

// Replaces (or adds) a keyword of a libpq keyword/value connection string.
std::string WithParam(const std::string& url, const std::string& key, const std::string& value);

// Runs SQL as the superuser on `url`.
void ExecSql(const std::string& url, const std::string& sql);

}  // namespace crm::testing
