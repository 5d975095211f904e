#include "services/ticketing/sla_service.h"

#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/sla_clock.h"

namespace crm::ticketing {

SlaServiceImpl::SlaServiceImpl(SlaStore& store, server::Executor& executor,
                               server::CallOptions call_options)
    : store_(store), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* SlaServiceImpl::CreateBusinessCalendar(
    grpc::CallbackServerContext* ctx, const v1::CreateBusinessCalendarRequest* request,
    v1::BusinessCalendar* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_calendar()) return absl::InvalidArgumentError("calendar: required");
    CRM_RETURN_IF_ERROR(CalendarOf(request->calendar(), "calendar").status());
    CRM_ASSIGN_OR_RETURN(*response, store_.CreateCalendar(scope, request->calendar()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::GetBusinessCalendar(
    grpc::CallbackServerContext* ctx, const v1::GetBusinessCalendarRequest* request,
    v1::BusinessCalendar* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "calendars", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.GetCalendar(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::ListBusinessCalendars(
    grpc::CallbackServerContext* ctx, const v1::ListBusinessCalendarsRequest* /*request*/,
    v1::ListBusinessCalendarsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListCalendars(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::UpdateBusinessCalendar(
    grpc::CallbackServerContext* ctx, const v1::UpdateBusinessCalendarRequest* request,
    v1::BusinessCalendar* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_calendar()) return absl::InvalidArgumentError("calendar: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("calendar.name", request->calendar().name(), "calendars", &id));
    CRM_RETURN_IF_ERROR(CalendarOf(request->calendar(), "calendar").status());
    CRM_ASSIGN_OR_RETURN(*response, store_.UpdateCalendar(scope, id, request->calendar()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::DeleteBusinessCalendar(
    grpc::CallbackServerContext* ctx, const v1::DeleteBusinessCalendarRequest* request,
    v1::DeleteBusinessCalendarResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "calendars", &id));
    return store_.DeleteCalendar(scope, id, request->etag());
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::CreateSlaPolicy(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateSlaPolicyRequest* request,
                                                          v1::SlaPolicy* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_policy()) return absl::InvalidArgumentError("policy: required");
    CRM_RETURN_IF_ERROR(ValidateSlaPolicy(request->policy(), "policy"));
    CRM_ASSIGN_OR_RETURN(*response, store_.CreatePolicy(scope, request->policy()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::GetSlaPolicy(grpc::CallbackServerContext* ctx,
                                                       const v1::GetSlaPolicyRequest* request,
                                                       v1::SlaPolicy* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "slaPolicies", &id));
    CRM_ASSIGN_OR_RETURN(*response, store_.GetPolicy(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::ListSlaPolicies(
    grpc::CallbackServerContext* ctx, const v1::ListSlaPoliciesRequest* /*request*/,
    v1::ListSlaPoliciesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.ListPolicies(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::UpdateSlaPolicy(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateSlaPolicyRequest* request,
                                                          v1::SlaPolicy* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_policy()) return absl::InvalidArgumentError("policy: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("policy.name", request->policy().name(), "slaPolicies", &id));
    CRM_RETURN_IF_ERROR(ValidateSlaPolicy(request->policy(), "policy"));
    CRM_ASSIGN_OR_RETURN(*response, store_.UpdatePolicy(scope, id, request->policy()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SlaServiceImpl::DeleteSlaPolicy(
    grpc::CallbackServerContext* ctx, const v1::DeleteSlaPolicyRequest* request,
    v1::DeleteSlaPolicyResponse* /*response*/) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "slaPolicies", &id));
    return store_.DeletePolicy(scope, id, request->etag());
  });
}

}  // namespace crm::ticketing
