#include "common/db/transaction.h"

#include <prometheus/histogram.h>

#include <exception>
#include <functional>
#include <mutex>
#include <pqxx/except>
#include <pqxx/pqxx>
#include <pqxx/prepared_statement>
#include <string>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/metrics.h"

namespace crm::db {
namespace {

prometheus::Family<prometheus::Histogram>& QueryFamily() {
  static auto& family = prometheus::BuildHistogram()
                            .Name("crm_db_query_duration_seconds")
                            .Help("Latency of database statements by name")
                            .Register(metrics::Registry());
  return family;
}

prometheus::Histogram& QueryHistogram(const std::string& name) {
  static std::mutex mu;
  static auto* cache = new std::unordered_map<std::string, prometheus::Histogram*>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(name);
  if (it != cache->end()) return *it->second;
  auto* h = &QueryFamily().Add(
      {{"query", name}}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                 0.025, 0.05, 0.1, 0.25, 1, 5});
  cache->emplace(name, h);
  return *h;
}

const char* IsolationSql(Isolation isolation) {
  switch (isolation) {
    case Isolation::kReadCommitted:
      return "READ COMMITTED";
    case Isolation::kRepeatableRead:
      return "REPEATABLE READ";
    case Isolation::kSerializable:
      return "SERIALIZABLE";
  }
  return "READ COMMITTED";
}

bool IsRetryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         absl::StartsWith(status.message(), "transaction conflict");
}

}  // namespace

QueryTimer::QueryTimer(const std::string& name) : name_(name), start_(absl::Now()) {}
QueryTimer::~QueryTimer() { ObserveQuery(name_, absl::Now() - start_); }

void ObserveQuery(const std::string& name, absl::Duration took) {
  QueryHistogram(name).Observe(absl::ToDoubleSeconds(took));
}

pqxx::result Exec(pqxx::transaction_base& tx, const std::string& name) {
  QueryTimer timer(name);
  return tx.exec_prepared(name);
}

namespace {

// The dynamic statements prepared on each live connection: name → SQL.
struct DynamicStatements {
  std::mutex mu;
  std::unordered_map<const pqxx::connection_base*, std::unordered_map<std::string, std::string>>
      prepared;
};

DynamicStatements& Dynamic() {
  static auto* dynamic = new DynamicStatements;
  return *dynamic;
}

}  // namespace

pqxx::result ExecDynamic(pqxx::transaction_base& tx, const std::string& name,
                         const std::string& sql, const std::vector<std::string>& params,
                         Planning planning) {
  QueryTimer timer(name);
  if (planning == Planning::kEachCall) {
    return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  }
  // Named by a hash of the text (under Postgres's 63 characters); two texts
  // with one hash on a connection: the second runs unprepared.
  const std::string prepared =
      absl::StrCat(name.substr(0, 40), "_", absl::Hex(std::hash<std::string>{}(sql)));
  pqxx::connection_base& conn = tx.conn();
  bool use = false;
  {
    DynamicStatements& dynamic = Dynamic();
    std::lock_guard<std::mutex> lock(dynamic.mu);
    auto& mine = dynamic.prepared[&conn];
    auto it = mine.find(prepared);
    if (it != mine.end()) {
      use = it->second == sql;
    } else if (mine.size() < kMaxDynamicStatements) {
      mine.emplace(prepared, sql);
      use = true;
    }
  }
  if (!use) return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
  conn.prepare(prepared, sql);  // libpqxx keeps it; the server gets it on first use
  return tx.exec_prepared(prepared, pqxx::prepare::make_dynamic_params(params));
}

void ForgetDynamicStatements(const pqxx::connection_base* conn) {
  DynamicStatements& dynamic = Dynamic();
  std::lock_guard<std::mutex> lock(dynamic.mu);
  dynamic.prepared.erase(conn);
}

absl::Status StatusFromException(std::exception_ptr error, absl::string_view what) {
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::serialization_failure& e) {  // not a pqxx::sql_error in libpqxx 6
    return StatusFromSqlState("40001", what, e.what());
  } catch (const pqxx::deadlock_detected& e) {
    return StatusFromSqlState("40P01", what, e.what());
  } catch (const pqxx::broken_connection& e) {
    log::Warning("database connection lost", {{"query", std::string(what)}, {"error", e.what()}});
    return absl::UnavailableError("database unavailable");
  } catch (const pqxx::in_doubt_error& e) {
    log::Error("commit outcome unknown", {{"query", std::string(what)}, {"error", e.what()}});
    return absl::UnavailableError("database connection lost during commit; outcome unknown");
  } catch (const pqxx::sql_error& e) {
    return StatusFromSqlState(e.sqlstate(), what, e.what());
  } catch (const std::exception& e) {
    log::Error("unexpected error", {{"query", std::string(what)}, {"error", e.what()}});
    return absl::InternalError("internal error");
  } catch (...) {
    return absl::InternalError("internal error");
  }
}

absl::Status StatusFromSqlState(const std::string& state, absl::string_view what,
                                absl::string_view detail) {
  if (state == "23505") return absl::AlreadyExistsError("already exists");
  if (state == "40001") {
    return absl::AbortedError("transaction conflict (serialization failure); retry");
  }
  if (state == "40P01") return absl::AbortedError("transaction conflict (deadlock); retry");
  if (state == "57014") return absl::DeadlineExceededError("deadline exceeded in database");
  // Connection exceptions; the server shutting down or ending the session.
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    log::Warning(
        "database connection lost",
        {{"query", std::string(what)}, {"sqlstate", state}, {"error", std::string(detail)}});
    return absl::UnavailableError("database unavailable");
  }
  if (state == "22P02" || state == "22007" || state == "22008" || state == "22003" ||
      state == "22021") {
    return absl::InvalidArgumentError("invalid value");
  }
  log::Error("database error",
             {{"query", std::string(what)}, {"sqlstate", state}, {"error", std::string(detail)}});
  return absl::InternalError("internal database error");
}

namespace {

// A read-committed (or other isolation) transaction whose BEGIN carries the
// per-transaction settings, so that opening it is one round trip.
class Transaction final : public pqxx::internal::basic_transaction {
 public:
  Transaction(pqxx::connection_base& conn, std::string begin_sql)
      : pqxx::internal::namedclass("crm_transaction"),
        pqxx::internal::basic_transaction(conn, "READ COMMITTED", pqxx::read_write),
        begin_sql_(std::move(begin_sql)) {
    Begin();
  }
  ~Transaction() noexcept override { End(); }

 private:
  void do_begin() override { direct_exec(begin_sql_.c_str()); }
  const std::string begin_sql_;
};

// The settings every statement of a call runs under: statement timeout from
// the remaining deadline, the tenant for row-level security.
void AppendSettings(const TxOptions& options, absl::Duration remaining, pqxx::connection_base& conn,
                    std::string* sql) {
  if (options.deadline != absl::InfiniteFuture()) {
    const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(remaining));
    absl::StrAppend(sql, "SET LOCAL statement_timeout = ", ms, ";");
  }
  if (!options.tenant.empty()) {
    absl::StrAppend(sql, "SELECT set_config('app.tenant_id', ", conn.quote(options.tenant),
                    ", true);");
  }
  if (options.housekeeping)
    absl::StrAppend(sql, "SELECT set_config('app.housekeeping', 'on', true);");
}

}  // namespace

TxOptions HousekeepingTx(absl::Duration within) {
  TxOptions options;
  options.deadline = absl::Now() + within;
  options.housekeeping = true;
  return options;
}

namespace {

// A connection for work that still has time left before options.deadline;
// `remaining` is that time (the statement timeout to set).
absl::StatusOr<Pool::Lease> LeaseWithTimeLeft(Pool& pool, const TxOptions& options,
                                              absl::Duration* remaining) {
  *remaining = options.deadline - absl::Now();
  if (*remaining <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("deadline exceeded before the database call");
  }
  return pool.Acquire(options.deadline);
}

}  // namespace

absl::Status RunInTransaction(Pool& pool, const TxOptions& options, const TxFn& fn) {
  absl::Status last;
  for (int attempt = 1; attempt <= std::max(1, options.max_attempts); ++attempt) {
    absl::Duration remaining;
    auto lease = LeaseWithTimeLeft(pool, options, &remaining);
    if (!lease.ok()) return lease.status();
    try {
      // BEGIN and every setting in one round trip.
      std::string begin = absl::StrCat("BEGIN ISOLATION LEVEL ", IsolationSql(options.isolation),
                                       options.read_only ? " READ ONLY" : "", ";");
      AppendSettings(options, remaining, lease->conn(), &begin);
      Transaction tx(lease->conn(), std::move(begin));
      absl::Status status = fn(tx);
      if (!status.ok()) {
        tx.abort();
        if (IsRetryable(status)) {
          last = status;
          continue;
        }
        return status;
      }
      if (options.rollback) {
        tx.abort();
      } else {
        tx.commit();
      }
      return absl::OkStatus();
    } catch (...) {
      last = StatusFromException(std::current_exception(), "transaction");
      if (!IsRetryable(last)) return last;
    }
  }
  return last;
}

}  // namespace crm::db
