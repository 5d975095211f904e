#include "common/db/migrator.h"

#include <algorithm>
#include <exception>
#include <map>
#include <pqxx/pqxx>
#include <pqxx/transaction>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/transaction.h"

namespace crm::db {
namespace {

bool IsSnakeIdentifier(absl::string_view s) {
  if (s.empty() || !(absl::ascii_islower(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

absl::StatusOr<std::vector<Migration>> ParseMigrations(const std::vector<MigrationFile>& files) {
  std::map<int, Migration> by_version;
  for (const auto& f : files) {
    absl::string_view name = f.filename;
    if (name.size() < 10 || !absl::EndsWith(name, ".sql") || name[4] != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("migration file name must be NNNN_name.sql: ", f.filename));
    }
    int version = 0;
    if (!absl::ascii_isdigit(name[0]) || !absl::SimpleAtoi(name.substr(0, 4), &version) ||
        version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration version must be 4 digits from 0001: ", f.filename));
    }
    absl::string_view stem = name.substr(5, name.size() - 9);
    if (!IsSnakeIdentifier(stem)) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration name must be snake_case: ", f.filename));
    }
    Migration m;
    m.version = version;
    m.name = std::string(name.substr(0, name.size() - 4));
    m.sql = f.sql;
    m.checksum = crypto::Sha256Hex(f.sql);
    if (!by_version.emplace(version, std::move(m)).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate migration version ", version));
    }
  }
  std::vector<Migration> out;
  int expected = 1;
  for (auto& [version, m] : by_version) {
    if (version != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration versions must have no gaps: missing ", expected));
    }
    ++expected;
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<Migration>> PlanMigrations(
    const std::vector<Migration>& embedded, const std::vector<AppliedMigration>& applied) {
  std::map<int, const AppliedMigration*> done;
  for (const auto& a : applied) done[a.version] = &a;
  std::vector<Migration> pending;
  for (const auto& m : embedded) {
    auto it = done.find(m.version);
    if (it == done.end()) {
      pending.push_back(m);
      continue;
    }
    if (!pending.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database has migration ", m.version, " but not the earlier ", pending.front().version));
    }
    if (it->second->checksum != m.checksum || it->second->name != m.name) {
      return absl::FailedPreconditionError(
          absl::StrCat("applied migration ", it->second->name, " differs from this binary's copy (",
                       m.name, "): applied migrations must never be edited"));
    }
  }
  return pending;
}

Migrator::Migrator(Pool& pool, std::string schema, std::vector<MigrationFile> files)
    : pool_(pool), schema_(std::move(schema)), files_(std::move(files)) {}

absl::StatusOr<std::vector<AppliedMigration>> Migrator::ReadApplied(db::Tx& tx) {
  std::vector<AppliedMigration> applied;
  auto exists = tx.exec_params("SELECT to_regclass($1) IS NOT NULL",
                               absl::StrCat(schema_, ".schema_migrations"));
  if (!exists[0][0].as<bool>()) return applied;
  auto rows = tx.exec(absl::StrCat("SELECT version, name, checksum FROM ", schema_,
                                   ".schema_migrations ORDER BY version"));
  for (const auto& row : rows) {
    applied.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return applied;
}

absl::StatusOr<int> Migrator::Migrate() {
  if (!IsSnakeIdentifier(schema_)) {
    return absl::InvalidArgumentError(absl::StrCat("bad schema name: ", schema_));
  }
  CRM_ASSIGN_OR_RETURN(std::vector<Migration> embedded, ParseMigrations(files_));
  int applied_now = 0;
  TxOptions options;
  options.max_attempts = 3;
  absl::Status status = RunInTransaction(pool_, options, [&](db::Tx& tx) -> absl::Status {
    applied_now = 0;
    // Every replica serialises here; the loser sees the winner's work.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                   absl::StrCat("crm.migrate.", schema_));
    auto has_schema = tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema_);
    if (has_schema.empty()) tx.exec(absl::StrCat("CREATE SCHEMA ", schema_));
    tx.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", schema_,
                         ".schema_migrations (version integer PRIMARY KEY, name text NOT "
                         "NULL, checksum text NOT NULL, applied_time timestamptz NOT NULL "
                         "DEFAULT now())"));
    CRM_ASSIGN_OR_RETURN(auto applied, ReadApplied(tx));
    CRM_ASSIGN_OR_RETURN(auto pending, PlanMigrations(embedded, applied));
    for (const auto& m : pending) {
      tx.exec(m.sql);
      tx.exec_params(absl::StrCat("INSERT INTO ", schema_,
                                  ".schema_migrations (version, name, checksum) "
                                  "VALUES ($1, $2, $3)"),
                     m.version, m.name, m.checksum);
      log::Info("applied migration", {{"schema", schema_}, {"migration", m.name}});
      ++applied_now;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied_now;
}

absl::StatusOr<bool> Migrator::IsCurrent() {
  CRM_ASSIGN_OR_RETURN(std::vector<Migration> embedded, ParseMigrations(files_));
  bool current = false;
  TxOptions options;
  options.read_only = true;
  options.max_attempts = 1;
  options.deadline = absl::Now() + absl::Seconds(5);
  CRM_RETURN_IF_ERROR(RunInTransaction(pool_, options, [&](db::Tx& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(auto applied, ReadApplied(tx));
    auto pending = PlanMigrations(embedded, applied);
    current = pending.ok() && pending->empty();
    return absl::OkStatus();
  }));
  return current;
}

}  // namespace crm::db
