// One read as a libpq pipeline (db::Reader's wire format): the read
// settings (kReadSettingsStatement: read-only, statement timeout, tenant),
// then the statement, then one Sync, so both run as one implicit
// transaction; both are prepared and bound, never parsed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/rows.h"
#include "common/db/transaction.h"

struct pg_conn;
struct pg_result;

namespace crm::db {

// What SET TRANSACTION READ ONLY, SET LOCAL statement_timeout and the
// tenant's set_config do in a transaction, as one prepared statement: $1 the
// statement timeout in ms, $2 the tenant; NULL leaves either as it is.
inline constexpr char kReadSettingsStatement[] = "db_apply_read_settings";
inline constexpr char kReadSettingsSql[] =
    "SELECT set_config('transaction_read_only', 'on', true), "
    "CASE WHEN $1::text IS NOT NULL THEN set_config('statement_timeout', $1, true) END, "
    "CASE WHEN $2::text IS NOT NULL THEN set_config('app.tenant_id', $2, true) END";

// Queues the read on `pg`, which is in pipeline mode and has both statements
// prepared or queued for preparing. DEADLINE_EXCEEDED when no time is left;
// UNAVAILABLE when libpq refuses (the connection is gone).
absl::Status QueueRead(pg_conn* pg, const TxOptions& options, const std::string& name,
                       const std::vector<std::string>& params);

// The results of one queued read, up to and including its Sync.
class ReadResults {
 public:
  explicit ReadResults(std::string name) : name_(std::move(name)) {}
  // Takes `result` (ownership); true when it was the read's Sync.
  bool Add(pg_result* result);
  // The statement's rows, or the first error of the read.
  absl::StatusOr<Rows> Take();
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  absl::Status error_;
  Rows rows_;
};

}  // namespace crm::db
