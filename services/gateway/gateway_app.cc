#include "services/gateway/gateway_app.h"

#include <memory>

#include "common/base/log.h"
#include "common/base/status.h"
#include "services/gateway/api_key_service.h"
#include "services/gateway/api_key_store.h"

namespace crm::gateway {
namespace {

struct Wiring final : server::Component {
  Wiring(server::ServiceRuntime& rt, const GatewayOptions& options,
         const std::vector<Route>& routes)
      : keys(rt.pool(), rt.reader(), options.key_cache_ttl),
        admin(keys, rt.executor(), options.admin_token),
        proxy(routes, keys, rt.executor(), options.proxy,
              {crm::gateway::v1::ApiKeyService::service_full_name(), "grpc.health.v1.Health",
               "grpc.reflection.v1alpha.ServerReflection"}) {}
  ApiKeyStore keys;
  ApiKeyServiceImpl admin;
  Proxy proxy;
};

}  // namespace

server::ServiceDefinition Definition(const GatewayOptions& options) {
  server::ServiceDefinition d;
  d.name = "gateway";
  d.schema = kSchema;
  d.grpc_port = 50051;
  d.metrics_port = 9451;
  d.db_pool_size = 4;
  d.queue_capacity = 1024;
  // The proxy answers reflection for every routed service and its own.
  d.reflection = false;
  d.migrations = EmbeddedMigrations();
  d.wire =
      [options](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    CRM_ASSIGN_OR_RETURN(std::vector<Route> routes, ParseRoutes(options.routes));
    auto wiring = std::make_unique<Wiring>(rt, options, routes);
    rt.runner().AddService(&wiring->admin);
    rt.runner().SetGenericService(&wiring->proxy);
    for (const auto& r : routes) {
      log::Info("route", {{"package", r.package}, {"backend", r.address}});
    }
    return wiring;
  };
  return d;
}

absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> CreateApiKeyOffline(
    const std::string& db_url, const crm::gateway::v1::ApiKey& key) {
  server::ServiceDefinition d = Definition(GatewayOptions());
  CRM_RETURN_IF_ERROR(server::ServiceRuntime::MigrateOnly(db_url, d).status());
  db::Pool pool(db::PoolOptions{db_url, 1, "gateway-cli"});
  db::Reader reader(pool, db::ReaderOptions{});
  ApiKeyStore store(pool, reader, absl::ZeroDuration());
  return store.Create(key, absl::Now() + absl::Seconds(30));
}

}  // namespace crm::gateway
