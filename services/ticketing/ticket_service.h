// crm.ticketing.v1.TicketService: validates each request and hands it to
// the TicketStore (docs/ticketing.md has the model).
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/customer_references.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {

class TicketServiceImpl final : public v1::TicketService::CallbackService {
 public:
  TicketServiceImpl(TicketStore& store, CustomerReferences& references, server::Executor& executor,
                    server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateTicket(grpc::CallbackServerContext* ctx,
                                         const v1::CreateTicketRequest* request,
                                         v1::Ticket* response) override;
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx,
                                      const v1::GetTicketRequest* request,
                                      v1::Ticket* response) override;
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const v1::ListTicketsRequest* request,
                                        v1::ListTicketsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateTicket(grpc::CallbackServerContext* ctx,
                                         const v1::UpdateTicketRequest* request,
                                         v1::Ticket* response) override;
  grpc::ServerUnaryReactor* AssignTicket(grpc::CallbackServerContext* ctx,
                                         const v1::AssignTicketRequest* request,
                                         v1::Ticket* response) override;
  grpc::ServerUnaryReactor* EscalateTicket(grpc::CallbackServerContext* ctx,
                                           const v1::EscalateTicketRequest* request,
                                           v1::Ticket* response) override;
  grpc::ServerUnaryReactor* ChangeTicketStatus(grpc::CallbackServerContext* ctx,
                                               const v1::ChangeTicketStatusRequest* request,
                                               v1::Ticket* response) override;
  grpc::ServerUnaryReactor* CreateCustomStatus(grpc::CallbackServerContext* ctx,
                                               const v1::CreateCustomStatusRequest* request,
                                               v1::CustomStatus* response) override;
  grpc::ServerUnaryReactor* ListCustomStatuses(grpc::CallbackServerContext* ctx,
                                               const v1::ListCustomStatusesRequest* request,
                                               v1::ListCustomStatusesResponse* response) override;
  grpc::ServerUnaryReactor* CreateTicketField(grpc::CallbackServerContext* ctx,
                                              const v1::CreateTicketFieldRequest* request,
                                              v1::TicketField* response) override;
  grpc::ServerUnaryReactor* ListTicketFields(grpc::CallbackServerContext* ctx,
                                             const v1::ListTicketFieldsRequest* request,
                                             v1::ListTicketFieldsResponse* response) override;
  grpc::ServerUnaryReactor* AddComment(grpc::CallbackServerContext* ctx,
                                       const v1::AddCommentRequest* request,
                                       v1::Comment* response) override;
  grpc::ServerUnaryReactor* SubmitSatisfactionRating(
      grpc::CallbackServerContext* ctx, const v1::SubmitSatisfactionRatingRequest* request,
      v1::SatisfactionRating* response) override;
  grpc::ServerUnaryReactor* MergeTickets(grpc::CallbackServerContext* ctx,
                                         const v1::MergeTicketsRequest* request,
                                         v1::MergeTicketsResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportTicketsResponse>* ExportTickets(
      grpc::CallbackServerContext* ctx, const v1::ExportTicketsRequest* request) override;
  grpc::ServerUnaryReactor* ListComments(grpc::CallbackServerContext* ctx,
                                         const v1::ListCommentsRequest* request,
                                         v1::ListCommentsResponse* response) override;

 private:
  TicketStore& store_;
  CustomerReferences& references_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::ticketing
