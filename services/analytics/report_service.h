// crm.analytics.v1.ReportService: cohorts and sales forecasts over the
// fact store's orders.
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {

class ReportServiceImpl final : public v1::ReportService::CallbackService {
 public:
  ReportServiceImpl(FactStore& facts, server::Executor& executor,
                    server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* GetCohortReport(grpc::CallbackServerContext* ctx,
                                            const v1::GetCohortReportRequest* request,
                                            v1::CohortReport* response) override;
  grpc::ServerUnaryReactor* GetSalesForecast(grpc::CallbackServerContext* ctx,
                                             const v1::GetSalesForecastRequest* request,
                                             v1::SalesForecast* response) override;

 private:
  FactStore& facts_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

// The reports' arithmetic over one currency's orders (no I/O).
absl::StatusOr<v1::CohortReport> BuildCohortReport(const std::vector<OrderPoint>& orders,
                                                   const std::string& end_month, int months);
absl::StatusOr<v1::SalesForecast> BuildSalesForecast(const std::vector<OrderPoint>& orders,
                                                     v1::ForecastMeasure measure, int horizon_days);

}  // namespace crm::analytics
