#include "common/server/service_runtime.h"

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::server {

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Create(
    const RuntimeConfig& config, std::vector<db::MigrationFile> migrations) {
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime());
  rt->pool_ =
      std::make_unique<db::Pool>(db::PoolOptions{config.db_url, config.db_pool_size, config.name});
  rt->migrator_ = std::make_unique<db::Migrator>(*rt->pool_, config.schema, std::move(migrations));
  if (config.migrate) {
    CRM_ASSIGN_OR_RETURN(int applied, rt->migrator_->Migrate());
    log::Info("migrations current",
              {{"schema", config.schema}, {"applied_now", absl::StrCat(applied)}});
  }
  rt->executor_ = std::make_unique<Executor>(config.db_pool_size, config.queue_capacity);
  rt->runner_ = std::make_unique<ServerRunner>(config.server);
  db::Migrator* migrator = rt->migrator_.get();
  rt->runner_->SetReadinessCheck([migrator]() -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool current, migrator->IsCurrent());
    if (!current) return absl::FailedPreconditionError("migrations not current");
    return absl::OkStatus();
  });
  return rt;
}

ServiceRuntime::~ServiceRuntime() { Shutdown(); }

absl::Status ServiceRuntime::Start() { return runner_->Start(); }

void ServiceRuntime::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // A runtime whose migrations failed never got a server or an executor.
  if (runner_ != nullptr) runner_->Shutdown();
  if (executor_ != nullptr) executor_->Shutdown();
}

absl::StatusOr<int> ServiceRuntime::MigrateOnly(const std::string& db_url,
                                                const std::string& schema,
                                                std::vector<db::MigrationFile> migrations) {
  db::Pool pool(db::PoolOptions{db_url, 1, schema + "-migrate"});
  db::Migrator migrator(pool, schema, std::move(migrations));
  return migrator.Migrate();
}

}  // namespace crm::server
