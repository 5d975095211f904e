// Holt-Winters forecasts, their intervals, and the backtest arithmetic
// against hand-computed figures.
#include "services/analytics/forecast.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

namespace crm::analytics {
namespace {

constexpr double kWeek[7] = {10, -5, 0, 3, -8, 20, -20};

double Truth(int t) { return 100 + 2.0 * t + kWeek[t % 7]; }

// Deterministic noise in [-1, 1).
double Noise(uint64_t* state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<double>(*state >> 11) / static_cast<double>(1ULL << 52) - 1.0;
}

}  // namespace

TEST_CASE("Holt-Winters learns a weekly pattern with a trend", "[unit][analytics]") {
  std::vector<double> series;
  for (int t = 0; t < 140; ++t) series.push_back(Truth(t));
  const auto fit = FitHoltWinters(series, 7);
  REQUIRE(fit.ok());
  const std::vector<ForecastPoint> next = ForecastHoltWinters(*fit, 14);
  REQUIRE(next.size() == 14);
  for (int h = 1; h <= 14; ++h) {
    INFO("h " << h);
    CHECK(next[h - 1].value == Approx(Truth(139 + h)).epsilon(0.01));
    CHECK(next[h - 1].lower <= next[h - 1].value);
    CHECK(next[h - 1].upper >= next[h - 1].value);
    if (h > 1) {
      CHECK(next[h - 1].upper - next[h - 1].lower >= next[h - 2].upper - next[h - 2].lower);
    }
  }
  CHECK(fit->params.alpha > 0);
  CHECK(fit->params.alpha < 1);
}

TEST_CASE("a trending weekly series: Holt-Winters beats last week's numbers", "[unit][analytics]") {
  uint64_t state = 42;
  std::vector<double> series;
  for (int t = 0; t < 182; ++t) series.push_back(Truth(t) + 3 * Noise(&state));
  const auto b = BacktestHoltWinters(series, 7, 28);
  REQUIRE(b.ok());
  INFO("HW sMAPE " << b->smape << " baseline " << b->baseline_smape);
  CHECK(b->holdout == 28);
  CHECK(b->beats_baseline);
  CHECK(b->smape < b->baseline_smape);
  CHECK(b->mape < 5);
  // A flat, purely weekly series: last week's numbers are as good as it
  // gets, and the backtest says Holt-Winters does not beat them.
  std::vector<double> flat;
  for (int t = 0; t < 84; ++t) flat.push_back(100 + kWeek[t % 7]);
  const auto same = BacktestHoltWinters(flat, 7, 14);
  REQUIRE(same.ok());
  CHECK(same->baseline_smape == 0);
  CHECK_FALSE(same->beats_baseline);
}

TEST_CASE("MAPE, sMAPE and the seasonal-naive forecast by hand", "[unit][analytics]") {
  const std::vector<double> actual = {100, 200, 0};
  const std::vector<double> forecast = {110, 180, 5};
  CHECK(Mape(actual, forecast) == Approx(10.0));  // the zero actual is left out
  CHECK(Smape(actual, forecast) == Approx(100.0 * (10.0 / 105 + 20.0 / 190 + 5.0 / 2.5) / 3));
  CHECK(Smape({0, 0}, {0, 0}) == 0);
  std::vector<double> series;
  for (int i = 1; i <= 14; ++i) series.push_back(i);
  CHECK(SeasonalNaive(series, 7, 10) == std::vector<double>{8, 9, 10, 11, 12, 13, 14, 8, 9, 10});
}

TEST_CASE("forecast input is checked", "[unit][analytics]") {
  CHECK(absl::IsInvalidArgument(FitHoltWinters({1, 2, 3, 4}, 1).status()));
  CHECK(absl::IsInvalidArgument(FitHoltWinters({1, 2, 3, 4, 5, 6, 7, 8}, 7).status()));
  std::vector<double> bad(14, 1.0);
  bad[3] = std::nan("");
  const auto refused = FitHoltWinters(bad, 7);
  REQUIRE(absl::IsInvalidArgument(refused.status()));
  CHECK(refused.status().message() == "series[3]: not a number");
  CHECK(absl::IsFailedPrecondition(
      BacktestHoltWinters(std::vector<double>(20, 1.0), 7, 14).status()));
  CHECK(absl::IsInvalidArgument(BacktestHoltWinters(std::vector<double>(40, 1.0), 7, 0).status()));
}

}  // namespace crm::analytics
