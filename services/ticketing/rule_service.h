// crm.ticketing.v1.RuleService: validates rules and hands them to the
// RuleStore; lists the audit of their firings (docs/ticketing.md, "Rules").
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/ticketing/v1/rule_service.grpc.pb.h"
#include "services/ticketing/rule_store.h"

namespace crm::ticketing {

class RuleServiceImpl final : public v1::RuleService::CallbackService {
 public:
  RuleServiceImpl(RuleStore& store, server::Executor& executor,
                  server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateRule(grpc::CallbackServerContext* ctx,
                                       const v1::CreateRuleRequest* request,
                                       v1::Rule* response) override;
  grpc::ServerUnaryReactor* GetRule(grpc::CallbackServerContext* ctx,
                                    const v1::GetRuleRequest* request, v1::Rule* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* ctx,
                                      const v1::ListRulesRequest* request,
                                      v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateRule(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateRuleRequest* request,
                                       v1::Rule* response) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteRuleRequest* request,
                                       v1::DeleteRuleResponse* response) override;
  grpc::ServerUnaryReactor* ListRuleFirings(grpc::CallbackServerContext* ctx,
                                            const v1::ListRuleFiringsRequest* request,
                                            v1::ListRuleFiringsResponse* response) override;

 private:
  RuleStore& store_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::ticketing
