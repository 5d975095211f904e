#include "common/db/reader.h"

#include <libpq-fe.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/read_pipeline.h"

namespace crm::db {

struct Reader::Conn {
  struct Pending {
    Done done;
    ReadResults results;
    absl::Time start;
  };
  std::mutex mu;
  pg_conn* pg = nullptr;  // null until connected, and after a failure
  int fd = -1;
  std::set<std::string> prepared;  // statements prepared (or queued) here
  std::deque<Pending> pending;     // reads sent, in the order of their results
};

Reader::Reader(Pool& pool, ReaderOptions options) : pool_(pool), options_(options) {
  if (options_.connections < 1) options_.connections = 1;
  for (int i = 0; i < options_.connections; ++i) conns_.push_back(std::make_unique<Conn>());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.ptr = nullptr;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake);
  thread_ = std::thread([this] { Loop(); });
}

Reader::~Reader() {
  stop_ = true;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
  Finished finished;
  for (auto& conn : conns_) {
    std::lock_guard<std::mutex> lock(conn->mu);
    Fail(*conn, &finished);
  }
  Complete(&finished);
  close(wake_fd_);
  close(epoll_fd_);
}

void Reader::Read(const TxOptions& options, const std::string& name,
                  std::vector<std::string> params, Done done) {
  if (pending_.fetch_add(1) >= options_.max_pending) {
    --pending_;
    done(absl::ResourceExhaustedError("server busy: too many reads in flight; retry with backoff"));
    return;
  }
  Conn& conn = *conns_[next_++ % conns_.size()];
  Finished finished;
  {
    std::lock_guard<std::mutex> lock(conn.mu);
    const absl::Status status = Send(conn, options, name, params);
    if (status.ok()) {
      conn.pending.push_back(Conn::Pending{std::move(done), ReadResults(name), absl::Now()});
    } else {
      if (status.code() == absl::StatusCode::kUnavailable) Fail(conn, &finished);
      finished.emplace_back(std::move(done), status);
    }
  }
  Complete(&finished);
}

absl::StatusOr<Rows> Reader::ReadNow(const TxOptions& options, const std::string& name,
                                     std::vector<std::string> params) {
  std::promise<absl::StatusOr<Rows>> promise;
  std::future<absl::StatusOr<Rows>> rows = promise.get_future();
  Read(options, name, std::move(params),
       [&promise](absl::StatusOr<Rows> result) { promise.set_value(std::move(result)); });
  return rows.get();
}

absl::Status Reader::Send(Conn& conn, const TxOptions& options, const std::string& name,
                          const std::vector<std::string>& params) {
  if (options.deadline <= absl::Now()) {
    return absl::DeadlineExceededError("deadline exceeded before the database call");
  }
  if (conn.pg == nullptr) {
    pg_conn* pg = PQconnectdb(pool_.url().c_str());
    if (PQstatus(pg) != CONNECTION_OK || PQsetnonblocking(pg, 1) != 0 ||
        PQenterPipelineMode(pg) != 1) {
      log::Warning("database connection failed",
                   {{"pool", "reader"}, {"error", PQerrorMessage(pg)}});
      PQfinish(pg);
      return absl::UnavailableError("database unavailable");
    }
    conn.pg = pg;
    conn.fd = PQsocket(pg);
    Watch(conn, EPOLL_CTL_ADD, EPOLLIN);
  }
  // Statements this connection has not seen go ahead of the read, in the
  // same pipeline; their results come before the read's own.
  const std::string settings = kReadSettingsStatement;
  for (const std::string* statement : {&settings, &name}) {
    if (conn.prepared.count(*statement) > 0) continue;
    const std::string sql =
        statement == &settings ? kReadSettingsSql : pool_.StatementSql(*statement);
    if (sql.empty()) {
      log::Error("read of a statement nobody registered", {{"query", *statement}});
      return absl::InternalError("internal database error");
    }
    if (PQsendPrepare(conn.pg, statement->c_str(), sql.c_str(), 0, nullptr) != 1) {
      return absl::UnavailableError("database unavailable");
    }
    conn.prepared.insert(*statement);
  }
  CRM_RETURN_IF_ERROR(QueueRead(conn.pg, options, name, params));
  switch (PQflush(conn.pg)) {
    case 0:
      return absl::OkStatus();
    case 1:  // the socket is full: the reader's thread sends the rest
      Watch(conn, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
      return absl::OkStatus();
    default:
      return absl::UnavailableError("database unavailable");
  }
}

void Reader::Watch(Conn& conn, int op, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &conn;
  epoll_ctl(epoll_fd_, op, conn.fd, &ev);
}

void Reader::Complete(Finished* finished) {
  for (auto& [done, result] : *finished) {
    --pending_;
    done(std::move(result));
  }
}

void Reader::Loop() {
  epoll_event events[16];
  while (!stop_) {
    const int n = epoll_wait(epoll_fd_, events, 16, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) continue;  // woken to stop
      Conn& conn = *static_cast<Conn*>(events[i].data.ptr);
      Finished finished;
      {
        std::lock_guard<std::mutex> lock(conn.mu);
        if (conn.pg == nullptr) continue;
        if ((events[i].events & EPOLLOUT) != 0) {
          const int flushed = PQflush(conn.pg);
          if (flushed == 0) {
            Watch(conn, EPOLL_CTL_MOD, EPOLLIN);
          } else if (flushed < 0) {
            Fail(conn, &finished);
          }
        }
        if ((events[i].events & ~EPOLLOUT) != 0) Receive(conn, &finished);
      }
      Complete(&finished);
    }
  }
}

void Reader::Receive(Conn& conn, Finished* finished) {
  if (conn.pg == nullptr) return;
  if (PQconsumeInput(conn.pg) != 1) {
    Fail(conn, finished);
    return;
  }
  // PQisBusy says whether PQgetResult would block. A NULL ends each
  // statement's results; two in a row mean nothing more has arrived.
  int nulls = 0;
  while (!conn.pending.empty() && PQisBusy(conn.pg) == 0 && nulls < 2) {
    PGresult* result = PQgetResult(conn.pg);
    if (result == nullptr) {
      ++nulls;
      continue;
    }
    nulls = 0;
    Conn::Pending& front = conn.pending.front();
    if (front.results.Add(result)) {
      ObserveQuery(front.results.name(), absl::Now() - front.start);
      finished->emplace_back(std::move(front.done), front.results.Take());
      conn.pending.pop_front();
    }
  }
  if (PQstatus(conn.pg) != CONNECTION_OK) Fail(conn, finished);
}

void Reader::Fail(Conn& conn, Finished* finished) {
  if (conn.pg != nullptr) {
    if (!stop_) {
      log::Warning("database connection lost",
                   {{"pool", "reader"}, {"error", PQerrorMessage(conn.pg)}});
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
    PQfinish(conn.pg);
    conn.pg = nullptr;
    conn.fd = -1;
  }
  conn.prepared.clear();
  for (auto& pending : conn.pending) {
    finished->emplace_back(std::move(pending.done), absl::UnavailableError("database unavailable"));
  }
  conn.pending.clear();
}

}  // namespace crm::db
