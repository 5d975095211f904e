// crm.gateway.v1.ApiKeyService: key administration behind the admin token.
#pragma once

#include <string>

#include "common/server/executor.h"
#include "crm/gateway/v1/api_key_service.grpc.pb.h"
#include "services/gateway/api_key_store.h"

namespace crm::gateway {

class ApiKeyServiceImpl final : public crm::gateway::v1::ApiKeyService::CallbackService {
 public:
  // An empty `admin_token` disables the service (every call UNAUTHENTICATED).
  ApiKeyServiceImpl(ApiKeyStore& store, server::Executor& executor, std::string admin_token);

  grpc::ServerUnaryReactor* CreateApiKey(grpc::CallbackServerContext* ctx,
                                         const v1::CreateApiKeyRequest* request,
                                         v1::CreateApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* ctx,
                                         const v1::RevokeApiKeyRequest* request,
                                         v1::ApiKey* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext* ctx,
                                        const v1::ListApiKeysRequest* request,
                                        v1::ListApiKeysResponse* response) override;

 private:
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx,
                                std::function<absl::Status(absl::Time deadline)> work);

  ApiKeyStore& store_;
  server::Executor& executor_;
  const std::string admin_token_;
};

}  // namespace crm::gateway
