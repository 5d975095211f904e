#include "services/gateway/gateway_app.h"

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::gateway {

absl::StatusOr<std::unique_ptr<App>> App::Start(const AppConfig& config) {
  CRM_ASSIGN_OR_RETURN(std::vector<Route> routes, ParseRoutes(config.routes));
  std::unique_ptr<App> app(new App());
  app->pool_ =
      std::make_unique<db::Pool>(db::PoolOptions{config.db_url, config.db_pool_size, "gateway"});
  app->migrator_ = std::make_unique<db::Migrator>(*app->pool_, kSchema, EmbeddedMigrations());
  if (config.migrate) {
    CRM_ASSIGN_OR_RETURN(int applied, app->migrator_->Migrate());
    log::Info("migrations current", {{"applied_now", absl::StrCat(applied)}});
  }
  app->executor_ = std::make_unique<server::Executor>(config.db_pool_size, config.queue_capacity);
  app->keys_ = std::make_unique<ApiKeyStore>(*app->pool_, config.key_cache_ttl);
  app->admin_ =
      std::make_unique<ApiKeyServiceImpl>(*app->keys_, *app->executor_, config.admin_token);
  app->proxy_ = std::make_unique<Proxy>(
      routes, *app->keys_, *app->executor_,
      ProxyOptions{config.default_deadline, config.rate_limit_qps, config.rate_limit_burst});
  app->runner_ = std::make_unique<server::ServerRunner>(config.server);
  app->runner_->AddService(app->admin_.get());
  app->runner_->SetGenericService(app->proxy_.get());
  db::Migrator* migrator = app->migrator_.get();
  app->runner_->SetReadinessCheck([migrator]() -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool current, migrator->IsCurrent());
    if (!current) return absl::FailedPreconditionError("migrations not current");
    return absl::OkStatus();
  });
  CRM_RETURN_IF_ERROR(app->runner_->Start());
  for (const auto& r : routes) {
    log::Info("route", {{"package", r.package}, {"backend", r.address}});
  }
  return app;
}

App::~App() { Shutdown(); }

void App::Shutdown() {
  if (runner_ == nullptr) return;
  runner_->Shutdown();
  executor_->Shutdown();
}

void App::RunUntilSignal() {
  runner_->RunUntilSignal();
  Shutdown();
}

absl::StatusOr<int> MigrateOnly(const std::string& db_url) {
  db::Pool pool(db::PoolOptions{db_url, 1, "gateway-migrate"});
  db::Migrator migrator(pool, kSchema, EmbeddedMigrations());
  return migrator.Migrate();
}

absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> CreateApiKeyOffline(
    const std::string& db_url, const crm::gateway::v1::ApiKey& key) {
  db::Pool pool(db::PoolOptions{db_url, 1, "gateway-cli"});
  db::Migrator migrator(pool, kSchema, EmbeddedMigrations());
  CRM_RETURN_IF_ERROR(migrator.Migrate().status());
  ApiKeyStore store(pool, absl::ZeroDuration());
  return store.Create(key);
}

}  // namespace crm::gateway
