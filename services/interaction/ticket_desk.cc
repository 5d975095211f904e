#include "services/interaction/ticket_desk.h"

#include "absl/strings/str_cat.h"

namespace crm::interaction {
namespace {

namespace tv1 = crm::ticketing::v1;

tv1::Channel TicketChannel(v1::Channel channel) {
  switch (channel) {
    case v1::CHANNEL_EMAIL:
      return tv1::CHANNEL_EMAIL;
    case v1::CHANNEL_SMS:
      return tv1::CHANNEL_SMS;
    case v1::CHANNEL_LIVE_CHAT:
      return tv1::CHANNEL_CHAT;
    case v1::CHANNEL_PHONE:
      return tv1::CHANNEL_PHONE;
    case v1::CHANNEL_WEB_FORM:
      return tv1::CHANNEL_WEB_FORM;
    default:
      return tv1::CHANNEL_SOCIAL;  // WhatsApp, Messenger, Instagram
  }
}

}  // namespace

TicketDesk::TicketDesk(std::shared_ptr<grpc::Channel> ticketing)
    : stub_(tv1::TicketService::NewStub(std::move(ticketing))) {}

absl::StatusOr<std::string> TicketDesk::Open(const server::CallScope& scope,
                                             const v1::Conversation& conversation,
                                             const std::string& subject,
                                             const std::string& description) {
  tv1::CreateTicketRequest request;
  tv1::Ticket* t = request.mutable_ticket();
  t->set_requester(conversation.customer());
  t->set_subject(subject);
  t->set_description(description);
  t->set_channel(TicketChannel(conversation.channel()));
  t->set_source_conversation(conversation.name());
  request.set_request_id(
      absl::StrCat("conversation-", conversation.name().substr(sizeof("conversations/") - 1)));
  tv1::Ticket created;
  grpc::Status status = stub_->CreateTicket(
      server::CallOnBehalf(scope, "services/interaction").get(), request, &created);
  if (status.ok()) return created.name();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(absl::StrCat(
          "conversation: the ticketing service refused the ticket: ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError("deadline exceeded while opening the ticket");
    default:
      return absl::UnavailableError(absl::StrCat(
          "ticketing service could not open the ticket: ", status.error_message(), "; retry"));
  }
}

}  // namespace crm::interaction
