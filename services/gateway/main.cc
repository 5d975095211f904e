// crm-gateway: composition root. Flags (with CRM_* environment fallbacks)
// → config → App; or, with --create_api_key, create a key and print it once.
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "common/base/env.h"
#include "common/base/log.h"
#include "common/server/process_flags.h"
#include "services/gateway/gateway_app.h"

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
ABSL_FLAG(bool, create_api_key, false,
          "Create an API key (--tenant, --scopes, --description), print it once, exit");
ABSL_FLAG(std::string, tenant, "", "With --create_api_key: the tenant");
ABSL_FLAG(std::string, scopes, "*", "With --create_api_key: comma-separated scopes");
ABSL_FLAG(std::string, description, "", "With --create_api_key: a description");

namespace {

int CreateApiKey(const std::string& db_url) {
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
    return EXIT_FAILURE;
  }
  std::printf("%s\n", created->key().c_str());
  std::fprintf(stderr, "created %s for tenant %s (shown once; store it now)\n",
               created->api_key().name().c_str(), created->api_key().tenant().c_str());
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  crm::log::SetServiceName("gateway");
  auto flags = crm::server::ReadProcessFlags({50051, 9451, 4});
  if (!flags.ok()) return crm::server::ExitWithError("bad configuration", flags.status());
  const crm::server::RuntimeConfig& rt = flags->runtime;
  if (flags->migrate_only) {
    auto applied = crm::gateway::MigrateOnly(rt.db_url);
    if (!applied.ok()) return crm::server::ExitWithError("migration failed", applied.status());
    return EXIT_SUCCESS;
  }
  if (absl::GetFlag(FLAGS_create_api_key)) return CreateApiKey(rt.db_url);
  crm::gateway::AppConfig config;
  config.db_url = rt.db_url;
  config.db_pool_size = rt.db_pool_size;
  config.migrate = rt.migrate;
  config.server = rt.server;
  config.routes = absl::GetFlag(FLAGS_routes);
  config.admin_token = crm::ReadSecretFile(absl::GetFlag(FLAGS_admin_token_file));
  config.key_cache_ttl = absl::Milliseconds(absl::GetFlag(FLAGS_key_cache_ttl_ms));
  config.proxy.default_deadline = absl::Milliseconds(absl::GetFlag(FLAGS_default_deadline_ms));
  config.proxy.rate_limit_qps = absl::GetFlag(FLAGS_rate_limit_qps);
  config.proxy.rate_limit_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  auto app = crm::gateway::App::Start(config);
  if (!app.ok()) return crm::server::ExitWithError("start failed", app.status());
  (*app)->RunUntilSignal();
  return EXIT_SUCCESS;
}
