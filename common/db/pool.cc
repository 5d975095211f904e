#include "common/db/pool.h"

#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <cstdlib>
#include <exception>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/metrics.h"
#include "common/db/transaction.h"

namespace crm::db {

Pool::Pool(PoolOptions options) : options_(std::move(options)) {
  if (options_.size < 1) options_.size = 1;
  in_use_gauge_ = &prometheus::BuildGauge()
                       .Name("crm_db_pool_connections_in_use")
                       .Help("Connections currently leased from the pool")
                       .Register(metrics::Registry())
                       .Add({{"pool", options_.name}});
  wait_histogram_ = &prometheus::BuildHistogram()
                         .Name("crm_db_pool_wait_seconds")
                         .Help("Time spent waiting for a pooled connection")
                         .Register(metrics::Registry())
                         .Add({{"pool", options_.name}}, prometheus::Histogram::BucketBoundaries{
                                                             0.0001, 0.001, 0.01, 0.1, 1, 5});
}

Pool::~Pool() {
  for (const auto& conn : idle_) ForgetDynamicStatements(conn.get());
}

bool IsStatementName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '_');
  if (parts.size() < 3) return false;
  for (absl::string_view p : parts) {
    if (p.empty() || !absl::ascii_islower(p[0])) return false;
    for (char c : p) {
      if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c)) return false;
    }
  }
  return true;
}

void Pool::Prepare(std::string name, std::string sql) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!IsStatementName(name)) {
    log::Error("statement name must be <service>_<verb>_<noun>", {{"query", name}});
    std::abort();
  }
  for (const auto& [existing, existing_sql] : statements_) {
    if (existing != name) continue;
    if (existing_sql == sql) return;
    log::Error("two statements share one name", {{"query", name}});
    std::abort();
  }
  statements_.emplace_back(std::move(name), std::move(sql));
}

void Pool::Prepare(const std::map<std::string, std::string>& statements) {
  for (const auto& [name, sql] : statements) Prepare(name, sql);
}

std::string Pool::StatementSql(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [existing, sql] : statements_) {
    if (existing == name) return sql;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Pool::Connect() {
  try {
    return std::make_unique<pqxx::connection>(options_.url);
  } catch (const std::exception& e) {
    log::Warning("database connection failed", {{"pool", options_.name}, {"error", e.what()}});
    return absl::UnavailableError("database unavailable");
  }
}

absl::StatusOr<Pool::Lease> Pool::Acquire(absl::Time deadline) {
  const absl::Time start = absl::Now();
  std::unique_lock<std::mutex> lock(mu_);
  while (idle_.empty() && open_ >= options_.size) {
    if (cv_.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout &&
        idle_.empty() && open_ >= options_.size) {
      wait_histogram_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      return absl::DeadlineExceededError("timed out waiting for a database connection");
    }
  }
  std::unique_ptr<pqxx::connection> conn;
  if (!idle_.empty()) {
    // The most recently used connection: its backend has the working set
    // mapped and cached, where a long-idle one would start cold.
    conn = std::move(idle_.back());
    idle_.pop_back();
  } else {
    ++open_;
    lock.unlock();
    auto opened = Connect();
    lock.lock();
    if (!opened.ok()) {
      --open_;
      cv_.notify_one();
      return opened.status();
    }
    conn = std::move(opened).value();
  }
  // Register statements added since this connection last saw the list
  // (libpqxx prepares them lazily, on first use).
  size_t& done = prepared_[conn.get()];
  for (; done < statements_.size(); ++done) {
    conn->prepare(statements_[done].first, statements_[done].second);
  }
  lock.unlock();
  wait_histogram_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  in_use_gauge_->Increment();
  return Lease(this, std::move(conn));
}

void Pool::Release(std::unique_ptr<pqxx::connection> conn) {
  in_use_gauge_->Decrement();
  std::lock_guard<std::mutex> lock(mu_);
  if (conn != nullptr && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    prepared_.erase(conn.get());
    ForgetDynamicStatements(conn.get());
    --open_;  // broken: a later Acquire opens a fresh one
  }
  cv_.notify_one();
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(std::move(conn_));
}

}  // namespace crm::db
