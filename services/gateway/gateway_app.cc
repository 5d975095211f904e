#include "services/gateway/gateway_app.h"

#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::gateway {

absl::StatusOr<std::unique_ptr<App>> App::Start(const AppConfig& config) {
  CRM_ASSIGN_OR_RETURN(std::vector<Route> routes, ParseRoutes(config.routes));
  std::unique_ptr<App> app(new App());
  server::RuntimeConfig rt{
      "gateway",      kSchema,      config.db_url, config.db_pool_size, config.queue_capacity,
      config.migrate, config.server};
  CRM_ASSIGN_OR_RETURN(app->runtime_, server::ServiceRuntime::Create(rt, EmbeddedMigrations()));
  server::ServiceRuntime& runtime = *app->runtime_;
  app->keys_ = std::make_unique<ApiKeyStore>(runtime.pool(), config.key_cache_ttl);
  app->admin_ =
      std::make_unique<ApiKeyServiceImpl>(*app->keys_, runtime.executor(), config.admin_token);
  app->proxy_ = std::make_unique<Proxy>(routes, *app->keys_, runtime.executor(), config.proxy);
  runtime.runner().AddService(app->admin_.get());
  runtime.runner().SetGenericService(app->proxy_.get());
  CRM_RETURN_IF_ERROR(runtime.Start());
  for (const auto& r : routes) {
    log::Info("route", {{"package", r.package}, {"backend", r.address}});
  }
  return app;
}

App::~App() { Shutdown(); }

void App::Shutdown() {
  if (runtime_ != nullptr) runtime_->Shutdown();
}

void App::RunUntilSignal() {
  runtime_->runner().RunUntilSignal();
  Shutdown();
}

absl::StatusOr<int> MigrateOnly(const std::string& db_url) {
  return server::ServiceRuntime::MigrateOnly(db_url, kSchema, EmbeddedMigrations());
}

absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> CreateApiKeyOffline(
    const std::string& db_url, const crm::gateway::v1::ApiKey& key) {
  CRM_RETURN_IF_ERROR(MigrateOnly(db_url).status());
  db::Pool pool(db::PoolOptions{db_url, 1, "gateway-cli"});
  ApiKeyStore store(pool, absl::ZeroDuration());
  return store.Create(key);
}

}  // namespace crm::gateway
