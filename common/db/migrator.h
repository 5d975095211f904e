// Forward-only schema migrations embedded in the binary (NNNN_name.sql),
// applied in one transaction under an advisory lock so that any number of
// replicas may start at once. Each applied file's SHA-256 is recorded; a
// binary whose copy of an applied migration differs refuses to run.
#pragma once

#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"

namespace crm::db {

struct MigrationFile {
  std::string filename;  // e.g. 0001_create_customers.sql
  std::string sql;
};

struct Migration {
  int version = 0;
  std::string name;  // filename without .sql
  std::string sql;
  std::string checksum;  // SHA-256 hex of sql
};

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
};

// Validates names (NNNN_snake_case.sql), requires versions 1..n without gaps
// or duplicates, and returns them in order.
absl::StatusOr<std::vector<Migration>> ParseMigrations(const std::vector<MigrationFile>& files);

// What to apply given what the database records. FAILED_PRECONDITION when an
// applied migration was edited (checksum or name differs) or when the
// database lacks an earlier version than one it has.
absl::StatusOr<std::vector<Migration>> PlanMigrations(const std::vector<Migration>& embedded,
                                                      const std::vector<AppliedMigration>& applied);

// The kit's own migrations (common/db/kit_migrations): the tables every
// service keeps in its schema (outbox, idempotency keys, consumer cursors,
// retention bookkeeping). `{schema}` in them stands for the service's schema.
std::vector<MigrationFile> KitMigrations();

class Migrator {
 public:
  // `track` names the record table, <schema>.<track>_migrations: "schema"
  // for a service's own files, "kit" for KitMigrations(), whose `{schema}`
  // is replaced by `schema`.
  Migrator(Pool& pool, std::string schema, std::vector<MigrationFile> files,
           std::string track = "schema");

  // Applies pending migrations; returns how many this call applied.
  absl::StatusOr<int> Migrate();
  // OK(true) when every embedded migration is applied with the same checksum.
  absl::StatusOr<bool> IsCurrent();

 private:
  absl::StatusOr<std::vector<AppliedMigration>> ReadApplied(db::Tx& tx);

  Pool& pool_;
  std::string schema_;
  std::vector<MigrationFile> files_;
  std::string table_;  // <schema>.<track>_migrations
};

}  // namespace crm::db
