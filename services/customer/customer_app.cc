#include "services/customer/customer_app.h"

#include "common/base/status.h"

namespace crm::customer {

absl::StatusOr<std::unique_ptr<App>> App::Start(const AppConfig& config) {
  if (config.page_token_secret.size() < 16) {
    return absl::InvalidArgumentError("page token secret must be at least 16 bytes");
  }
  std::unique_ptr<App> app(new App());
  server::RuntimeConfig rt{
      "customer",     kSchema,      config.db_url, config.db_pool_size, config.queue_capacity,
      config.migrate, config.server};
  CRM_ASSIGN_OR_RETURN(app->runtime_, server::ServiceRuntime::Create(rt, EmbeddedMigrations()));
  server::ServiceRuntime& runtime = *app->runtime_;
  app->store_ = std::make_unique<CustomerStore>(runtime.pool(),
                                                api::PageTokenCodec(config.page_token_secret));
  app->orders_ =
      std::make_unique<OrderStore>(runtime.pool(), api::PageTokenCodec(config.page_token_secret));
  app->behavior_ = std::make_unique<BehaviorStore>(runtime.pool());
  app->identities_ = std::make_unique<IdentityStore>(runtime.pool(),
                                                     api::PageTokenCodec(config.page_token_secret));
  app->service_ = std::make_unique<CustomerServiceImpl>(
      *app->store_, *app->orders_, *app->behavior_, *app->identities_, runtime.executor());
  app->feed_ = std::make_unique<events::EventFeedService>(runtime.pool(), runtime.executor(),
                                                          kSchema, config.db_url);
  runtime.runner().AddService(app->service_.get());
  runtime.runner().AddService(app->feed_.get());
  CRM_RETURN_IF_ERROR(runtime.Start());
  app->feed_->Start();
  return app;
}

App::~App() { Shutdown(); }

void App::Shutdown() {
  if (runtime_ == nullptr) return;
  feed_->Stop();  // open streams end first, so the drain is not held up by them
  runtime_->Shutdown();
}

void App::RunUntilSignal() {
  // End the event streams as soon as the signal arrives, then drain.
  runtime_->runner().RunUntilSignal([this] { feed_->Stop(); });
  Shutdown();
}

absl::StatusOr<int> MigrateOnly(const std::string& db_url) {
  return server::ServiceRuntime::MigrateOnly(db_url, kSchema, EmbeddedMigrations());
}

}  // namespace crm::customer
