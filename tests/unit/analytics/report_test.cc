// The cohort report and the sales forecast over orders, by hand.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "services/analytics/report_service.h"

namespace crm::analytics {
namespace {

absl::Time At(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 14, 30, 0), absl::UTCTimeZone());
}

}  // namespace

TEST_CASE("the cohort report: months, retention and revenue", "[unit][analytics]") {
  const std::vector<OrderPoint> orders = {
      {"customers/a", At(2026, 1, 5), 1000},  {"customers/a", At(2026, 3, 2), 700},
      {"customers/b", At(2026, 1, 31), 2000}, {"customers/c", At(2026, 2, 14), 300},
      {"customers/c", At(2026, 3, 1), 400},
  };
  const auto report = BuildCohortReport(orders, "", 12);
  REQUIRE(report.ok());
  CHECK(report->end_month() == "2026-03");
  REQUIRE(report->cohorts_size() == 3);
  const v1::Cohort& jan = report->cohorts(0);
  CHECK(jan.month() == "2026-01");
  CHECK(jan.customers() == 2);
  CHECK(std::vector<int64_t>(jan.active_customers().begin(), jan.active_customers().end()) ==
        std::vector<int64_t>{2, 0, 1});
  CHECK(jan.retention(2) == Approx(0.5));
  CHECK(std::vector<int64_t>(jan.revenue_minor().begin(), jan.revenue_minor().end()) ==
        std::vector<int64_t>{3000, 0, 700});
  CHECK(report->cohorts(2).customers() == 0);
  CHECK(report->cohorts(2).retention(0) == 0);
  // The most recent two only, up to February.
  const auto two = BuildCohortReport(orders, "2026-02", 2);
  REQUIRE(two.ok());
  REQUIRE(two->cohorts_size() == 2);
  CHECK(two->cohorts(0).month() == "2026-01");
  CHECK(two->cohorts(1).month() == "2026-02");
  CHECK(two->cohorts(0).active_customers_size() == 2);
  CHECK(absl::IsInvalidArgument(BuildCohortReport(orders, "March", 12).status()));
  CHECK(absl::IsFailedPrecondition(BuildCohortReport({}, "", 12).status()));
}

TEST_CASE("the sales forecast: daily series, weekly season, backtest", "[unit][analytics]") {
  // Ten weeks of orders: three on weekdays, eight on Saturdays, none on
  // Sundays; 10.00 each.
  std::vector<OrderPoint> orders;
  const absl::CivilDay monday(2026, 6, 1);
  for (int d = 0; d < 70; ++d) {
    const absl::CivilDay day = monday + d;
    const int n = d % 7 == 5 ? 8 : d % 7 == 6 ? 0 : 3;
    for (int i = 0; i < n; ++i) {
      orders.push_back(
          {absl::StrCat("customers/", i),
           absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 9 + i, 0, 0),
                           absl::UTCTimeZone()),
           1000});
    }
  }
  const auto revenue = BuildSalesForecast(orders, v1::FORECAST_MEASURE_REVENUE, 14);
  REQUIRE(revenue.ok());
  CHECK(revenue->history_days() == 69);  // the last Sunday had no order
  REQUIRE(revenue->periods_size() == 14);
  const absl::Time start = absl::FromUnixSeconds(revenue->start_time().seconds());
  CHECK(absl::ToCivilDay(start, absl::UTCTimeZone()) == monday + 69);
  CHECK(revenue->backtest().holdout_periods() == 14);
  // The series is exactly weekly: the forecast repeats it.
  for (const v1::ForecastPeriod& p : revenue->periods()) {
    const absl::CivilDay day =
        absl::ToCivilDay(absl::FromUnixSeconds(p.start_time().seconds()), absl::UTCTimeZone());
    const int weekday = static_cast<int>((day - monday) % 7);
    const double expected = weekday == 5 ? 8000 : weekday == 6 ? 0 : 3000;
    CHECK(p.value() == Approx(expected).margin(50));
    CHECK(p.lower() >= 0);
    CHECK(p.lower() <= p.value());
    CHECK(p.upper() >= p.value());
  }
  const auto count = BuildSalesForecast(orders, v1::FORECAST_MEASURE_ORDERS, 7);
  REQUIRE(count.ok());
  CHECK(count->periods(6).value() == Approx(8).margin(0.1));  // Sunday first: [6] is Saturday
  CHECK(count->backtest().holdout_periods() == 7);

  const std::vector<OrderPoint> short_history(orders.begin(), orders.begin() + 30);
  const auto refused = BuildSalesForecast(short_history, v1::FORECAST_MEASURE_REVENUE, 28);
  REQUIRE(absl::IsFailedPrecondition(refused.status()));
  CHECK(std::string(refused.status().message()).find("needs 42") != std::string::npos);
}

}  // namespace crm::analytics
