#include "services/analytics/report_service.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "services/analytics/cohorts.h"
#include "services/analytics/forecast.h"

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

ReportServiceImpl::ReportServiceImpl(FactStore& facts, server::Executor& executor,
                                     server::CallOptions call_options)
    : facts_(facts), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* ReportServiceImpl::GetCohortReport(
    grpc::CallbackServerContext* ctx, const v1::GetCohortReportRequest* request,
    v1::CohortReport* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    const int months = request->months() == 0 ? 12 : request->months();
    if (months < 1 || months > 60) return absl::InvalidArgumentError("months: 1 to 60");
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    CRM_ASSIGN_OR_RETURN(std::vector<OrderPoint> orders, facts_.OrdersIn(scope, currency));
    CRM_ASSIGN_OR_RETURN(*response, BuildCohortReport(orders, request->end_month(), months));
    response->set_currency_code(currency);
    CRM_ASSIGN_OR_RETURN(*response->mutable_freshness(), facts_.Freshness(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportServiceImpl::GetSalesForecast(
    grpc::CallbackServerContext* ctx, const v1::GetSalesForecastRequest* request,
    v1::SalesForecast* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    const int horizon = request->horizon_days() == 0 ? 28 : request->horizon_days();
    if (horizon < 1 || horizon > 365) return absl::InvalidArgumentError("horizon_days: 1 to 365");
    if (!v1::ForecastMeasure_IsValid(request->measure())) {
      return absl::InvalidArgumentError("measure: REVENUE or ORDERS");
    }
    const v1::ForecastMeasure measure = request->measure() == v1::FORECAST_MEASURE_UNSPECIFIED
                                            ? v1::FORECAST_MEASURE_REVENUE
                                            : request->measure();
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    CRM_ASSIGN_OR_RETURN(std::vector<OrderPoint> orders, facts_.OrdersIn(scope, currency));
    CRM_ASSIGN_OR_RETURN(*response, BuildSalesForecast(orders, measure, horizon));
    response->set_currency_code(currency);
    CRM_ASSIGN_OR_RETURN(*response->mutable_freshness(), facts_.Freshness(scope));
    return absl::OkStatus();
  });
}

}  // namespace crm::analytics
