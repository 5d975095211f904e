#include "services/ticketing/routing_service.h"

#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/routing_domain.h"

namespace crm::ticketing {

RoutingServiceImpl::RoutingServiceImpl(RoutingStore& routing, TicketStore& tickets,
                                       server::Executor& executor, server::CallOptions call_options)
    : routing_(routing), tickets_(tickets), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* RoutingServiceImpl::CreateGroup(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateGroupRequest* request,
                                                          v1::Group* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_group()) return absl::InvalidArgumentError("group: required");
    v1::Group group = request->group();
    CRM_RETURN_IF_ERROR(PrepareGroup(&group, "group"));
    CRM_ASSIGN_OR_RETURN(*response, routing_.CreateGroup(scope, group));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::ListGroups(grpc::CallbackServerContext* ctx,
                                                         const v1::ListGroupsRequest* /*request*/,
                                                         v1::ListGroupsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, routing_.ListGroups(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::UpdateGroup(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateGroupRequest* request,
                                                          v1::Group* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_group()) return absl::InvalidArgumentError("group: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("group.name", request->group().name(), "groups", &id));
    v1::Group group = request->group();
    CRM_RETURN_IF_ERROR(PrepareGroup(&group, "group"));
    CRM_ASSIGN_OR_RETURN(*response, routing_.UpdateGroup(scope, id, group));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::CreateAgent(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateAgentRequest* request,
                                                          v1::Agent* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_agent()) return absl::InvalidArgumentError("agent: required");
    v1::Agent agent = request->agent();
    CRM_RETURN_IF_ERROR(PrepareAgent(&agent, "agent"));
    CRM_ASSIGN_OR_RETURN(v1::Agent created, routing_.CreateAgent(scope, agent));
    // A new available agent takes waiting tickets of its groups at once.
    const std::string id = created.name().substr(sizeof("agents/") - 1);
    CRM_RETURN_IF_ERROR(tickets_.DrainAgent(scope, id));
    CRM_ASSIGN_OR_RETURN(*response, routing_.GetAgent(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::GetAgent(grpc::CallbackServerContext* ctx,
                                                       const v1::GetAgentRequest* request,
                                                       v1::Agent* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "agents", &id));
    CRM_ASSIGN_OR_RETURN(*response, routing_.GetAgent(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::ListAgents(grpc::CallbackServerContext* ctx,
                                                         const v1::ListAgentsRequest* /*request*/,
                                                         v1::ListAgentsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, routing_.ListAgents(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* RoutingServiceImpl::UpdateAgent(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateAgentRequest* request,
                                                          v1::Agent* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_agent()) return absl::InvalidArgumentError("agent: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("agent.name", request->agent().name(), "agents", &id));
    v1::Agent agent = request->agent();
    CRM_RETURN_IF_ERROR(PrepareAgent(&agent, "agent"));
    CRM_ASSIGN_OR_RETURN(*response, tickets_.UpdateAgent(scope, id, agent));
    return absl::OkStatus();
  });
}

}  // namespace crm::ticketing
