// Reads without a thread per call. Reader::Read sends a one-statement read
// (the read settings and the statement, as db::ReadOnce does) on one of a
// few connections it owns, and returns at once; the rows arrive in a
// callback on the reader's own thread. Each connection carries a pipeline
// of reads, one Sync each, so every read is still its own implicit
// read-only transaction with its own tenant and timeout, while one wake-up
// of the reader (and of each Postgres backend) serves many of them.
//
// Reads made straight from a gRPC callback (server::RunRead) take the
// callback; work already on a worker thread may block with db::ReadOnce.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/db/rows.h"
#include "common/db/transaction.h"

namespace crm::db {

struct ReaderOptions {
  int connections = 2;
  // Reads in flight over all connections before Read answers
  // RESOURCE_EXHAUSTED.
  int max_pending = 1024;
};

class Reader {
 public:
  using Done = std::function<void(absl::StatusOr<Rows>)>;

  // Connects lazily with `pool`'s URL and prepares, on first use on each
  // connection, the statements registered with `pool`.
  Reader(Pool& pool, ReaderOptions options);
  // Fails the reads still in flight with UNAVAILABLE.
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Runs prepared statement `name` with `params` (text form) under
  // `options` (tenant, deadline; always read-only) and calls `done` exactly
  // once: on the reader's thread, or on the caller's before Read returns
  // when the read cannot be sent (no connection, too many in flight).
  void Read(const TxOptions& options, const std::string& name, std::vector<std::string> params,
            Done done);

  template <typename... Args>
  void Read(const TxOptions& options, const std::string& name, Done done, const Args&... args) {
    Read(options, name, {pqxx::to_string(args)...}, std::move(done));
  }

  // Read, waiting for the rows. Never from a Done callback (the reader's
  // thread would wait for itself).
  absl::StatusOr<Rows> ReadNow(const TxOptions& options, const std::string& name,
                               std::vector<std::string> params);

 private:
  struct Conn;
  using Finished = std::vector<std::pair<Done, absl::StatusOr<Rows>>>;
  // Under conn.mu: connects if need be, queues the statements the
  // connection lacks and the read, and sends what the socket takes.
  absl::Status Send(Conn& conn, const TxOptions& options, const std::string& name,
                    const std::vector<std::string>& params);
  void Watch(Conn& conn, int op, uint32_t events);
  void Loop();
  // Under conn.mu: collects what `conn` has received into `finished`.
  void Receive(Conn& conn, Finished* finished);
  // Under conn.mu: closes the connection; its reads fail UNAVAILABLE.
  void Fail(Conn& conn, Finished* finished);
  // Not under any lock: calls back the finished reads.
  void Complete(Finished* finished);

  Pool& pool_;
  ReaderOptions options_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::atomic<unsigned> next_{0};
  std::atomic<int> pending_{0};
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One read in one round trip, blocking: the statement `name` (registered
// with the reader's Pool) with `args` as parameters.
template <typename... Args>
absl::StatusOr<Rows> ReadOnce(Reader& reader, const TxOptions& options, const std::string& name,
                              const Args&... args) {
  return reader.ReadNow(options, name, {pqxx::to_string(args)...});
}

}  // namespace crm::db
