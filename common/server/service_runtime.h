// What every service process assembles the same way: a connection pool, its
// schema's migrations, the executor for blocking work, and the server runner
// whose health follows the database and the migrations. A service adds its
// handlers to runner() between Create() and Start().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/migrator.h"
#include "common/db/pool.h"
#include "common/server/executor.h"
#include "common/server/runner.h"

namespace crm::server {

struct RuntimeConfig {
  std::string name;    // service name: metrics labels, logs
  std::string schema;  // the service's own Postgres schema
  std::string db_url;
  int db_pool_size = 8;      // also the number of worker threads
  int queue_capacity = 256;  // requests waiting for a worker
  bool migrate = true;       // apply migrations at start
  ServerOptions server;
};

class ServiceRuntime {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Create(
      const RuntimeConfig& config, std::vector<db::MigrationFile> migrations);
  ~ServiceRuntime();

  db::Pool& pool() { return *pool_; }
  Executor& executor() { return *executor_; }
  ServerRunner& runner() { return *runner_; }

  // Starts serving; health turns SERVING once the migrations are current.
  absl::Status Start();
  // Drains the server, then the executor. Idempotent.
  void Shutdown();

  // The Kubernetes migration Job's path: apply and return how many ran.
  static absl::StatusOr<int> MigrateOnly(const std::string& db_url, const std::string& schema,
                                         std::vector<db::MigrationFile> migrations);

 private:
  ServiceRuntime() = default;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::Migrator> migrator_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<ServerRunner> runner_;
  bool shut_down_ = false;
};

}  // namespace crm::server
