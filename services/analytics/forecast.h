// Sales forecasts that report their own error: additive Holt-Winters
// (level, trend and a season of `period` steps, e.g. 7 for days in a week)
// with its smoothing parameters fitted by least squares with GSL, prediction
// intervals, and a backtest against the seasonal-naive forecast ("same
// day last week").
#pragma once

#include <vector>

#include "absl/status/statusor.h"

namespace crm::analytics {

struct HoltWintersParams {
  double alpha = 0;  // level
  double beta = 0;   // trend
  double gamma = 0;  // season
};

struct ForecastPoint {
  double value = 0;
  double lower = 0;  // the 95% prediction interval
  double upper = 0;
};

struct HoltWintersFit {
  HoltWintersParams params;
  double sigma = 0;  // standard deviation of the one-step errors
  int period = 0;
  // The state after the last observation.
  double level = 0;
  double trend = 0;
  std::vector<double> season;  // the last `period` seasonal terms, oldest first
};

// Needs at least two full periods; INVALID_ARGUMENT otherwise, or for a
// period below 2 or a value that is not finite.
absl::StatusOr<HoltWintersFit> FitHoltWinters(const std::vector<double>& series, int period);
// The next `horizon` steps after the series the fit saw.
std::vector<ForecastPoint> ForecastHoltWinters(const HoltWintersFit& fit, int horizon);
// The seasonal-naive forecast: each step repeats the same step one period
// earlier (needs a period of history).
std::vector<double> SeasonalNaive(const std::vector<double>& series, int period, int horizon);

// Forecast errors in percent: MAPE over the steps whose actual is not
// zero, and symmetric MAPE (|f - a| / ((|a| + |f|) / 2), 0 when both are).
double Mape(const std::vector<double>& actual, const std::vector<double>& forecast);
double Smape(const std::vector<double>& actual, const std::vector<double>& forecast);

// Holt-Winters and seasonal naive fitted on all but the last `holdout`
// steps and scored on them.
struct Backtest {
  int holdout = 0;
  double mape = 0;
  double smape = 0;
  double baseline_mape = 0;
  double baseline_smape = 0;
  bool beats_baseline = false;  // by sMAPE
};
absl::StatusOr<Backtest> BacktestHoltWinters(const std::vector<double>& series, int period,
                                             int holdout);

}  // namespace crm::analytics
