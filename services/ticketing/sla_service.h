// crm.ticketing.v1.SlaService: validates calendars and policies and hands
// them to the SlaStore (docs/ticketing.md has the model).
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "services/ticketing/sla_store.h"

namespace crm::ticketing {

class SlaServiceImpl final : public v1::SlaService::CallbackService {
 public:
  SlaServiceImpl(SlaStore& store, server::Executor& executor,
                 server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateBusinessCalendar(grpc::CallbackServerContext* ctx,
                                                   const v1::CreateBusinessCalendarRequest* request,
                                                   v1::BusinessCalendar* response) override;
  grpc::ServerUnaryReactor* GetBusinessCalendar(grpc::CallbackServerContext* ctx,
                                                const v1::GetBusinessCalendarRequest* request,
                                                v1::BusinessCalendar* response) override;
  grpc::ServerUnaryReactor* ListBusinessCalendars(
      grpc::CallbackServerContext* ctx, const v1::ListBusinessCalendarsRequest* request,
      v1::ListBusinessCalendarsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateBusinessCalendar(grpc::CallbackServerContext* ctx,
                                                   const v1::UpdateBusinessCalendarRequest* request,
                                                   v1::BusinessCalendar* response) override;
  grpc::ServerUnaryReactor* DeleteBusinessCalendar(
      grpc::CallbackServerContext* ctx, const v1::DeleteBusinessCalendarRequest* request,
      v1::DeleteBusinessCalendarResponse* response) override;
  grpc::ServerUnaryReactor* CreateSlaPolicy(grpc::CallbackServerContext* ctx,
                                            const v1::CreateSlaPolicyRequest* request,
                                            v1::SlaPolicy* response) override;
  grpc::ServerUnaryReactor* GetSlaPolicy(grpc::CallbackServerContext* ctx,
                                         const v1::GetSlaPolicyRequest* request,
                                         v1::SlaPolicy* response) override;
  grpc::ServerUnaryReactor* ListSlaPolicies(grpc::CallbackServerContext* ctx,
                                            const v1::ListSlaPoliciesRequest* request,
                                            v1::ListSlaPoliciesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateSlaPolicy(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateSlaPolicyRequest* request,
                                            v1::SlaPolicy* response) override;
  grpc::ServerUnaryReactor* DeleteSlaPolicy(grpc::CallbackServerContext* ctx,
                                            const v1::DeleteSlaPolicyRequest* request,
                                            v1::DeleteSlaPolicyResponse* response) override;

 private:
  SlaStore& store_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::ticketing
