// crm-gateway: the gateway binary. Its own flags besides the shared ones
// (docs/operations.md); with --create_api_key it creates a key, prints it
// once and exits.
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "common/base/env.h"
#include "common/server/service_main.h"
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
          "Deadline given to unary calls that arrive without one (streams: none)");
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

crm::gateway::GatewayOptions OptionsFromFlags() {
  crm::gateway::GatewayOptions options;
  options.routes = absl::GetFlag(FLAGS_routes);
  options.admin_token = crm::ReadSecretFile(absl::GetFlag(FLAGS_admin_token_file));
  options.key_cache_ttl = absl::Milliseconds(absl::GetFlag(FLAGS_key_cache_ttl_ms));
  options.proxy.default_deadline = absl::Milliseconds(absl::GetFlag(FLAGS_default_deadline_ms));
  options.proxy.rate_limit_qps = absl::GetFlag(FLAGS_rate_limit_qps);
  options.proxy.rate_limit_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  return crm::server::ServiceMain(argc, argv, [] {
    crm::server::ServiceDefinition d = crm::gateway::Definition(OptionsFromFlags());
    d.command = [](const crm::server::RuntimeConfig& config) -> std::optional<int> {
      if (!absl::GetFlag(FLAGS_create_api_key)) return std::nullopt;
      return CreateApiKey(config.db_url);
    };
    return d;
  });
}
