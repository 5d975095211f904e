#include "services/interaction/channel_account_service.h"

#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {

ChannelAccountServiceImpl::ChannelAccountServiceImpl(ChannelAccountStore& store,
                                                     const SecretFiles& secrets,
                                                     server::Executor& executor,
                                                     server::CallOptions call_options)
    : store_(store), secrets_(secrets), executor_(executor), call_options_(call_options) {}

absl::Status ChannelAccountServiceImpl::CheckSecrets(const v1::ChannelAccount& account) const {
  if (!account.smtp().password_secret().empty()) {
    CRM_RETURN_IF_ERROR(
        secrets_.Read(account.smtp().password_secret(), "account.smtp.password_secret").status());
  }
  for (const auto& [name, field] :
       {std::pair<const std::string*, const char*>{&account.provider().token_secret(),
                                                   "account.provider.token_secret"},
        {&account.provider().webhook_secret(), "account.provider.webhook_secret"},
        {&account.provider().verify_token_secret(), "account.provider.verify_token_secret"},
        {&account.inbound().webhook_secret(), "account.inbound.webhook_secret"},
        {&account.inbound().imap().password_secret(), "account.inbound.imap.password_secret"}}) {
    if (!name->empty()) CRM_RETURN_IF_ERROR(secrets_.Read(*name, field).status());
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ChannelAccountServiceImpl::CreateChannelAccount(
    grpc::CallbackServerContext* ctx, const v1::CreateChannelAccountRequest* request,
    v1::ChannelAccount* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_account()) return absl::InvalidArgumentError("account: required");
    CRM_RETURN_IF_ERROR(ValidateChannelAccount(request->account(), "account"));
    CRM_RETURN_IF_ERROR(CheckSecrets(request->account()));
    CRM_ASSIGN_OR_RETURN(*response, store_.Create(scope, request->account()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelAccountServiceImpl::GetChannelAccount(
    grpc::CallbackServerContext* ctx, const v1::GetChannelAccountRequest* request,
    v1::ChannelAccount* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "channelAccounts", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.Get(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelAccountServiceImpl::ListChannelAccounts(
    grpc::CallbackServerContext* ctx, const v1::ListChannelAccountsRequest* /*request*/,
    v1::ListChannelAccountsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelAccountServiceImpl::UpdateChannelAccount(
    grpc::CallbackServerContext* ctx, const v1::UpdateChannelAccountRequest* request,
    v1::ChannelAccount* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_account()) return absl::InvalidArgumentError("account: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("account.name", request->account().name(), "channelAccounts", &id));
    const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                         request->update_mask().paths().end());
    CRM_RETURN_IF_ERROR(CheckChannelAccountPaths(paths));
    CRM_RETURN_IF_ERROR(CheckSecrets(request->account()));
    CRM_ASSIGN_OR_RETURN(*response, store_.Update(scope, id, request->account(), paths));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelAccountServiceImpl::DeleteChannelAccount(
    grpc::CallbackServerContext* ctx, const v1::DeleteChannelAccountRequest* request,
    v1::DeleteChannelAccountResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "channelAccounts", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.Delete(scope, id, request->etag()));
    return absl::OkStatus();
  });
}

DeliveryServiceImpl::DeliveryServiceImpl(DeliveryStore& store, server::Executor& executor,
                                         server::CallOptions call_options)
    : store_(store), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* DeliveryServiceImpl::ListSuppressions(
    grpc::CallbackServerContext* ctx, const v1::ListSuppressionsRequest* request,
    v1::ListSuppressionsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListSuppressions(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryServiceImpl::CreateSuppression(
    grpc::CallbackServerContext* ctx, const v1::CreateSuppressionRequest* request,
    v1::Suppression* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_suppression()) return absl::InvalidArgumentError("suppression: required");
    CRM_RETURN_IF_ERROR(ValidateSuppression(request->suppression()));
    CRM_ASSIGN_OR_RETURN(*response, store_.AddSuppression(scope, request->suppression()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryServiceImpl::DeleteSuppression(
    grpc::CallbackServerContext* ctx, const v1::DeleteSuppressionRequest* request,
    v1::DeleteSuppressionResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string kind, address;
    CRM_RETURN_IF_ERROR(ParseSuppressionName(request->name(), &kind, &address));
    return store_.DeleteSuppression(scope, kind, address);
  });
}

grpc::ServerUnaryReactor* DeliveryServiceImpl::RecordDeliveryEvent(
    grpc::CallbackServerContext* ctx, const v1::RecordDeliveryEventRequest* request,
    v1::RecordDeliveryEventResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_RETURN_IF_ERROR(ValidateDeliveryEvent(*request));
    const bool suppress =
        request->status() == v1::DELIVERY_STATUS_COMPLAINED ||
        (request->status() == v1::DELIVERY_STATUS_BOUNCED && request->permanent());
    CRM_ASSIGN_OR_RETURN(
        bool applied, store_.RecordStatus(scope.tenant, request->channel(), request->external_id(),
                                          request->status(), request->reason(), suppress));
    response->set_applied(applied);
    return absl::OkStatus();
  });
}

}  // namespace crm::interaction
