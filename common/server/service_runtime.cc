#include "common/server/service_runtime.h"

#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::server {

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Start(
    const RuntimeConfig& config, const ServiceDefinition& service) {
  std::string secret = config.page_token_secret;
  if (secret.empty()) {
    log::Warning(
        "no --page_token_secret_file: using a per-process secret; page tokens will not "
        "survive a restart or cross replicas");
    secret = crypto::RandomToken(32);
  } else if (secret.size() < 16) {
    return absl::InvalidArgumentError("page token secret must be at least 16 bytes");
  }
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime());
  rt->name_ = service.name;
  rt->schema_ = service.schema;
  rt->db_url_ = config.db_url;
  rt->pool_ =
      std::make_unique<db::Pool>(db::PoolOptions{config.db_url, config.db_pool_size, service.name});
  rt->migrator_ = std::make_unique<db::Migrator>(*rt->pool_, service.schema, service.migrations);
  if (config.migrate) {
    CRM_ASSIGN_OR_RETURN(int applied, rt->migrator_->Migrate());
    log::Info("migrations current",
              {{"schema", service.schema}, {"applied_now", absl::StrCat(applied)}});
  }
  rt->executor_ = std::make_unique<Executor>(config.db_pool_size, config.queue_capacity);
  rt->page_tokens_ = std::make_unique<api::PageTokenCodec>(std::move(secret));
  ServerOptions server = config.server;
  server.reflection = service.reflection;
  rt->runner_ = std::make_unique<ServerRunner>(server);
  db::Migrator* migrator = rt->migrator_.get();
  rt->runner_->SetReadinessCheck([migrator]() -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool current, migrator->IsCurrent());
    if (!current) return absl::FailedPreconditionError("migrations not current");
    return absl::OkStatus();
  });
  if (service.wire) {
    CRM_ASSIGN_OR_RETURN(rt->component_, service.wire(*rt));
  }
  CRM_RETURN_IF_ERROR(rt->runner_->Start());
  if (rt->feed_ != nullptr) rt->feed_->Start();
  return rt;
}

ServiceRuntime::~ServiceRuntime() { Shutdown(); }

events::EventFeed& ServiceRuntime::EnableFeed() {
  if (feed_ == nullptr) {
    feed_ = std::make_unique<events::EventFeed>(*pool_, *executor_, schema_, db_url_);
  }
  return *feed_;
}

void ServiceRuntime::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Open streams end first, so the drain is not held up by them.
  if (feed_ != nullptr) feed_->Stop();
  // A runtime whose migrations failed never got a server or an executor.
  if (runner_ != nullptr) runner_->Shutdown();
  if (executor_ != nullptr) executor_->Shutdown();
}

void ServiceRuntime::RunUntilSignal() {
  runner_->RunUntilSignal([this] {
    if (feed_ != nullptr) feed_->Stop();
  });
  Shutdown();
}

absl::StatusOr<int> ServiceRuntime::MigrateOnly(const std::string& db_url,
                                                const ServiceDefinition& service) {
  db::Pool pool(db::PoolOptions{db_url, 1, service.name + "-migrate"});
  db::Migrator migrator(pool, service.schema, service.migrations);
  return migrator.Migrate();
}

}  // namespace crm::server
