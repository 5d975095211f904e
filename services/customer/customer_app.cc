#include "services/customer/customer_app.h"

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::customer {

absl::StatusOr<std::unique_ptr<App>> App::Start(const AppConfig& config) {
  if (config.page_token_secret.size() < 16) {
    return absl::InvalidArgumentError("page token secret must be at least 16 bytes");
  }
  std::unique_ptr<App> app(new App());
  app->pool_ =
      std::make_unique<db::Pool>(db::PoolOptions{config.db_url, config.db_pool_size, "customer"});
  app->migrator_ = std::make_unique<db::Migrator>(*app->pool_, kSchema, EmbeddedMigrations());
  if (config.migrate) {
    CRM_ASSIGN_OR_RETURN(int applied, app->migrator_->Migrate());
    log::Info("migrations current", {{"applied_now", absl::StrCat(applied)}});
  }
  app->executor_ = std::make_unique<server::Executor>(config.db_pool_size, config.queue_capacity);
  app->store_ =
      std::make_unique<CustomerStore>(*app->pool_, api::PageTokenCodec(config.page_token_secret));
  app->service_ = std::make_unique<CustomerServiceImpl>(*app->store_, *app->executor_);
  app->feed_ = std::make_unique<events::EventFeedService>(*app->pool_, *app->executor_, kSchema,
                                                          config.db_url);
  app->runner_ = std::make_unique<server::ServerRunner>(config.server);
  app->runner_->AddService(app->service_.get());
  app->runner_->AddService(app->feed_.get());
  db::Migrator* migrator = app->migrator_.get();
  app->runner_->SetReadinessCheck([migrator]() -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool current, migrator->IsCurrent());
    if (!current) return absl::FailedPreconditionError("migrations not current");
    return absl::OkStatus();
  });
  CRM_RETURN_IF_ERROR(app->runner_->Start());
  app->feed_->Start();
  return app;
}

App::~App() { Shutdown(); }

void App::Shutdown() {
  if (runner_ == nullptr) return;
  feed_->Stop();
  runner_->Shutdown();
  executor_->Shutdown();
}

void App::RunUntilSignal() {
  runner_->RunUntilSignal();  // returns after the runner drained
  Shutdown();
}

absl::StatusOr<int> MigrateOnly(const std::string& db_url) {
  db::Pool pool(db::PoolOptions{db_url, 1, "customer-migrate"});
  db::Migrator migrator(pool, kSchema, EmbeddedMigrations());
  return migrator.Migrate();
}

}  // namespace crm::customer
