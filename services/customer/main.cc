// crm-customer: composition root. Flags (with CRM_* environment fallbacks)
// → config → App. Secrets come from files, never from the command line.
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/base/crypto.h"
#include "common/base/env.h"
#include "common/base/log.h"
#include "common/server/runner.h"
#include "services/customer/customer_app.h"

ABSL_FLAG(std::string, host, crm::EnvOr("CRM_HOST", std::string("127.0.0.1")),
          "Address to listen on (0.0.0.0 in containers)");
ABSL_FLAG(int, grpc_port, static_cast<int>(crm::EnvOr("CRM_GRPC_PORT", int64_t{50061})),
          "gRPC port");
ABSL_FLAG(int, metrics_port, static_cast<int>(crm::EnvOr("CRM_METRICS_PORT", int64_t{9461})),
          "Prometheus /metrics port; -1 disables");
ABSL_FLAG(std::string, db_url, crm::EnvOr("CRM_DB_URL", std::string("")),
          "libpq connection string (prefer --db_url_file for passwords)");
ABSL_FLAG(std::string, db_url_file, crm::EnvOr("CRM_DB_URL_FILE", std::string("")),
          "File holding the libpq connection string");
ABSL_FLAG(int, db_pool_size, static_cast<int>(crm::EnvOr("CRM_DB_POOL_SIZE", int64_t{8})),
          "Database connections (also the number of worker threads)");
ABSL_FLAG(int, queue_capacity, static_cast<int>(crm::EnvOr("CRM_QUEUE_CAPACITY", int64_t{256})),
          "Requests waiting for a worker before RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, page_token_secret_file,
          crm::EnvOr("CRM_PAGE_TOKEN_SECRET_FILE", std::string("")),
          "File with the page-token HMAC secret (same on every replica)");
ABSL_FLAG(int, shutdown_grace_seconds,
          static_cast<int>(crm::EnvOr("CRM_SHUTDOWN_GRACE_SECONDS", int64_t{20})),
          "Time in-flight calls get to finish after SIGTERM");
ABSL_FLAG(bool, migrate_only, false, "Apply migrations and exit");
ABSL_FLAG(bool, skip_migrations, false, "Do not apply migrations at start");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  crm::log::SetServiceName("customer");
  std::string db_url = absl::GetFlag(FLAGS_db_url);
  if (!absl::GetFlag(FLAGS_db_url_file).empty()) {
    db_url = crm::ReadSecretFile(absl::GetFlag(FLAGS_db_url_file));
  }
  if (db_url.empty()) {
    crm::log::Error("no database: set --db_url_file or --db_url");
    return 2;
  }
  if (absl::GetFlag(FLAGS_migrate_only)) {
    auto applied = crm::customer::MigrateOnly(db_url);
    if (!applied.ok()) {
      crm::log::Error("migration failed", {{"error", std::string(applied.status().message())}});
      return 1;
    }
    crm::log::Info("migrations applied", {{"count", std::to_string(*applied)}});
    return 0;
  }
  crm::customer::AppConfig config;
  config.db_url = db_url;
  config.db_pool_size = absl::GetFlag(FLAGS_db_pool_size);
  config.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  config.page_token_secret = crm::ReadSecretFile(absl::GetFlag(FLAGS_page_token_secret_file));
  if (config.page_token_secret.empty()) {
    crm::log::Warning(
        "no --page_token_secret_file: using a per-process secret; page tokens "
        "will not survive a restart or cross replicas");
    config.page_token_secret = crm::EnvOr("CRM_PAGE_TOKEN_SECRET", std::string(""));
    if (config.page_token_secret.size() < 16) {
      config.page_token_secret = crm::crypto::RandomToken(32);
    }
  }
  config.migrate = !absl::GetFlag(FLAGS_skip_migrations);
  config.server.host = absl::GetFlag(FLAGS_host);
  config.server.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  config.server.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  config.server.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  auto app = crm::customer::App::Start(config);
  if (!app.ok()) {
    crm::log::Error("start failed", {{"error", std::string(app.status().message())}});
    return 1;
  }
  (*app)->RunUntilSignal();
  return EXIT_SUCCESS;
}
