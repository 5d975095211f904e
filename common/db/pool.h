// A bounded pool of libpqxx connections. Connections open lazily up to
// `size`; a caller waits at most until its deadline for a free one.
// Statements registered with Prepare() are prepared on every connection.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace prometheus {
class Gauge;
class Histogram;
}  // namespace prometheus

namespace crm::db {

struct PoolOptions {
  std::string url;  // libpq connection string or postgresql:// URL
  int size = 8;
  std::string name = "default";  // metrics label
};

// <service>_<verb>_<noun>: [a-z][a-z0-9]* in at least three parts joined by '_'.
bool IsStatementName(absl::string_view name);

class Pool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Registers a named statement on every connection, present and future.
  // The name is the statement's identity everywhere (metrics label, log key):
  // <service>_<verb>_<noun>, snake case. Registering a name again with the
  // same SQL does nothing, so every store registers what it runs; the same
  // name with other SQL is a programming error and stops the process.
  void Prepare(std::string name, std::string sql);
  void Prepare(const std::map<std::string, std::string>& statements);

  // The SQL registered under `name`; empty when there is none.
  std::string StatementSql(const std::string& name);

  // A connection, or UNAVAILABLE (cannot connect) / DEADLINE_EXCEEDED (none
  // free before `deadline`).
  absl::StatusOr<Lease> Acquire(absl::Time deadline);

  int size() const { return options_.size; }
  const std::string& url() const { return options_.url; }

 private:
  void Release(std::unique_ptr<pqxx::connection> conn);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();

  PoolOptions options_;
  std::vector<std::pair<std::string, std::string>> statements_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<pqxx::connection>> idle_;
  // How many of statements_ each open connection has registered.
  std::unordered_map<const pqxx::connection*, size_t> prepared_;
  int open_ = 0;  // idle + leased + being opened
  prometheus::Gauge* in_use_gauge_;
  prometheus::Histogram* wait_histogram_;
};

}  // namespace crm::db
