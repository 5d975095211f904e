// The gateway's generic proxy: every method of a routed package is
// forwarded to its backend as raw bytes (no re-encoding), after the API key
// was authenticated and its scope checked. The gateway adds x-crm-tenant,
// x-crm-actor and x-request-id, propagates deadline and cancellation, and
// passes status, initial and trailing metadata back.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/server/executor.h"
#include "services/gateway/api_key_store.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/reflection.h"
#include "services/gateway/routes.h"

namespace crm::gateway {

struct ProxyOptions {
  absl::Duration default_deadline = absl::Seconds(30);
  // Per API key: sustained calls per second (0: unlimited) and burst.
  double rate_limit_qps = 0;
  double rate_limit_burst = 0;
};

class Proxy final : public grpc::CallbackGenericService {
 public:
  // `own_services`: what the gateway serves itself, for reflection.
  Proxy(const std::vector<Route>& routes, ApiKeyStore& keys, server::Executor& executor,
        ProxyOptions options, std::vector<std::string> own_services);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

  // For the calls: authenticates the API key of a call and runs `done` with
  // it (inline on a cache hit, else on the executor) or with the refusal.
  void Authenticate(grpc::GenericCallbackServerContext* ctx,
                    std::function<void(absl::StatusOr<KeyInfo>)> done);
  // RESOURCE_EXHAUSTED (with x-crm-retry-after-ms) when the key is over its rate.
  absl::Status RateLimit(grpc::GenericCallbackServerContext* ctx, const KeyInfo& key);
  grpc::GenericStub* StubFor(const std::string& package);
  const ReflectionMerger& reflection() const { return *reflection_; }
  MethodKinds& method_kinds() { return *method_kinds_; }
  ApiKeyStore& keys() { return keys_; }
  server::Executor& executor() { return executor_; }
  const ProxyOptions& options() const { return options_; }
  RateLimiter& limiter() { return limiter_; }

 private:
  struct Backend {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  std::map<std::string, Backend> backends_;  // by package
  ApiKeyStore& keys_;
  server::Executor& executor_;
  ProxyOptions options_;
  RateLimiter limiter_;
  std::unique_ptr<ReflectionMerger> reflection_;
  std::unique_ptr<MethodKinds> method_kinds_;
};

}  // namespace crm::gateway
