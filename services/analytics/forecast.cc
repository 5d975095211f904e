#include "services/analytics/forecast.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/analytics/minimize.h"

namespace crm::analytics {
namespace {

struct Run {
  double sse = 0;
  int steps = 0;
  double level = 0;
  double trend = 0;
  std::vector<double> season;  // circular: season[t % period] is phase t's term
};

// Additive Holt-Winters over `series`: the first period sets the state,
// every later value is forecast one step ahead and then taken in.
Run Smooth(const std::vector<double>& series, int period, const HoltWintersParams& p) {
  const size_t m = static_cast<size_t>(period);
  double first = 0, second = 0;
  for (size_t i = 0; i < m; ++i) {
    first += series[i];
    second += series[m + i];
  }
  first /= static_cast<double>(m);
  second /= static_cast<double>(m);
  Run run;
  run.level = first;
  run.trend = (second - first) / static_cast<double>(m);
  run.season.resize(m);
  for (size_t i = 0; i < m; ++i) run.season[i] = series[i] - first;
  for (size_t t = m; t < series.size(); ++t) {
    double& season = run.season[t % m];
    const double forecast = run.level + run.trend + season;
    const double error = series[t] - forecast;
    run.sse += error * error;
    ++run.steps;
    const double level = p.alpha * (series[t] - season) + (1 - p.alpha) * (run.level + run.trend);
    run.trend = p.beta * (level - run.level) + (1 - p.beta) * run.trend;
    season = p.gamma * (series[t] - level) + (1 - p.gamma) * season;
    run.level = level;
  }
  return run;
}

}  // namespace

absl::StatusOr<HoltWintersFit> FitHoltWinters(const std::vector<double>& series, int period) {
  if (period < 2) return absl::InvalidArgumentError("period: at least 2");
  if (series.size() < 2 * static_cast<size_t>(period)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series: ", series.size(), " values; Holt-Winters needs two periods, ", 2 * period));
  }
  for (size_t i = 0; i < series.size(); ++i) {
    if (!std::isfinite(series[i])) {
      return absl::InvalidArgumentError(absl::StrCat("series[", i, "]: not a number"));
    }
  }
  const internal::Objective objective = [&](const std::vector<double>& v) {
    return Smooth(series, period, {v[0], v[1], v[2]}).sse;
  };
  const internal::Minimum found =
      internal::Minimize(objective, {0.3, 0.05, 0.1}, internal::Domain::kUnitInterval, 1e-8);
  HoltWintersFit fit;
  fit.params = {found.params[0], found.params[1], found.params[2]};
  const Run run = Smooth(series, period, fit.params);
  fit.period = period;
  fit.sigma = run.steps > 0 ? std::sqrt(run.sse / run.steps) : 0.0;
  fit.level = run.level;
  fit.trend = run.trend;
  // The last period's terms, oldest first: time n - m .. n - 1.
  const size_t n = series.size();
  const size_t m = static_cast<size_t>(period);
  for (size_t t = n - m; t < n; ++t) fit.season.push_back(run.season[t % m]);
  return fit;
}

std::vector<ForecastPoint> ForecastHoltWinters(const HoltWintersFit& fit, int horizon) {
  std::vector<ForecastPoint> points;
  const int m = fit.period;
  double variance_sum = 1.0;  // 1 + sum of c_j^2 for j < h
  for (int h = 1; h <= horizon; ++h) {
    if (h > 1) {
      const int j = h - 1;
      const double c =
          fit.params.alpha * (1 + j * fit.params.beta) + (j % m == 0 ? fit.params.gamma : 0.0);
      variance_sum += c * c;
    }
    ForecastPoint p;
    p.value = fit.level + h * fit.trend + fit.season[static_cast<size_t>((h - 1) % m)];
    const double half = 1.959964 * fit.sigma * std::sqrt(variance_sum);
    p.lower = p.value - half;
    p.upper = p.value + half;
    points.push_back(p);
  }
  return points;
}

std::vector<double> SeasonalNaive(const std::vector<double>& series, int period, int horizon) {
  std::vector<double> out;
  const size_t n = series.size();
  const size_t m = static_cast<size_t>(period);
  for (int h = 1; h <= horizon; ++h) {
    out.push_back(series[n - m + static_cast<size_t>((h - 1) % period)]);
  }
  return out;
}

double Mape(const std::vector<double>& actual, const std::vector<double>& forecast) {
  double sum = 0;
  int count = 0;
  for (size_t i = 0; i < actual.size() && i < forecast.size(); ++i) {
    if (actual[i] == 0) continue;
    sum += std::abs((forecast[i] - actual[i]) / actual[i]);
    ++count;
  }
  return count == 0 ? 0.0 : 100.0 * sum / count;
}

double Smape(const std::vector<double>& actual, const std::vector<double>& forecast) {
  double sum = 0;
  int count = 0;
  for (size_t i = 0; i < actual.size() && i < forecast.size(); ++i) {
    const double scale = (std::abs(actual[i]) + std::abs(forecast[i])) / 2;
    sum += scale == 0 ? 0.0 : std::abs(forecast[i] - actual[i]) / scale;
    ++count;
  }
  return count == 0 ? 0.0 : 100.0 * sum / count;
}

absl::StatusOr<Backtest> BacktestHoltWinters(const std::vector<double>& series, int period,
                                             int holdout) {
  if (holdout < 1) return absl::InvalidArgumentError("holdout: at least 1");
  if (series.size() < static_cast<size_t>(holdout) + 2 * static_cast<size_t>(period)) {
    return absl::FailedPreconditionError(
        absl::StrCat("series: ", series.size(), " values; a backtest of ", holdout,
                     " needs two periods before it, ", holdout + 2 * period));
  }
  const std::vector<double> train(series.begin(), series.end() - holdout);
  const std::vector<double> actual(series.end() - holdout, series.end());
  auto fit = FitHoltWinters(train, period);
  if (!fit.ok()) return fit.status();
  std::vector<double> forecast;
  for (const ForecastPoint& p : ForecastHoltWinters(*fit, holdout)) forecast.push_back(p.value);
  const std::vector<double> baseline = SeasonalNaive(train, period, holdout);
  Backtest b;
  b.holdout = holdout;
  b.mape = Mape(actual, forecast);
  b.smape = Smape(actual, forecast);
  b.baseline_mape = Mape(actual, baseline);
  b.baseline_smape = Smape(actual, baseline);
  b.beats_baseline = b.smape < b.baseline_smape;
  return b;
}

}  // namespace crm::analytics
