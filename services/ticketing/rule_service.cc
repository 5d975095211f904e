#include "services/ticketing/rule_service.h"

#include "absl/strings/match.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/rule_domain.h"

namespace crm::ticketing {

RuleServiceImpl::RuleServiceImpl(RuleStore& store, server::Executor& executor,
                                 server::CallOptions call_options)
    : store_(store), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* RuleServiceImpl::CreateRule(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateRuleRequest* request,
                                                      v1::Rule* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_rule()) return absl::InvalidArgumentError("rule: required");
    v1::Rule rule = request->rule();
    CRM_RETURN_IF_ERROR(ValidateRule(&rule, "rule"));
    CRM_ASSIGN_OR_RETURN(*response, store_.Create(scope, rule));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RuleServiceImpl::GetRule(grpc::CallbackServerContext* ctx,
                                                   const v1::GetRuleRequest* request,
                                                   v1::Rule* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "rules", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.Get(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RuleServiceImpl::ListRules(grpc::CallbackServerContext* ctx,
                                                     const v1::ListRulesRequest* /*request*/,
                                                     v1::ListRulesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RuleServiceImpl::UpdateRule(grpc::CallbackServerContext* ctx,
                                                      const v1::UpdateRuleRequest* request,
                                                      v1::Rule* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_rule()) return absl::InvalidArgumentError("rule: required");
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("rule.name", request->rule().name(), "rules", &id));
    v1::Rule rule = request->rule();
    CRM_RETURN_IF_ERROR(ValidateRule(&rule, "rule"));
    CRM_ASSIGN_OR_RETURN(*response, store_.Update(scope, id, rule));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RuleServiceImpl::DeleteRule(grpc::CallbackServerContext* ctx,
                                                      const v1::DeleteRuleRequest* request,
                                                      v1::DeleteRuleResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "rules", &id));
    return store_.Delete(scope, id, request->etag());
  });
}

grpc::ServerUnaryReactor* RuleServiceImpl::ListRuleFirings(
    grpc::CallbackServerContext* ctx, const v1::ListRuleFiringsRequest* request,
    v1::ListRuleFiringsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    const std::string collection =
        absl::StartsWith(request->parent(), "rules/") ? "rules" : "tickets";
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("parent", request->parent(), collection, &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.ListFirings(scope, collection, id, request->page_size(),
                                                       request->page_token()));
    return absl::OkStatus();
  });
}

}  // namespace crm::ticketing
