// The customer service assembled: pool → migrations → store → handlers →
// server. main.cc fills the config from flags; tests build it in-process.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/db/migrator.h"
#include "common/db/pool.h"
#include "common/events/event_feed.h"
#include "common/server/executor.h"
#include "common/server/runner.h"
#include "services/customer/customer_service.h"
#include "services/customer/customer_store.h"

namespace crm::customer {

// The embedded migrations (generated from migrations/*.sql).
std::vector<db::MigrationFile> EmbeddedMigrations();

struct AppConfig {
  std::string db_url;
  int db_pool_size = 8;
  int queue_capacity = 256;
  std::string page_token_secret;
  bool migrate = true;  // apply migrations at start
  server::ServerOptions server;
};

class App {
 public:
  static absl::StatusOr<std::unique_ptr<App>> Start(const AppConfig& config);
  ~App();
  int port() const { return runner_->port(); }
  int metrics_port() const { return runner_->metrics_port(); }
  void Shutdown();
  void RunUntilSignal();

 private:
  App() = default;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::Migrator> migrator_;
  std::unique_ptr<server::Executor> executor_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<CustomerServiceImpl> service_;
  std::unique_ptr<events::EventFeedService> feed_;
  std::unique_ptr<server::ServerRunner> runner_;
};

// Applies the migrations once and exits (the Kubernetes migration Job).
absl::StatusOr<int> MigrateOnly(const std::string& db_url);

}  // namespace crm::customer
