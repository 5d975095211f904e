// Running work in a Postgres transaction: the one place where libpqxx
// exceptions become absl::Status, where the caller's remaining deadline
// becomes statement_timeout, where the tenant is set for row-level security,
// and where serialization failures and deadlocks are retried.
//
// Round trips: a transaction sends BEGIN and every setting in one message,
// then its statements, then COMMIT. A read of one statement goes through
// db::Reader instead: one round trip in all.
#pragma once

#include <functional>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"

namespace crm::db {

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct TxOptions {
  // Sets `app.tenant_id` for row-level security policies; empty for none.
  std::string tenant;
  absl::Time deadline = absl::InfiniteFuture();
  Isolation isolation = Isolation::kReadCommitted;
  int max_attempts = 5;
  bool read_only = false;
  // Dry run (validate_only): `fn` runs in full and sees its own writes, then
  // everything is rolled back even when it returns OK.
  bool rollback = false;
  // Sets `app.housekeeping` on: the `housekeeping` policies admit every
  // tenant's rows (background work across tenants: schedulers, queues,
  // pruning).
  bool housekeeping = false;
};

// Options for background work across tenants that must finish `within`.
TxOptions HousekeepingTx(absl::Duration within);

// The transaction every store works in (a pqxx::work is one too, for tests).
using Tx = pqxx::dbtransaction;
using TxFn = std::function<absl::Status(Tx&)>;

// Runs `fn` in a transaction and commits when it returns OK; rolls back
// otherwise. Retries the whole of `fn` on serialization failure/deadlock.
absl::Status RunInTransaction(Pool& pool, const TxOptions& options, const TxFn& fn);

// Maps an exception thrown by libpqxx (or anything else) to a status; logs
// the detail that is not safe to return. `what` names the statement.
absl::Status StatusFromException(std::exception_ptr error, absl::string_view what);
// The same for a Postgres error by its SQLSTATE; `detail` is logged only.
absl::Status StatusFromSqlState(const std::string& state, absl::string_view what,
                                absl::string_view detail);

// Runs a named prepared statement and records its latency as
// crm_db_query_duration_seconds{query=name}.
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& name);
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& name, Args&&... args);

// How a statement built at run time is planned.
enum class Planning {
  // For its values at every call: right whatever the values, as when a
  // rare value is best found through one index and a common one through
  // another (a customer's country).
  kEachCall,
  // Once per connection and SQL text, values as parameters (Postgres's
  // generic plan after a few calls): for lists whose best plan does not
  // depend on the values; planning a ticket list cost as much as running
  // it. At most kMaxDynamicStatements texts per connection, further ones
  // run unprepared, so no client can fill a backend with plans.
  kOncePerConnection,
};
inline constexpr size_t kMaxDynamicStatements = 128;

// Runs a statement built at run time (a list with a filter), timed the same
// way.
pqxx::result ExecDynamic(pqxx::transaction_base& tx, const std::string& name,
                         const std::string& sql, const std::vector<std::string>& params,
                         Planning planning = Planning::kEachCall);
// Forgets what ExecDynamic prepared on `conn` (the pool drops it).
void ForgetDynamicStatements(const pqxx::connection_base* conn);

// --- implementation details ---
// Records a statement's latency as crm_db_query_duration_seconds{query}.
void ObserveQuery(const std::string& name, absl::Duration took);

class QueryTimer {
 public:
  explicit QueryTimer(const std::string& name);
  ~QueryTimer();

 private:
  const std::string& name_;
  absl::Time start_;
};

template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const std::string& name, Args&&... args) {
  QueryTimer timer(name);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace crm::db
