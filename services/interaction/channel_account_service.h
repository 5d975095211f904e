// crm.interaction.v1.ChannelAccountService and DeliveryService: validate
// each request and hand it to the ChannelAccountStore or DeliveryStore.
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/interaction/v1/channel_account_service.grpc.pb.h"
#include "crm/interaction/v1/delivery_service.grpc.pb.h"
#include "services/interaction/channel_account_store.h"
#include "services/interaction/delivery_store.h"
#include "services/interaction/secret_files.h"

namespace crm::interaction {

class ChannelAccountServiceImpl final : public v1::ChannelAccountService::CallbackService {
 public:
  ChannelAccountServiceImpl(ChannelAccountStore& store, const SecretFiles& secrets,
                            server::Executor& executor, server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateChannelAccount(grpc::CallbackServerContext* ctx,
                                                 const v1::CreateChannelAccountRequest* request,
                                                 v1::ChannelAccount* response) override;
  grpc::ServerUnaryReactor* GetChannelAccount(grpc::CallbackServerContext* ctx,
                                              const v1::GetChannelAccountRequest* request,
                                              v1::ChannelAccount* response) override;
  grpc::ServerUnaryReactor* ListChannelAccounts(grpc::CallbackServerContext* ctx,
                                                const v1::ListChannelAccountsRequest* request,
                                                v1::ListChannelAccountsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateChannelAccount(grpc::CallbackServerContext* ctx,
                                                 const v1::UpdateChannelAccountRequest* request,
                                                 v1::ChannelAccount* response) override;
  grpc::ServerUnaryReactor* DeleteChannelAccount(
      grpc::CallbackServerContext* ctx, const v1::DeleteChannelAccountRequest* request,
      v1::DeleteChannelAccountResponse* response) override;

 private:
  // The secrets `account` names can be read (their values are not kept).
  absl::Status CheckSecrets(const v1::ChannelAccount& account) const;

  ChannelAccountStore& store_;
  const SecretFiles& secrets_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

class DeliveryServiceImpl final : public v1::DeliveryService::CallbackService {
 public:
  DeliveryServiceImpl(DeliveryStore& store, server::Executor& executor,
                      server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* ListSuppressions(grpc::CallbackServerContext* ctx,
                                             const v1::ListSuppressionsRequest* request,
                                             v1::ListSuppressionsResponse* response) override;
  grpc::ServerUnaryReactor* RecordDeliveryEvent(grpc::CallbackServerContext* ctx,
                                                const v1::RecordDeliveryEventRequest* request,
                                                v1::RecordDeliveryEventResponse* response) override;
  grpc::ServerUnaryReactor* CreateSuppression(grpc::CallbackServerContext* ctx,
                                              const v1::CreateSuppressionRequest* request,
                                              v1::Suppression* response) override;
  grpc::ServerUnaryReactor* DeleteSuppression(grpc::CallbackServerContext* ctx,
                                              const v1::DeleteSuppressionRequest* request,
                                              v1::DeleteSuppressionResponse* response) override;

 private:
  DeliveryStore& store_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::interaction
