#include "services/ticketing/ticket_service.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/snapshot_export.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_fields.h"

namespace crm::ticketing {
namespace {

// The request's request_id, checked, and the fingerprint of the rest of it.
template <typename Request>
absl::StatusOr<RequestKey> KeyOf(const Request& request) {
  CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request.request_id()));
  Request rest = request;
  rest.clear_request_id();
  return RequestKey{request.request_id(), api::RequestFingerprint(rest)};
}

}  // namespace

TicketServiceImpl::TicketServiceImpl(TicketStore& store, CustomerReferences& references,
                                     server::Executor& executor, server::CallOptions call_options)
    : store_(store), references_(references), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* TicketServiceImpl::CreateTicket(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateTicketRequest* request,
                                                          v1::Ticket* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_ticket()) return absl::InvalidArgumentError("ticket: required");
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    v1::Ticket ticket = request->ticket();
    ticket.clear_name();
    ticket.clear_etag();
    ticket.clear_create_time();
    ticket.clear_update_time();
    ticket.clear_first_response_time();
    ticket.clear_solve_time();
    ticket.clear_close_time();
    ticket.clear_requester_tags();
    ticket.clear_sla();
    CRM_RETURN_IF_ERROR(PrepareNewTicket(&ticket, "ticket"));
    CRM_RETURN_IF_ERROR(references_.Check(scope, &ticket));
    v1::CreateTicketRequest fingerprint = *request;
    fingerprint.clear_request_id();
    CRM_ASSIGN_OR_RETURN(*response, store_.Create(scope, std::move(ticket), request->request_id(),
                                                  api::RequestFingerprint(fingerprint)));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::GetTicket(grpc::CallbackServerContext* ctx,
                                                       const v1::GetTicketRequest* request,
                                                       v1::Ticket* response) {
  return server::RunRead(
      ctx, call_options_,
      [this, request, response](const server::CallScope& scope, server::Finish finish) {
        std::string id;
        absl::Status status = api::ParseResourceName("name", request->name(), "tickets", &id);
        if (!status.ok()) return finish(status);
        store_.Get(scope, id, [response, finish](absl::StatusOr<v1::Ticket> ticket) {
          if (ticket.ok()) *response = *std::move(ticket);
          finish(ticket.status());
        });
      });
}

grpc::ServerUnaryReactor* TicketServiceImpl::ListTickets(grpc::CallbackServerContext* ctx,
                                                         const v1::ListTicketsRequest* request,
                                                         v1::ListTicketsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::UpdateTicket(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateTicketRequest* request,
                                                          v1::Ticket* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_ticket()) return absl::InvalidArgumentError("ticket: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("ticket.name", request->ticket().name(), "tickets", &id));
    const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                         request->update_mask().paths().end());
    v1::Ticket patch = request->ticket();
    CRM_RETURN_IF_ERROR(ValidateTicketUpdate(&patch, paths, "ticket"));
    if (std::find(paths.begin(), paths.end(), "order") != paths.end() && !patch.order().empty()) {
      // The requester never changes, so the check holds for the update.
      CRM_ASSIGN_OR_RETURN(v1::Ticket current, store_.Find(scope, id));
      CRM_RETURN_IF_ERROR(
          references_.CheckOrder(scope, current.requester(), patch.order(), "ticket.order"));
    }
    CRM_ASSIGN_OR_RETURN(*response, store_.Update(scope, id, patch, paths));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::AssignTicket(grpc::CallbackServerContext* ctx,
                                                          const v1::AssignTicketRequest* request,
                                                          v1::Ticket* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id, group, agent;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "tickets", &id));
    if (request->group().empty() && request->assignee().empty()) {
      return absl::InvalidArgumentError("group: give a group, an assignee, or both");
    }
    if (!request->group().empty()) {
      CRM_RETURN_IF_ERROR(api::ParseResourceName("group", request->group(), "groups", &group));
    }
    if (!request->assignee().empty()) {
      CRM_RETURN_IF_ERROR(
          api::ParseResourceName("assignee", request->assignee(), "agents", &agent));
    }
    CRM_ASSIGN_OR_RETURN(RequestKey key, KeyOf(*request));
    CRM_ASSIGN_OR_RETURN(*response, store_.Assign(scope, id, group, agent, request->etag(), key));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::EscalateTicket(
    grpc::CallbackServerContext* ctx, const v1::EscalateTicketRequest* request,
    v1::Ticket* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id, group;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "tickets", &id));
    CRM_RETURN_IF_ERROR(api::OptionalEnum("priority", request->priority()));
    if (!request->group().empty()) {
      CRM_RETURN_IF_ERROR(api::ParseResourceName("group", request->group(), "groups", &group));
    }
    if (request->reason().empty()) return absl::InvalidArgumentError("reason: required");
    CRM_RETURN_IF_ERROR(api::CheckText("reason", request->reason(), 2000));
    CRM_ASSIGN_OR_RETURN(RequestKey key, KeyOf(*request));
    CRM_ASSIGN_OR_RETURN(*response, store_.Escalate(scope, id, request->priority(), group,
                                                    request->reason(), request->etag(), key));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::ChangeTicketStatus(
    grpc::CallbackServerContext* ctx, const v1::ChangeTicketStatusRequest* request,
    v1::Ticket* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "tickets", &id));
    std::string custom_status;
    if (request->custom_status().empty()) {
      CRM_RETURN_IF_ERROR(api::RequiredEnum("status", request->status()));
    } else {
      CRM_RETURN_IF_ERROR(api::OptionalEnum("status", request->status()));
      CRM_RETURN_IF_ERROR(api::ParseResourceName("custom_status", request->custom_status(),
                                                 "customStatuses", &custom_status));
    }
    CRM_ASSIGN_OR_RETURN(RequestKey key, KeyOf(*request));
    CRM_ASSIGN_OR_RETURN(*response, store_.ChangeStatus(scope, id, request->status(), custom_status,
                                                        request->etag(), key));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::CreateCustomStatus(
    grpc::CallbackServerContext* ctx, const v1::CreateCustomStatusRequest* request,
    v1::CustomStatus* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_custom_status()) {
      return absl::InvalidArgumentError("custom_status: required");
    }
    CRM_RETURN_IF_ERROR(ValidateCustomStatus(request->custom_status(), "custom_status"));
    CRM_ASSIGN_OR_RETURN(*response, store_.CreateCustomStatus(scope, request->custom_status()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::ListCustomStatuses(
    grpc::CallbackServerContext* ctx, const v1::ListCustomStatusesRequest* /*request*/,
    v1::ListCustomStatusesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListCustomStatuses(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::CreateTicketField(
    grpc::CallbackServerContext* ctx, const v1::CreateTicketFieldRequest* request,
    v1::TicketField* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_field()) return absl::InvalidArgumentError("field: required");
    v1::TicketField field = request->field();
    CRM_RETURN_IF_ERROR(ValidateTicketField(&field, "field"));
    CRM_ASSIGN_OR_RETURN(*response, store_.CreateField(scope, field));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::ListTicketFields(
    grpc::CallbackServerContext* ctx, const v1::ListTicketFieldsRequest* /*request*/,
    v1::ListTicketFieldsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListFields(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::AddComment(grpc::CallbackServerContext* ctx,
                                                        const v1::AddCommentRequest* request,
                                                        v1::Comment* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("parent", request->parent(), "tickets", &id));
    if (!request->has_comment()) return absl::InvalidArgumentError("comment: required");
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    CRM_RETURN_IF_ERROR(ValidateComment(request->comment(), "comment"));
    v1::Comment comment = request->comment();
    comment.clear_name();
    comment.clear_create_time();
    v1::AddCommentRequest fingerprint = *request;
    fingerprint.clear_request_id();
    CRM_ASSIGN_OR_RETURN(*response,
                         store_.AddComment(scope, id, std::move(comment), request->request_id(),
                                           api::RequestFingerprint(fingerprint)));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::SubmitSatisfactionRating(
    grpc::CallbackServerContext* ctx, const v1::SubmitSatisfactionRatingRequest* request,
    v1::SatisfactionRating* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("parent", request->parent(), "tickets", &id));
    if (!request->has_rating()) return absl::InvalidArgumentError("rating: required");
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    CRM_RETURN_IF_ERROR(ValidateRating(request->rating(), "rating"));
    v1::SatisfactionRating rating = request->rating();
    rating.clear_name();
    rating.clear_create_time();
    v1::SubmitSatisfactionRatingRequest fingerprint = *request;
    fingerprint.clear_request_id();
    CRM_ASSIGN_OR_RETURN(*response, store_.Rate(scope, id, std::move(rating), request->request_id(),
                                                api::RequestFingerprint(fingerprint)));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketServiceImpl::MergeTickets(grpc::CallbackServerContext* ctx,
                                                          const v1::MergeTicketsRequest* request,
                                                          v1::MergeTicketsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string source, target;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("source", request->source(), "tickets", &source));
    CRM_RETURN_IF_ERROR(api::ParseResourceName("target", request->target(), "tickets", &target));
    if (source == target) {
      return absl::InvalidArgumentError("target: a ticket cannot merge into itself");
    }
    CRM_ASSIGN_OR_RETURN(RequestKey key, KeyOf(*request));
    CRM_ASSIGN_OR_RETURN(*response, store_.Merge(scope, source, target, key));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportTicketsResponse>* TicketServiceImpl::ExportTickets(
    grpc::CallbackServerContext* ctx, const v1::ExportTicketsRequest* request) {
  return server::ServeSnapshotExport<v1::ExportTicketsResponse>(
      ctx, call_options_, executor_, request->batch_size(),
      [this](const server::CallScope& scope, int batch,
             const server::SnapshotPager<v1::ExportTicketsResponse>::Emit& emit) {
        return store_.Export(scope, batch, emit);
      });
}

grpc::ServerUnaryReactor* TicketServiceImpl::ListComments(grpc::CallbackServerContext* ctx,
                                                          const v1::ListCommentsRequest* request,
                                                          v1::ListCommentsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("parent", request->parent(), "tickets", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.ListComments(scope, id, *request));
    return absl::OkStatus();
  });
}

}  // namespace crm::ticketing
