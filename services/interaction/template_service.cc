#include "services/interaction/template_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/interaction/template_domain.h"

namespace crm::interaction {

absl::StatusOr<v1::RenderTemplateResponse> TemplateRenderer::Render(
    const server::CallScope& scope, const v1::RenderTemplateRequest& request,
    const crm::customer::v1::Customer& profile) {
  v1::Template chosen;
  if (!request.template_().empty()) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("template", request.template_(), "templates", &id));
    auto found = store_.Get(scope, id);
    if (absl::IsNotFound(found.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("template: ", request.template_(), " does not exist"));
    }
    CRM_RETURN_IF_ERROR(found.status());
    chosen = *std::move(found);
  } else {
    if (request.key().empty()) return absl::InvalidArgumentError("template: required (or key)");
    CRM_RETURN_IF_ERROR(api::RequiredEnum("channel", request.channel()));
    CRM_ASSIGN_OR_RETURN(std::vector<v1::Template> variants,
                         store_.Variants(scope, request.key(), request.channel()));
    const v1::Template* variant = ChooseVariant(variants, profile.locale());
    if (variant == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "key: no template \"", request.key(), "\" for ", api::EnumText(request.channel())));
    }
    chosen = *variant;
  }
  std::optional<crm::customer::v1::Order> order;
  if (!request.order().empty()) {
    CRM_ASSIGN_OR_RETURN(order,
                         customers_.FetchOrder(scope, request.order(), profile.name(), "order"));
  }
  for (const auto& [key, value] : request.offer()) {
    if (!IsTemplateVariable(absl::StrCat("offer.", key))) {
      return absl::InvalidArgumentError(absl::StrCat("offer[\"", key, "\"]: no such variable"));
    }
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat("offer[\"", key, "\"]"), value, 500));
  }
  return interaction::Render(chosen, ValuesOf(profile, order ? &*order : nullptr, request.offer()));
}

TemplateServiceImpl::TemplateServiceImpl(TemplateStore& store, TemplateRenderer& renderer,
                                         CustomerDirectory& customers, server::Executor& executor,
                                         server::CallOptions call_options)
    : store_(store),
      renderer_(renderer),
      customers_(customers),
      executor_(executor),
      call_options_(call_options) {}

grpc::ServerUnaryReactor* TemplateServiceImpl::CreateTemplate(
    grpc::CallbackServerContext* ctx, const v1::CreateTemplateRequest* request,
    v1::Template* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_template_()) return absl::InvalidArgumentError("template: required");
    CRM_RETURN_IF_ERROR(ValidateTemplate(request->template_(), "template"));
    CRM_ASSIGN_OR_RETURN(*response, store_.Create(scope, request->template_()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::GetTemplate(grpc::CallbackServerContext* ctx,
                                                           const v1::GetTemplateRequest* request,
                                                           v1::Template* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "templates", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.Get(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::ListTemplates(
    grpc::CallbackServerContext* ctx, const v1::ListTemplatesRequest* request,
    v1::ListTemplatesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_RETURN_IF_ERROR(api::CheckText("key", request->key(), 64));
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope, request->key()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::UpdateTemplate(
    grpc::CallbackServerContext* ctx, const v1::UpdateTemplateRequest* request,
    v1::Template* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_template_()) return absl::InvalidArgumentError("template: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("template.name", request->template_().name(), "templates", &id));
    const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                         request->update_mask().paths().end());
    if (paths.empty()) return absl::InvalidArgumentError("update_mask: required");
    for (const std::string& p : paths) {
      if (p != "description" && p != "subject" && p != "text" && p != "html" && p != "fallbacks") {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: ", p,
                         " cannot be updated (description, subject, text, html, fallbacks)"));
      }
    }
    CRM_ASSIGN_OR_RETURN(*response, store_.Update(scope, id, request->template_(), paths));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::DeleteTemplate(
    grpc::CallbackServerContext* ctx, const v1::DeleteTemplateRequest* request,
    v1::DeleteTemplateResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "templates", &id));
    return store_.Delete(scope, id);
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::RenderTemplate(
    grpc::CallbackServerContext* ctx, const v1::RenderTemplateRequest* request,
    v1::RenderTemplateResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("customer", request->customer(), "customers", &id));
    if (!request->order().empty()) {
      CRM_RETURN_IF_ERROR(api::ParseResourceName("order", request->order(), "orders", &id));
    }
    CRM_ASSIGN_OR_RETURN(crm::customer::v1::Customer profile,
                         customers_.Fetch(scope, request->customer(), "customer"));
    CRM_ASSIGN_OR_RETURN(*response, renderer_.Render(scope, *request, profile));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::CreateCannedResponse(
    grpc::CallbackServerContext* ctx, const v1::CreateCannedResponseRequest* request,
    v1::CannedResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_RETURN_IF_ERROR(ValidateCannedResponse(request->canned_response()));
    CRM_ASSIGN_OR_RETURN(*response, store_.CreateCanned(scope, request->canned_response()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::ListCannedResponses(
    grpc::CallbackServerContext* ctx, const v1::ListCannedResponsesRequest* /*request*/,
    v1::ListCannedResponsesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListCanned(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TemplateServiceImpl::DeleteCannedResponse(
    grpc::CallbackServerContext* ctx, const v1::DeleteCannedResponseRequest* request,
    v1::DeleteCannedResponseResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "cannedResponses", &id));
    return store_.DeleteCanned(scope, id);
  });
}

}  // namespace crm::interaction
