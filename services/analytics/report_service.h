// crm.analytics.v1.ReportService: cohorts and sales forecasts over the
// fact store's orders; support and engagement over the activity store's
// tickets and messages.
#pragma once

#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "services/analytics/activity_store.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {

class ReportServiceImpl final : public v1::ReportService::CallbackService {
 public:
  ReportServiceImpl(FactStore& facts, ActivityStore& activity, server::Executor& executor,
                    server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* GetCohortReport(grpc::CallbackServerContext* ctx,
                                            const v1::GetCohortReportRequest* request,
                                            v1::CohortReport* response) override;
  grpc::ServerUnaryReactor* GetSalesForecast(grpc::CallbackServerContext* ctx,
                                             const v1::GetSalesForecastRequest* request,
                                             v1::SalesForecast* response) override;
  grpc::ServerUnaryReactor* GetSupportReport(grpc::CallbackServerContext* ctx,
                                             const v1::GetSupportReportRequest* request,
                                             v1::SupportReport* response) override;
  grpc::ServerUnaryReactor* GetEngagementReport(grpc::CallbackServerContext* ctx,
                                                const v1::GetEngagementReportRequest* request,
                                                v1::EngagementReport* response) override;
  grpc::ServerUnaryReactor* GetPricingReport(grpc::CallbackServerContext* ctx,
                                             const v1::GetPricingReportRequest* request,
                                             v1::PricingReport* response) override;
  grpc::ServerWriteReactor<v1::ExportReportChunk>* ExportReport(
      grpc::CallbackServerContext* ctx, const v1::ExportReportRequest* request) override;

 private:
  // The reports, for their Get methods and ExportReport.
  absl::StatusOr<v1::CohortReport> Cohorts(const server::CallScope& scope,
                                           const v1::GetCohortReportRequest& request);
  absl::StatusOr<v1::SalesForecast> Forecast(const server::CallScope& scope,
                                             const v1::GetSalesForecastRequest& request);
  absl::StatusOr<v1::SupportReport> Support(const server::CallScope& scope,
                                            const v1::GetSupportReportRequest& request);
  absl::StatusOr<v1::EngagementReport> Engagement(const server::CallScope& scope,
                                                  const v1::GetEngagementReportRequest& request);
  absl::StatusOr<v1::PricingReport> Pricing(const server::CallScope& scope,
                                            const v1::GetPricingReportRequest& request);
  // ExportReport's document.
  absl::StatusOr<std::string> Csv(const server::CallScope& scope,
                                  const v1::ExportReportRequest& request);

  FactStore& facts_;
  ActivityStore& activity_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

// The reports' arithmetic over one currency's orders (no I/O).
absl::StatusOr<v1::CohortReport> BuildCohortReport(const std::vector<OrderPoint>& orders,
                                                   const std::string& end_month, int months);
// A report's period from the request: [start, end), by default the 30
// days up to `now`; INVALID_ARGUMENT for an empty or reversed period or one
// over 366 days.
absl::StatusOr<std::pair<absl::Time, absl::Time>> ReportPeriod(
    const google::protobuf::Timestamp* start, const google::protobuf::Timestamp* end,
    absl::Time now);
// The same from a request's `start_time` and `end_time`.
template <typename Request>
absl::StatusOr<std::pair<absl::Time, absl::Time>> ReportPeriod(const Request& request,
                                                               absl::Time now) {
  return ReportPeriod(request.has_start_time() ? &request.start_time() : nullptr,
                      request.has_end_time() ? &request.end_time() : nullptr, now);
}
absl::StatusOr<v1::SalesForecast> BuildSalesForecast(const std::vector<OrderPoint>& orders,
                                                     v1::ForecastMeasure measure, int horizon_days);

}  // namespace crm::analytics
