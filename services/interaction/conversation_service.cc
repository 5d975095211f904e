#include "services/interaction/conversation_service.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/snapshot_export.h"
#include "services/interaction/delivery_domain.h"
#include "services/interaction/email_parser.h"

namespace crm::interaction {

ConversationServiceImpl::ConversationServiceImpl(ConversationStore& store,
                                                 CustomerDirectory& customers,
                                                 TemplateRenderer& templates, TicketDesk* desk,
                                                 server::Executor& executor,
                                                 server::CallOptions call_options)
    : store_(store),
      customers_(customers),
      templates_(templates),
      desk_(desk),
      executor_(executor),
      call_options_(call_options) {}

absl::Status ConversationServiceImpl::Receive(const server::CallScope& scope,
                                              v1::ReceiveMessageRequest request,
                                              v1::ReceiveMessageResponse* response) {
  if (!request.raw_email().empty()) {
    if (request.channel() != v1::CHANNEL_EMAIL) {
      return absl::InvalidArgumentError("channel: raw_email needs CHANNEL_EMAIL");
    }
    for (const auto& [field, set] : {std::pair<const char*, bool>{"from", !request.from().empty()},
                                     {"to", !request.to().empty()},
                                     {"subject", !request.subject().empty()},
                                     {"text", !request.text().empty()},
                                     {"html", !request.html().empty()},
                                     {"attachments", request.attachments_size() > 0},
                                     {"external_id", !request.external_id().empty()},
                                     {"in_reply_to", !request.in_reply_to().empty()},
                                     {"references", request.references_size() > 0},
                                     {"sent_time", request.has_sent_time()}}) {
      if (set) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": comes from raw_email; leave it empty"));
      }
    }
    CRM_RETURN_IF_ERROR(ParseRawEmail(request.raw_email(), &request));
    request.clear_raw_email();
  }
  CRM_RETURN_IF_ERROR(ValidateReceive(request));
  std::optional<ContactAddress> contact;
  if (request.customer().empty()) {
    CRM_ASSIGN_OR_RETURN(contact, ContactOf(request.channel(), request.from(), "from"));
  }
  const ContactAddress* sender = contact ? &*contact : nullptr;
  CRM_ASSIGN_OR_RETURN(Receipt receipt,
                       store_.Look(scope, request.channel(), request.external_id(), sender));
  if (!receipt.replay_of.empty()) {
    CRM_ASSIGN_OR_RETURN(*response, store_.Replay(scope, receipt.replay_of));
    return absl::OkStatus();
  }
  std::string customer = receipt.customer;
  bool created = false;
  if (!request.customer().empty()) {
    CRM_ASSIGN_OR_RETURN(customer, customers_.Check(scope, request.customer(), "customer"));
  } else if (customer.empty()) {
    CRM_ASSIGN_OR_RETURN(ResolvedCustomer resolved,
                         customers_.Identify(scope, *contact, request.sender_name()));
    customer = resolved.name;
    created = resolved.created;
  }
  absl::StatusOr<v1::ReceiveMessageResponse> stored =
      store_.Receive(scope, request, customer, sender);
  if (absl::IsAlreadyExists(stored.status())) {
    // A concurrent retry stored the same message first: answer with it.
    CRM_ASSIGN_OR_RETURN(Receipt again,
                         store_.Look(scope, request.channel(), request.external_id(), nullptr));
    if (again.replay_of.empty()) return stored.status();
    CRM_ASSIGN_OR_RETURN(*response, store_.Replay(scope, again.replay_of));
    return absl::OkStatus();
  }
  CRM_RETURN_IF_ERROR(stored.status());
  *response = *std::move(stored);
  response->set_customer_created(created);
  return absl::OkStatus();
}

absl::Status ConversationServiceImpl::Send(const server::CallScope& scope,
                                           const v1::SendMessageRequest& request,
                                           v1::SendMessageResponse* response) {
  CRM_RETURN_IF_ERROR(ValidateSend(request));
  CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request.request_id()));
  const std::string hash = api::RequestFingerprint(request);
  CRM_ASSIGN_OR_RETURN(auto replay, store_.ReplaySend(scope, request.request_id(), hash));
  if (replay) {
    *response = *std::move(replay);
    return absl::OkStatus();
  }
  // Who and where: the conversation's customer and channel, or the
  // request's; the address the customer last wrote from, or their profile's.
  std::string customer = request.customer();
  v1::Channel channel = request.channel();
  std::string to = request.to();
  if (!request.conversation().empty()) {
    CRM_ASSIGN_OR_RETURN(auto target,
                         store_.ReplyTarget(scope, api::LastSegment(request.conversation())));
    customer = target.first.customer();
    channel = target.first.channel();
    if (to.empty()) to = target.second;
    if (channel != v1::CHANNEL_EMAIL && channel != v1::CHANNEL_SMS &&
        channel != v1::CHANNEL_WHATSAPP) {
      return absl::FailedPreconditionError(
          absl::StrCat("conversation: sending on ", api::EnumText(channel),
                       " is not supported yet (EMAIL, SMS, WHATSAPP)"));
    }
  }
  CRM_ASSIGN_OR_RETURN(
      crm::customer::v1::Customer profile,
      customers_.Fetch(scope, customer,
                       request.conversation().empty() ? "customer" : "conversation"));
  const bool email = channel == v1::CHANNEL_EMAIL;
  if (to.empty()) to = email ? profile.email() : profile.phone();
  if (to.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("to: ", profile.name(), " has no ",
                                                      email ? "e-mail address" : "phone number",
                                                      "; give `to`"));
  }
  CRM_ASSIGN_OR_RETURN(ContactAddress address, ContactOf(channel, to, "to"));
  if (request.purpose() == v1::PURPOSE_MARKETING) {
    CRM_RETURN_IF_ERROR(
        customers_.CheckMarketingConsent(scope, profile.name(), ConsentChannelOf(channel)));
  }
  if (request.template_().empty() && request.template_key().empty()) {
    CRM_ASSIGN_OR_RETURN(*response,
                         store_.Send(scope, request, profile.name(), channel, address, hash));
    return absl::OkStatus();
  }
  v1::RenderTemplateRequest render;
  render.set_template_(request.template_());
  render.set_key(request.template_key());
  render.set_channel(channel);
  render.set_customer(profile.name());
  render.set_order(request.order());
  *render.mutable_offer() = request.offer();
  CRM_ASSIGN_OR_RETURN(v1::RenderTemplateResponse rendered,
                       templates_.Render(scope, render, profile));
  v1::SendMessageRequest filled = request;
  filled.set_subject(rendered.subject());
  filled.set_text(rendered.text());
  filled.set_html(rendered.html());
  filled.set_template_(rendered.template_());
  filled.clear_template_key();
  if (filled.text().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "template: ", rendered.template_(), " renders an empty text for ", profile.name()));
  }
  // The request's own fingerprint keys the retry: a template edited since
  // does not make a retry a new message.
  CRM_ASSIGN_OR_RETURN(*response,
                       store_.Send(scope, filled, profile.name(), channel, address, hash));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ConversationServiceImpl::SendMessage(
    grpc::CallbackServerContext* ctx, const v1::SendMessageRequest* request,
    v1::SendMessageResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    return Send(scope, *request, response);
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::ReceiveMessage(
    grpc::CallbackServerContext* ctx, const v1::ReceiveMessageRequest* request,
    v1::ReceiveMessageResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    return Receive(scope, *request, response);
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::GetConversation(
    grpc::CallbackServerContext* ctx, const v1::GetConversationRequest* request,
    v1::Conversation* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "conversations", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.Get(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::ListConversations(
    grpc::CallbackServerContext* ctx, const v1::ListConversationsRequest* request,
    v1::ListConversationsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::UpdateConversation(
    grpc::CallbackServerContext* ctx, const v1::UpdateConversationRequest* request,
    v1::Conversation* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_conversation()) return absl::InvalidArgumentError("conversation: required");
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("conversation.name", request->conversation().name(),
                                               "conversations", &id));
    const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                         request->update_mask().paths().end());
    CRM_RETURN_IF_ERROR(ValidateConversationUpdate(request->conversation(), paths, absl::Now()));
    CRM_ASSIGN_OR_RETURN(*response, store_.Update(scope, id, request->conversation(), paths));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::MergeConversations(
    grpc::CallbackServerContext* ctx, const v1::MergeConversationsRequest* request,
    v1::MergeConversationsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string source, target;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("source", request->source(), "conversations", &source));
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("target", request->target(), "conversations", &target));
    if (source == target) {
      return absl::InvalidArgumentError("target: must not be the source");
    }
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    CRM_ASSIGN_OR_RETURN(*response, store_.Merge(scope, source, target, request->request_id(),
                                                 api::RequestFingerprint(*request)));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::OpenTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::OpenTicketRequest* request,
                                                              v1::OpenTicketResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("conversation", request->conversation(), "conversations", &id));
    CRM_RETURN_IF_ERROR(api::CheckText("subject", request->subject(), 200));
    if (desk_ == nullptr) {
      return absl::FailedPreconditionError(
          "conversation: no ticketing service is configured (--services ticketing=...)");
    }
    CRM_ASSIGN_OR_RETURN(v1::Conversation conversation, store_.Get(scope, id));
    if (!conversation.merged_into().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "conversation: ", conversation.name(), " was merged into ", conversation.merged_into()));
    }
    if (!conversation.ticket().empty()) {
      *response->mutable_conversation() = conversation;
      response->set_ticket(conversation.ticket());
      return absl::OkStatus();
    }
    CRM_ASSIGN_OR_RETURN(std::string text, store_.FirstText(scope, id));
    std::string subject = request->subject();
    if (subject.empty()) subject = conversation.subject();
    if (subject.empty()) subject = text.substr(0, text.find('\n')).substr(0, 80);
    if (subject.empty() || !api::IsValidUtf8(subject)) subject = "Conversation";
    if (text.size() > 65536) text.resize(65536);
    if (!api::IsValidUtf8(text)) text.clear();
    CRM_ASSIGN_OR_RETURN(std::string ticket, desk_->Open(scope, conversation, subject, text));
    v1::Conversation link;
    link.set_ticket(ticket);
    CRM_ASSIGN_OR_RETURN(*response->mutable_conversation(),
                         store_.Update(scope, id, link, {"ticket"}));
    response->set_ticket(ticket);
    response->set_created(true);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::ListMessages(
    grpc::CallbackServerContext* ctx, const v1::ListMessagesRequest* request,
    v1::ListMessagesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("parent", request->parent(), "conversations", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.ListMessages(scope, id, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ConversationServiceImpl::ListTimeline(
    grpc::CallbackServerContext* ctx, const v1::ListTimelineRequest* request,
    v1::ListTimelineResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("customer", request->customer(), "customers", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.ListTimeline(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportMessagesResponse>* ConversationServiceImpl::ExportMessages(
    grpc::CallbackServerContext* ctx, const v1::ExportMessagesRequest* request) {
  return server::ServeSnapshotExport<v1::ExportMessagesResponse>(
      ctx, call_options_, executor_, request->batch_size(),
      [this](const server::CallScope& scope, int batch,
             const server::SnapshotPager<v1::ExportMessagesResponse>::Emit& emit) {
        return store_.Export(scope, batch, emit);
      });
}

}  // namespace crm::interaction
