#include "services/analytics/report_service.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/api/timestamp.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/producer_stream.h"
#include "services/analytics/cohorts.h"
#include "services/analytics/csv_export.h"
#include "services/analytics/forecast.h"
#include "services/analytics/support_report.h"
#include "services/analytics/value_reports.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kWeek = 7;
constexpr int kMaxBacktestDays = 28;

std::string MonthText(absl::CivilMonth m) { return absl::FormatCivilTime(m); }

}  // namespace

absl::StatusOr<v1::CohortReport> BuildCohortReport(const std::vector<OrderPoint>& orders,
                                                   const std::string& end_month, int months) {
  if (orders.empty()) return absl::FailedPreconditionError("the tenant has no orders");
  absl::CivilMonth through;
  if (end_month.empty()) {
    absl::Time last = orders[0].time;
    for (const OrderPoint& o : orders) last = std::max(last, o.time);
    through = absl::CivilMonth(UtcDay(last));
  } else if (end_month.size() != 7 || !absl::ParseCivilTime(end_month, &through)) {
    return absl::InvalidArgumentError("end_month: YYYY-MM, e.g. 2026-11");
  }
  std::map<std::string, int64_t> ids;
  std::vector<OrderFact> facts;
  facts.reserve(orders.size());
  for (const OrderPoint& o : orders) {
    const int64_t id = ids.emplace(o.customer, static_cast<int64_t>(ids.size())).first->second;
    facts.push_back({id, UtcDay(o.time), o.value_minor});
  }
  const std::vector<CohortRow> rows = CohortMatrix(facts, through);
  v1::CohortReport report;
  report.set_end_month(MonthText(through));
  const size_t first = rows.size() > static_cast<size_t>(months) ? rows.size() - months : 0;
  for (size_t i = first; i < rows.size(); ++i) {
    const CohortRow& row = rows[i];
    v1::Cohort* c = report.add_cohorts();
    c->set_month(MonthText(row.cohort));
    c->set_customers(row.customers);
    for (size_t k = 0; k < row.active.size(); ++k) {
      c->add_active_customers(row.active[k]);
      c->add_retention(row.customers == 0 ? 0.0
                                          : static_cast<double>(row.active[k]) /
                                                static_cast<double>(row.customers));
      c->add_revenue_minor(row.revenue_minor[k]);
    }
  }
  return report;
}

absl::StatusOr<v1::SalesForecast> BuildSalesForecast(const std::vector<OrderPoint>& orders,
                                                     v1::ForecastMeasure measure,
                                                     int horizon_days) {
  if (orders.empty()) return absl::FailedPreconditionError("the tenant has no orders");
  absl::CivilDay first = UtcDay(orders[0].time), last = first;
  for (const OrderPoint& o : orders) {
    first = std::min(first, UtcDay(o.time));
    last = std::max(last, UtcDay(o.time));
  }
  // One value a day from the first order's day to the last's, zeros
  // included.
  std::vector<double> series(static_cast<size_t>(last - first) + 1, 0.0);
  for (const OrderPoint& o : orders) {
    series[static_cast<size_t>(UtcDay(o.time) - first)] +=
        measure == v1::FORECAST_MEASURE_ORDERS ? 1.0 : static_cast<double>(o.value_minor);
  }
  const int holdout = std::min(horizon_days, kMaxBacktestDays);
  if (series.size() < static_cast<size_t>(2 * kWeek + holdout)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the history has ", series.size(), " days; a forecast with a backtest of ",
                     holdout, " days needs ", 2 * kWeek + holdout));
  }
  CRM_ASSIGN_OR_RETURN(HoltWintersFit fit, FitHoltWinters(series, kWeek));
  CRM_ASSIGN_OR_RETURN(Backtest backtest, BacktestHoltWinters(series, kWeek, holdout));
  v1::SalesForecast out;
  out.set_measure(measure);
  out.set_history_days(static_cast<int32_t>(series.size()));
  const absl::Time start = absl::FromCivil(last + 1, absl::UTCTimeZone());
  *out.mutable_start_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(start));
  const std::vector<ForecastPoint> points = ForecastHoltWinters(fit, horizon_days);
  for (size_t h = 0; h < points.size(); ++h) {
    v1::ForecastPeriod* p = out.add_periods();
    *p->mutable_start_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(
        absl::FromCivil(last + 1 + static_cast<int64_t>(h), absl::UTCTimeZone())));
    // Sales are never negative: the interval's floor is 0.
    p->set_value(std::max(0.0, points[h].value));
    p->set_lower(std::max(0.0, points[h].lower));
    p->set_upper(std::max(0.0, points[h].upper));
  }
  out.mutable_parameters()->set_alpha(fit.params.alpha);
  out.mutable_parameters()->set_beta(fit.params.beta);
  out.mutable_parameters()->set_gamma(fit.params.gamma);
  v1::ForecastBacktest* b = out.mutable_backtest();
  b->set_holdout_periods(backtest.holdout);
  b->set_mape(backtest.mape);
  b->set_smape(backtest.smape);
  b->set_baseline_mape(backtest.baseline_mape);
  b->set_baseline_smape(backtest.baseline_smape);
  b->set_beats_baseline(backtest.beats_baseline);
  return out;
}

absl::StatusOr<std::pair<absl::Time, absl::Time>> ReportPeriod(
    const google::protobuf::Timestamp* start, const google::protobuf::Timestamp* end,
    absl::Time now) {
  constexpr absl::Duration kDefault = absl::Hours(24 * 30), kMost = absl::Hours(24 * 366);
  const auto time_of = [](const google::protobuf::Timestamp& t) { return api::FromTimestamp(t); };
  const absl::Time to = end != nullptr ? time_of(*end) : now;
  const absl::Time from = start != nullptr ? time_of(*start) : to - kDefault;
  if (from >= to) return absl::InvalidArgumentError("start_time: before end_time");
  if (to - from > kMost)
    return absl::InvalidArgumentError("start_time: at most 366 days before end_time");
  return std::make_pair(from, to);
}

ReportServiceImpl::ReportServiceImpl(FactStore& facts, ActivityStore& activity,
                                     server::Executor& executor, server::CallOptions call_options)
    : facts_(facts), activity_(activity), executor_(executor), call_options_(call_options) {}

absl::StatusOr<v1::CohortReport> ReportServiceImpl::Cohorts(
    const server::CallScope& scope, const v1::GetCohortReportRequest& request) {
  const int months = request.months() == 0 ? 12 : request.months();
  if (months < 1 || months > 60) return absl::InvalidArgumentError("months: 1 to 60");
  CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request.currency_code()));
  CRM_ASSIGN_OR_RETURN(std::vector<OrderPoint> orders, facts_.OrdersIn(scope, currency));
  CRM_ASSIGN_OR_RETURN(v1::CohortReport out,
                       BuildCohortReport(orders, request.end_month(), months));
  out.set_currency_code(currency);
  CRM_ASSIGN_OR_RETURN(*out.mutable_freshness(), facts_.Freshness(scope));
  return out;
}

absl::StatusOr<v1::SalesForecast> ReportServiceImpl::Forecast(
    const server::CallScope& scope, const v1::GetSalesForecastRequest& request) {
  const int horizon = request.horizon_days() == 0 ? 28 : request.horizon_days();
  if (horizon < 1 || horizon > 365) return absl::InvalidArgumentError("horizon_days: 1 to 365");
  if (!v1::ForecastMeasure_IsValid(request.measure())) {
    return absl::InvalidArgumentError("measure: REVENUE or ORDERS");
  }
  const v1::ForecastMeasure measure = request.measure() == v1::FORECAST_MEASURE_UNSPECIFIED
                                          ? v1::FORECAST_MEASURE_REVENUE
                                          : request.measure();
  CRM_RETURN_IF_ERROR(api::CheckText("category", request.category(), 100));
  CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request.currency_code()));
  std::vector<OrderPoint> orders;
  if (request.category().empty()) {
    CRM_ASSIGN_OR_RETURN(orders, facts_.OrdersIn(scope, currency));
  } else {
    CRM_ASSIGN_OR_RETURN(orders, facts_.CategoryOrdersIn(scope, currency, request.category()));
    if (orders.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "category: no lines of \"", request.category(), "\" in ", currency, " orders"));
    }
  }
  CRM_ASSIGN_OR_RETURN(v1::SalesForecast out, BuildSalesForecast(orders, measure, horizon));
  out.set_category(request.category());
  out.set_currency_code(currency);
  CRM_ASSIGN_OR_RETURN(*out.mutable_freshness(), facts_.Freshness(scope));
  return out;
}

absl::StatusOr<v1::SupportReport> ReportServiceImpl::Support(
    const server::CallScope& scope, const v1::GetSupportReportRequest& request) {
  CRM_ASSIGN_OR_RETURN(auto period, ReportPeriod(request, absl::Now()));
  if (!request.group().empty()) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("group", request.group(), "groups", &id));
  }
  CRM_ASSIGN_OR_RETURN(ActivityStore::SupportFacts facts,
                       activity_.Support(scope, period.first, period.second, request.group()));
  v1::SupportReport out = BuildSupportReport(facts, period.first, period.second);
  CRM_ASSIGN_OR_RETURN(*out.mutable_freshness(), facts_.Freshness(scope));
  return out;
}

absl::StatusOr<v1::EngagementReport> ReportServiceImpl::Engagement(
    const server::CallScope& scope, const v1::GetEngagementReportRequest& request) {
  CRM_ASSIGN_OR_RETURN(auto period, ReportPeriod(request, absl::Now()));
  absl::string_view purpose = request.purpose();
  absl::ConsumePrefix(&purpose, "PURPOSE_");
  if (!purpose.empty() && purpose != "MARKETING" && purpose != "TRANSACTIONAL") {
    return absl::InvalidArgumentError("purpose: PURPOSE_MARKETING or PURPOSE_TRANSACTIONAL");
  }
  CRM_ASSIGN_OR_RETURN(
      ActivityStore::Engagement e,
      activity_.EngagementIn(scope, period.first, period.second, std::string(purpose)));
  v1::EngagementReport out;
  *out.mutable_start_time() = api::ToTimestamp(period.first);
  *out.mutable_end_time() = api::ToTimestamp(period.second);
  for (auto& f : e.channels) *out.add_channels() = std::move(f);
  for (auto& f : e.templates) *out.add_templates() = std::move(f);
  out.set_received(e.received);
  CRM_ASSIGN_OR_RETURN(*out.mutable_freshness(), facts_.Freshness(scope));
  return out;
}

absl::StatusOr<v1::PricingReport> ReportServiceImpl::Pricing(
    const server::CallScope& scope, const v1::GetPricingReportRequest& request) {
  CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request.currency_code()));
  // By default the year up to the end of the day of the last order (a
  // history that ended is read as of its end).
  absl::Time fallback_end = absl::Now();
  if (!request.has_end_time()) {
    CRM_ASSIGN_OR_RETURN(absl::Time last, facts_.LastOrder(scope, currency));
    if (last != absl::InfinitePast()) {
      fallback_end = absl::FromCivil(UtcDay(last) + 1, absl::UTCTimeZone());
    }
  }
  const google::protobuf::Timestamp default_start =
      api::ToTimestamp(fallback_end - absl::Hours(24 * 365));
  CRM_ASSIGN_OR_RETURN(
      auto period,
      ReportPeriod(request.has_start_time() ? &request.start_time()
                                            : (request.has_end_time() ? nullptr : &default_start),
                   request.has_end_time() ? &request.end_time() : nullptr, fallback_end));
  CRM_ASSIGN_OR_RETURN(FactStore::Pricing facts,
                       facts_.PricingIn(scope, currency, period.first, period.second));
  v1::PricingReport out;
  out.set_currency_code(currency);
  *out.mutable_start_time() = api::ToTimestamp(period.first);
  *out.mutable_end_time() = api::ToTimestamp(period.second);
  *out.mutable_with_codes() = SummarizeDiscountGroup(facts.orders, true, facts.last_order);
  *out.mutable_without_codes() = SummarizeDiscountGroup(facts.orders, false, facts.last_order);
  for (auto& e : Elasticities(facts.weeks)) {
    *(e.sku().empty() ? out.add_categories() : out.add_products()) = std::move(e);
  }
  CRM_ASSIGN_OR_RETURN(*out.mutable_freshness(), facts_.Freshness(scope));
  return out;
}

namespace {

// ExportReport's period onto the Get request it runs.
template <typename Get>
void CopyPeriod(const v1::ExportReportRequest& from, Get* to) {
  if (from.has_start_time()) *to->mutable_start_time() = from.start_time();
  if (from.has_end_time()) *to->mutable_end_time() = from.end_time();
}

}  // namespace

absl::StatusOr<std::string> ReportServiceImpl::Csv(const server::CallScope& scope,
                                                   const v1::ExportReportRequest& request) {
  switch (request.report()) {
    case v1::REPORT_KIND_RFM_SEGMENTS:
    case v1::REPORT_KIND_RFM_CUSTOMERS: {
      CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request.currency_code()));
      CRM_ASSIGN_OR_RETURN(std::vector<CustomerOrders> customers,
                           facts_.CustomersIn(scope, currency));
      CRM_ASSIGN_OR_RETURN(v1::Freshness freshness, facts_.Freshness(scope));
      const absl::Time as_of = RfmAsOf(customers, nullptr);
      const std::vector<v1::RfmScores> scores = ScoreCustomers(customers, as_of);
      if (request.report() == v1::REPORT_KIND_RFM_CUSTOMERS) {
        return RfmCustomersCsv(currency, as_of, customers, scores, freshness);
      }
      v1::RfmSummary summary = SummarizeRfm(customers, scores);
      summary.set_currency_code(currency);
      *summary.mutable_as_of_time() = api::ToTimestamp(as_of);
      *summary.mutable_freshness() = std::move(freshness);
      return RfmSegmentsCsv(summary);
    }
    case v1::REPORT_KIND_COHORTS: {
      v1::GetCohortReportRequest get;
      get.set_currency_code(request.currency_code());
      CRM_ASSIGN_OR_RETURN(v1::CohortReport report, Cohorts(scope, get));
      return CohortsCsv(report);
    }
    case v1::REPORT_KIND_SALES_FORECAST: {
      v1::GetSalesForecastRequest get;
      get.set_currency_code(request.currency_code());
      CRM_ASSIGN_OR_RETURN(v1::SalesForecast forecast, Forecast(scope, get));
      return ForecastCsv(forecast);
    }
    case v1::REPORT_KIND_SUPPORT: {
      v1::GetSupportReportRequest get;
      CopyPeriod(request, &get);
      CRM_ASSIGN_OR_RETURN(v1::SupportReport report, Support(scope, get));
      return SupportCsv(report);
    }
    case v1::REPORT_KIND_ENGAGEMENT: {
      v1::GetEngagementReportRequest get;
      CopyPeriod(request, &get);
      CRM_ASSIGN_OR_RETURN(v1::EngagementReport report, Engagement(scope, get));
      return EngagementCsv(report);
    }
    case v1::REPORT_KIND_PRICING: {
      v1::GetPricingReportRequest get;
      get.set_currency_code(request.currency_code());
      CopyPeriod(request, &get);
      CRM_ASSIGN_OR_RETURN(v1::PricingReport report, Pricing(scope, get));
      return PricingCsv(report);
    }
    default:
      return absl::InvalidArgumentError(
          "report: RFM_SEGMENTS, RFM_CUSTOMERS, COHORTS, SALES_FORECAST, SUPPORT, ENGAGEMENT or "
          "PRICING");
  }
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetCohortReport(
    grpc::CallbackServerContext* ctx, const v1::GetCohortReportRequest* request,
    v1::CohortReport* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, Cohorts(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetSalesForecast(
    grpc::CallbackServerContext* ctx, const v1::GetSalesForecastRequest* request,
    v1::SalesForecast* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, Forecast(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetSupportReport(
    grpc::CallbackServerContext* ctx, const v1::GetSupportReportRequest* request,
    v1::SupportReport* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, Support(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetPricingReport(
    grpc::CallbackServerContext* ctx, const v1::GetPricingReportRequest* request,
    v1::PricingReport* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, Pricing(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetEngagementReport(
    grpc::CallbackServerContext* ctx, const v1::GetEngagementReportRequest* request,
    v1::EngagementReport* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, Engagement(scope, *request));
    return absl::OkStatus();
  });
}

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

}  // namespace

grpc::ServerWriteReactor<v1::ExportReportChunk>* ReportServiceImpl::ExportReport(
    grpc::CallbackServerContext* ctx, const v1::ExportReportRequest* request) {
  using Reactor = grpc::ServerWriteReactor<v1::ExportReportChunk>;
  server::CallOptions options = call_options_;
  options.default_deadline = std::max(options.default_deadline, absl::Minutes(5));
  auto scope = server::MakeCallScope(ctx, options);
  if (!scope.ok()) return server::RejectStream<Reactor>(ToGrpcStatus(scope.status()));
  // The request is copied: gRPC may free it once the call is done, while
  // the document is still being made.
  return new server::ProducerStream<v1::ExportReportChunk>(
      executor_, [this, scope = *std::move(scope), copy = *request](
                     const server::ProducerStream<v1::ExportReportChunk>::Emit& emit) {
        CRM_ASSIGN_OR_RETURN(std::string document, Csv(scope, copy));
        v1::ExportReportChunk chunk;
        for (size_t offset = 0; offset < document.size(); offset += kChunkBytes) {
          chunk.set_data(document.substr(offset, kChunkBytes));
          if (!emit(chunk)) break;
        }
        return absl::OkStatus();
      });
}

}  // namespace crm::analytics
