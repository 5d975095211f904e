// crm-gateway: composition root. Flags (with CRM_* environment fallbacks)
// → config → App; or, with --create_api_key, create a key and print it once.
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "common/base/env.h"
#include "common/base/log.h"
#include "common/server/runner.h"
#include "services/gateway/gateway_app.h"

ABSL_FLAG(std::string, host, crm::EnvOr("CRM_HOST", std::string("127.0.0.1")),
          "Address to listen on (0.0.0.0 in containers)");
ABSL_FLAG(int, grpc_port, static_cast<int>(crm::EnvOr("CRM_GRPC_PORT", int64_t{50051})),
          "gRPC port");
ABSL_FLAG(int, metrics_port, static_cast<int>(crm::EnvOr("CRM_METRICS_PORT", int64_t{9451})),
          "Prometheus /metrics port; -1 disables");
ABSL_FLAG(std::string, db_url, crm::EnvOr("CRM_DB_URL", std::string("")),
          "libpq connection string (prefer --db_url_file for passwords)");
ABSL_FLAG(std::string, db_url_file, crm::EnvOr("CRM_DB_URL_FILE", std::string("")),
          "File holding the libpq connection string");
ABSL_FLAG(int, db_pool_size, static_cast<int>(crm::EnvOr("CRM_DB_POOL_SIZE", int64_t{4})),
          "Database connections for key lookups and admin calls");
ABSL_FLAG(std::string, routes, crm::EnvOr("CRM_ROUTES", std::string("")),
          "Package → backend routes: crm.customer.v1=127.0.0.1:50061,...");
ABSL_FLAG(std::string, admin_token_file, crm::EnvOr("CRM_ADMIN_TOKEN_FILE", std::string("")),
          "File with the admin token for crm.gateway.v1.ApiKeyService; none disables it");
ABSL_FLAG(int, key_cache_ttl_ms,
          static_cast<int>(crm::EnvOr("CRM_KEY_CACHE_TTL_MS", int64_t{5000})),
          "How long an API key lookup is cached (bounds revocation delay)");
ABSL_FLAG(int, default_deadline_ms,
          static_cast<int>(crm::EnvOr("CRM_DEFAULT_DEADLINE_MS", int64_t{30000})),
          "Deadline given to calls that arrive without one");
ABSL_FLAG(double, rate_limit_qps, static_cast<double>(crm::EnvOr("CRM_RATE_LIMIT_QPS", int64_t{0})),
          "Calls per second each API key may make (token bucket); 0 = unlimited");
ABSL_FLAG(double, rate_limit_burst,
          static_cast<double>(crm::EnvOr("CRM_RATE_LIMIT_BURST", int64_t{0})),
          "Calls an API key may make at once before the rate applies (>= 1)");
ABSL_FLAG(int, shutdown_grace_seconds,
          static_cast<int>(crm::EnvOr("CRM_SHUTDOWN_GRACE_SECONDS", int64_t{20})),
          "Time in-flight calls get to finish after SIGTERM");
ABSL_FLAG(bool, migrate_only, false, "Apply migrations and exit");
ABSL_FLAG(bool, create_api_key, false,
          "Create an API key (--tenant, --scopes, --description), print it once, exit");
ABSL_FLAG(std::string, tenant, "", "With --create_api_key: the tenant");
ABSL_FLAG(std::string, scopes, "*", "With --create_api_key: comma-separated scopes");
ABSL_FLAG(std::string, description, "", "With --create_api_key: a description");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  crm::log::SetServiceName("gateway");
  std::string db_url = absl::GetFlag(FLAGS_db_url);
  if (!absl::GetFlag(FLAGS_db_url_file).empty()) {
    db_url = crm::ReadSecretFile(absl::GetFlag(FLAGS_db_url_file));
  }
  if (db_url.empty()) {
    crm::log::Error("no database: set --db_url_file or --db_url");
    return 2;
  }
  if (absl::GetFlag(FLAGS_migrate_only)) {
    auto applied = crm::gateway::MigrateOnly(db_url);
    if (!applied.ok()) {
      crm::log::Error("migration failed", {{"error", std::string(applied.status().message())}});
      return 1;
    }
    return 0;
  }
  if (absl::GetFlag(FLAGS_create_api_key)) {
    crm::gateway::v1::ApiKey key;
    key.set_tenant(absl::GetFlag(FLAGS_tenant));
    for (absl::string_view s :
         absl::StrSplit(absl::GetFlag(FLAGS_scopes), ',', absl::SkipWhitespace())) {
      key.add_scopes(std::string(s));
    }
    key.set_description(absl::GetFlag(FLAGS_description));
    auto created = crm::gateway::CreateApiKeyOffline(db_url, key);
    if (!created.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(created.status().message()).c_str());
      return 1;
    }
    std::printf("%s\n", created->key().c_str());
    std::fprintf(stderr, "created %s for tenant %s (shown once; store it now)\n",
                 created->api_key().name().c_str(), created->api_key().tenant().c_str());
    return 0;
  }
  crm::gateway::AppConfig config;
  config.db_url = db_url;
  config.db_pool_size = absl::GetFlag(FLAGS_db_pool_size);
  config.routes = absl::GetFlag(FLAGS_routes);
  config.admin_token = crm::ReadSecretFile(absl::GetFlag(FLAGS_admin_token_file));
  config.key_cache_ttl = absl::Milliseconds(absl::GetFlag(FLAGS_key_cache_ttl_ms));
  config.default_deadline = absl::Milliseconds(absl::GetFlag(FLAGS_default_deadline_ms));
  config.rate_limit_qps = absl::GetFlag(FLAGS_rate_limit_qps);
  config.rate_limit_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  config.server.host = absl::GetFlag(FLAGS_host);
  config.server.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  config.server.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  config.server.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  auto app = crm::gateway::App::Start(config);
  if (!app.ok()) {
    crm::log::Error("start failed", {{"error", std::string(app.status().message())}});
    return 1;
  }
  (*app)->RunUntilSignal();
  return EXIT_SUCCESS;
}
