// crm.interaction.v1.TemplateService, and the rendering SendMessage shares:
// a template (by name, or by key and channel in the customer's locale)
// filled with the customer's, an order's and an offer's values.
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/interaction/v1/template_service.grpc.pb.h"
#include "services/interaction/customer_directory.h"
#include "services/interaction/template_store.h"

namespace crm::interaction {

class TemplateRenderer {
 public:
  TemplateRenderer(TemplateStore& store, CustomerDirectory& customers)
      : store_(store), customers_(customers) {}

  // `request` as RenderTemplate takes it (the customer's profile fetched
  // by the caller, `profile`).
  absl::StatusOr<v1::RenderTemplateResponse> Render(const server::CallScope& scope,
                                                    const v1::RenderTemplateRequest& request,
                                                    const crm::customer::v1::Customer& profile);

 private:
  TemplateStore& store_;
  CustomerDirectory& customers_;
};

class TemplateServiceImpl final : public v1::TemplateService::CallbackService {
 public:
  TemplateServiceImpl(TemplateStore& store, TemplateRenderer& renderer,
                      CustomerDirectory& customers, server::Executor& executor,
                      server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::CreateTemplateRequest* request,
                                           v1::Template* response) override;
  grpc::ServerUnaryReactor* GetTemplate(grpc::CallbackServerContext* ctx,
                                        const v1::GetTemplateRequest* request,
                                        v1::Template* response) override;
  grpc::ServerUnaryReactor* ListTemplates(grpc::CallbackServerContext* ctx,
                                          const v1::ListTemplatesRequest* request,
                                          v1::ListTemplatesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateTemplateRequest* request,
                                           v1::Template* response) override;
  grpc::ServerUnaryReactor* DeleteTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteTemplateRequest* request,
                                           v1::DeleteTemplateResponse* response) override;
  grpc::ServerUnaryReactor* RenderTemplate(grpc::CallbackServerContext* ctx,
                                           const v1::RenderTemplateRequest* request,
                                           v1::RenderTemplateResponse* response) override;
  grpc::ServerUnaryReactor* CreateCannedResponse(grpc::CallbackServerContext* ctx,
                                                 const v1::CreateCannedResponseRequest* request,
                                                 v1::CannedResponse* response) override;
  grpc::ServerUnaryReactor* ListCannedResponses(grpc::CallbackServerContext* ctx,
                                                const v1::ListCannedResponsesRequest* request,
                                                v1::ListCannedResponsesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteCannedResponse(
      grpc::CallbackServerContext* ctx, const v1::DeleteCannedResponseRequest* request,
      v1::DeleteCannedResponseResponse* response) override;

 private:
  TemplateStore& store_;
  TemplateRenderer& renderer_;
  CustomerDirectory& customers_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::interaction
