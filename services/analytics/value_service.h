// crm.analytics.v1.ValueService over the fact store, the value reports and
// the kept scores.
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/score_store.h"

namespace crm::analytics {

class ValueServiceImpl final : public v1::ValueService::CallbackService {
 public:
  ValueServiceImpl(FactStore& facts, ScoreStore& scores, server::Executor& executor,
                   server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* GetRfmSummary(grpc::CallbackServerContext* ctx,
                                          const v1::GetRfmSummaryRequest* request,
                                          v1::RfmSummary* response) override;
  grpc::ServerUnaryReactor* FitValueModel(grpc::CallbackServerContext* ctx,
                                          const v1::FitValueModelRequest* request,
                                          v1::ValueModel* response) override;
  grpc::ServerUnaryReactor* GetValueModel(grpc::CallbackServerContext* ctx,
                                          const v1::GetValueModelRequest* request,
                                          v1::ValueModel* response) override;
  grpc::ServerUnaryReactor* GetCustomerValue(grpc::CallbackServerContext* ctx,
                                             const v1::GetCustomerValueRequest* request,
                                             v1::CustomerValue* response) override;
  grpc::ServerUnaryReactor* ListCustomerScores(grpc::CallbackServerContext* ctx,
                                               const v1::ListCustomerScoresRequest* request,
                                               v1::ListCustomerScoresResponse* response) override;

 private:
  FactStore& facts_;
  ScoreStore& scores_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::analytics
