// The support desk link, the ticketing service's side of it as this service
// calls it: opening a ticket for a conversation (CreateTicket on behalf of
// the call, idempotent per conversation).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/server/call.h"
#include "crm/interaction/v1/conversation.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"

namespace crm::interaction {

class TicketDesk {
 public:
  explicit TicketDesk(std::shared_ptr<grpc::Channel> ticketing);

  // `tickets/{uuid}` of the ticket opened for `conversation` (a retry for
  // the same conversation returns the same ticket).
  absl::StatusOr<std::string> Open(const server::CallScope& scope,
                                   const v1::Conversation& conversation, const std::string& subject,
                                   const std::string& description);

 private:
  std::unique_ptr<crm::ticketing::v1::TicketService::Stub> stub_;
};

}  // namespace crm::interaction
