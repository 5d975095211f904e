// crm.interaction.v1.ConversationService: validates each request, resolves
// senders through the customer service, and hands the rest to the
// ConversationStore (docs/interaction.md has the model).
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/customer_directory.h"
#include "services/interaction/template_service.h"
#include "services/interaction/ticket_desk.h"

namespace crm::interaction {

class ConversationServiceImpl final : public v1::ConversationService::CallbackService {
 public:
  ConversationServiceImpl(ConversationStore& store, CustomerDirectory& customers,
                          TemplateRenderer& templates, TicketDesk* desk, server::Executor& executor,
                          server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* ReceiveMessage(grpc::CallbackServerContext* ctx,
                                           const v1::ReceiveMessageRequest* request,
                                           v1::ReceiveMessageResponse* response) override;
  grpc::ServerUnaryReactor* SendMessage(grpc::CallbackServerContext* ctx,
                                        const v1::SendMessageRequest* request,
                                        v1::SendMessageResponse* response) override;
  grpc::ServerUnaryReactor* GetConversation(grpc::CallbackServerContext* ctx,
                                            const v1::GetConversationRequest* request,
                                            v1::Conversation* response) override;
  grpc::ServerUnaryReactor* ListConversations(grpc::CallbackServerContext* ctx,
                                              const v1::ListConversationsRequest* request,
                                              v1::ListConversationsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateConversation(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateConversationRequest* request,
                                               v1::Conversation* response) override;
  grpc::ServerUnaryReactor* MergeConversations(grpc::CallbackServerContext* ctx,
                                               const v1::MergeConversationsRequest* request,
                                               v1::MergeConversationsResponse* response) override;
  grpc::ServerUnaryReactor* OpenTicket(grpc::CallbackServerContext* ctx,
                                       const v1::OpenTicketRequest* request,
                                       v1::OpenTicketResponse* response) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* ctx,
                                         const v1::ListMessagesRequest* request,
                                         v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* ListTimeline(grpc::CallbackServerContext* ctx,
                                         const v1::ListTimelineRequest* request,
                                         v1::ListTimelineResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportMessagesResponse>* ExportMessages(
      grpc::CallbackServerContext* ctx, const v1::ExportMessagesRequest* request) override;

  // ReceiveMessage's work, also for channel webhooks (services/interaction/
  // webhooks.cc).
  absl::Status Receive(const server::CallScope& scope, v1::ReceiveMessageRequest request,
                       v1::ReceiveMessageResponse* response);

 private:
  absl::Status Send(const server::CallScope& scope, const v1::SendMessageRequest& request,
                    v1::SendMessageResponse* response);

  ConversationStore& store_;
  CustomerDirectory& customers_;
  TemplateRenderer& templates_;
  TicketDesk* desk_;  // null when the ticketing service is not deployed
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::interaction
