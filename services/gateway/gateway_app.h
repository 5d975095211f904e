// The gateway as the runtime runs it: API-key store → admin service +
// generic proxy, with its own options besides the shared ones. main.cc
// reads them from flags; tests build them in-process.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/service_runtime.h"
#include "crm/gateway/v1/api_key_service.pb.h"
#include "services/gateway/proxy.h"

namespace crm::gateway {

inline constexpr char kSchema[] = "gateway";

std::vector<db::MigrationFile> EmbeddedMigrations();

struct GatewayOptions {
  std::string routes;       // "crm.customer.v1=127.0.0.1:50061,..."
  std::string admin_token;  // empty disables the admin API
  absl::Duration key_cache_ttl = absl::Seconds(5);
  ProxyOptions proxy;
};

server::ServiceDefinition Definition(const GatewayOptions& options);

// The CLI path: creates a key directly in the database and returns it.
absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> CreateApiKeyOffline(
    const std::string& db_url, const crm::gateway::v1::ApiKey& key);

}  // namespace crm::gateway
