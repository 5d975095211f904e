// The gateway assembled: runtime (pool, migrations, executor, server) → key
// store → admin service + generic proxy. main.cc fills the config; tests
// build it in-process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/server/service_runtime.h"
#include "services/gateway/api_key_service.h"
#include "services/gateway/api_key_store.h"
#include "services/gateway/proxy.h"

namespace crm::gateway {

inline constexpr char kSchema[] = "gateway";

std::vector<db::MigrationFile> EmbeddedMigrations();

struct AppConfig {
  std::string db_url;
  int db_pool_size = 4;
  int queue_capacity = 1024;
  bool migrate = true;
  std::string routes;       // "crm.customer.v1=127.0.0.1:50061,..."
  std::string admin_token;  // empty disables the admin API
  absl::Duration key_cache_ttl = absl::Seconds(5);
  ProxyOptions proxy;
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
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<ApiKeyServiceImpl> admin_;
  std::unique_ptr<Proxy> proxy_;
};

absl::StatusOr<int> MigrateOnly(const std::string& db_url);

// The CLI path: creates a key directly in the database and returns it.
absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> CreateApiKeyOffline(
    const std::string& db_url, const crm::gateway::v1::ApiKey& key);

}  // namespace crm::gateway
