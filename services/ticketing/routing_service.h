// crm.ticketing.v1.RoutingService: validates groups and agents and hands
// them to the RoutingStore (agent updates to the TicketStore, which hands
// tickets back and re-routes them in the same transaction).
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/ticketing/v1/routing_service.grpc.pb.h"
#include "services/ticketing/routing_store.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {

class RoutingServiceImpl final : public v1::RoutingService::CallbackService {
 public:
  RoutingServiceImpl(RoutingStore& routing, TicketStore& tickets, server::Executor& executor,
                     server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* ctx,
                                        const v1::CreateGroupRequest* request,
                                        v1::Group* response) override;
  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* ctx,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateGroup(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateGroupRequest* request,
                                        v1::Group* response) override;
  grpc::ServerUnaryReactor* CreateAgent(grpc::CallbackServerContext* ctx,
                                        const v1::CreateAgentRequest* request,
                                        v1::Agent* response) override;
  grpc::ServerUnaryReactor* GetAgent(grpc::CallbackServerContext* ctx,
                                     const v1::GetAgentRequest* request,
                                     v1::Agent* response) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* ctx,
                                       const v1::ListAgentsRequest* request,
                                       v1::ListAgentsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateAgent(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateAgentRequest* request,
                                        v1::Agent* response) override;

 private:
  RoutingStore& routing_;
  TicketStore& tickets_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::ticketing
