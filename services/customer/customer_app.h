// The customer service assembled: runtime (pool, migrations, executor,
// server) → store → handlers and event feed. main.cc fills the config from
// flags; tests build it in-process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/events/event_feed.h"
#include "common/server/service_runtime.h"
#include "services/customer/customer_service.h"
#include "services/customer/customer_store.h"

namespace crm::customer {

// The embedded migrations (generated from migrations/*.sql).
std::vector<db::MigrationFile> EmbeddedMigrations();

struct AppConfig {
  std::string db_url;
  int db_pool_size = 8;
  int queue_capacity = 256;
  std::string page_token_secret;  // at least 16 bytes, the same on every replica
  bool migrate = true;
  server::ServerOptions server;
};

class App {
 public:
  static absl::StatusOr<std::unique_ptr<App>> Start(const AppConfig& config);
  ~App();
  int port() const { return runtime_->runner().port(); }
  int metrics_port() const { return runtime_->runner().metrics_port(); }
  void Shutdown();
  void RunUntilSignal();

 private:
  App() = default;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::unique_ptr<CustomerStore> store_;
  std::unique_ptr<OrderStore> orders_;
  std::unique_ptr<BehaviorStore> behavior_;
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<CustomerServiceImpl> service_;
  std::unique_ptr<events::EventFeedService> feed_;
};

// Applies the migrations once and exits (the Kubernetes migration Job).
absl::StatusOr<int> MigrateOnly(const std::string& db_url);

}  // namespace crm::customer
