#include "services/gateway/api_key_service.h"

#include "absl/strings/match.h"
#include "common/base/crypto.h"
#include "common/base/status.h"
#include "common/server/call.h"

namespace crm::gateway {

ApiKeyServiceImpl::ApiKeyServiceImpl(ApiKeyStore& store, server::Executor& executor,
                                     std::string admin_token)
    : store_(store), executor_(executor), admin_token_(std::move(admin_token)) {}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::Run(grpc::CallbackServerContext* ctx,
                                                 std::function<absl::Status(absl::Time)> work) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  std::string auth = it == md.end() ? "" : std::string(it->second.data(), it->second.size());
  const bool ok = !admin_token_.empty() && absl::StartsWithIgnoreCase(auth, "bearer ") &&
                  crypto::ConstantTimeEquals(auth.substr(7), admin_token_);
  server::CallOptions options;
  options.require_tenant = false;
  return server::RunUnary(
      ctx, executor_, options, [ok, work = std::move(work)](const server::CallScope& scope) {
        if (!ok) {
          return absl::UnauthenticatedError("admin API: missing or wrong admin token");
        }
        return work(scope.deadline);
      });
}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::CreateApiKey(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateApiKeyRequest* request,
                                                          v1::CreateApiKeyResponse* response) {
  return Run(ctx, [=](absl::Time deadline) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(*response, store_.Create(request->api_key(), deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::RevokeApiKey(grpc::CallbackServerContext* ctx,
                                                          const v1::RevokeApiKeyRequest* request,
                                                          v1::ApiKey* response) {
  return Run(ctx, [=](absl::Time deadline) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(*response, store_.Revoke(request->name(), deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::ListApiKeys(grpc::CallbackServerContext* ctx,
                                                         const v1::ListApiKeysRequest* request,
                                                         v1::ListApiKeysResponse* response) {
  return Run(ctx, [=](absl::Time deadline) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(*request, deadline));
    return absl::OkStatus();
  });
}

}  // namespace crm::gateway
