#include "services/analytics/value_model.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_hyperg.h>
#include <gsl/gsl_sf_psi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/analytics/minimize.h"

namespace crm::analytics {
namespace {

using internal::Domain;
using internal::InitGsl;
using internal::Minimum;
using internal::Objective;
using internal::SmoothObjective;

double LnGamma(double v) { return gsl_sf_lngamma(v); }
double Digamma(double v) { return gsl_sf_psi(v); }

// log(exp(u) + exp(v)) without overflow.
double LogAddExp(double u, double v) {
  if (u == -std::numeric_limits<double>::infinity()) return v;
  if (v == -std::numeric_limits<double>::infinity()) return u;
  const double hi = std::max(u, v);
  return hi + std::log1p(std::exp(std::min(u, v) - hi));
}

// 2F1(a, b; c; z) for 0 <= z < 1, by GSL's series, or through Euler's
// transformation 2F1(c-a, c-b; c; z) (1-z)^(c-a-b) when the series fails.
absl::StatusOr<double> Hyp2F1(double a, double b, double c, double z) {
  InitGsl();
  gsl_sf_result result;
  if (gsl_sf_hyperg_2F1_e(a, b, c, z, &result) == GSL_SUCCESS && std::isfinite(result.val)) {
    return result.val;
  }
  if (gsl_sf_hyperg_2F1_e(c - a, c - b, c, z, &result) == GSL_SUCCESS &&
      std::isfinite(result.val)) {
    return result.val * std::pow(1 - z, c - a - b);
  }
  return absl::FailedPreconditionError(absl::StrCat("the hypergeometric function 2F1(", a, ", ", b,
                                                    "; ", c, "; ", z,
                                                    ") cannot be evaluated for these parameters"));
}

// Sums f(begin, end), an array of sums over groups [begin, end), over
// [0, n): in two halves on two threads when n is large, so that a tenant of
// a million customers fits in half the time on the two cores the service
// has at least. The split depends only on n, so results are repeatable.
template <size_t K, typename F>
std::array<double, K> SumInHalves(size_t n, const F& f) {
  if (n < 20000) return f(size_t{0}, n);
  std::array<double, K> second{};
  std::thread helper([&] { second = f(n / 2, n); });
  std::array<double, K> first = f(size_t{0}, n / 2);
  helper.join();
  for (size_t k = 0; k < K; ++k) first[k] += second[k];
  return first;
}

absl::Status CheckHistory(const PurchaseHistory& h, size_t i) {
  if (h.x < 0 || !std::isfinite(h.t_x) || !std::isfinite(h.T) || h.t_x < 0 || h.T < 0 ||
      h.t_x > h.T || (h.x == 0 && h.t_x != 0) || (h.x > 0 && h.t_x <= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "customers[", i, "]: x = ", h.x, ", t_x = ", h.t_x, ", T = ", h.T,
        " is not a purchase history (x >= 0, T >= 0, 0 < t_x <= T when x > 0, t_x = 0 when x = "
        "0)"));
  }
  return absl::OkStatus();
}

}  // namespace

double BgNbdLogLikelihood(const BgNbdParams& m, const PurchaseHistory& h) {
  const double x = static_cast<double>(h.x);
  const double a1 = LnGamma(m.r + x) - LnGamma(m.r) + m.r * std::log(m.alpha);
  const double a2 = LnGamma(m.a + m.b) + LnGamma(m.b + x) - LnGamma(m.b) - LnGamma(m.a + m.b + x);
  const double a3 = -(m.r + x) * std::log(m.alpha + h.T);
  const double a4 =
      h.x > 0 ? std::log(m.a) - std::log(m.b + x - 1) - (m.r + x) * std::log(m.alpha + h.t_x)
              : -std::numeric_limits<double>::infinity();
  return a1 + a2 + LogAddExp(a3, a4);
}

absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<PurchaseHistory>& customers) {
  // Customers with the same history count once, weighted.
  std::map<std::tuple<int64_t, double, double>, double> groups;
  int64_t repeat_buyers = 0;
  double total_age = 0;
  for (size_t i = 0; i < customers.size(); ++i) {
    const PurchaseHistory& h = customers[i];
    if (auto valid = CheckHistory(h, i); !valid.ok()) return valid;
    groups[{h.x, h.t_x, h.T}] += 1;
    if (h.x > 0) ++repeat_buyers;
    total_age += h.T;
  }
  if (customers.size() < static_cast<size_t>(kMinCustomers) || repeat_buyers < kMinRepeatBuyers) {
    return absl::FailedPreconditionError(absl::StrCat(
        "too few customers to fit BG/NBD: ", customers.size(), " customers, ", repeat_buyers,
        " of them repeat buyers; it needs at least ", kMinCustomers, " and ", kMinRepeatBuyers));
  }
  // The groups in order of x (the map's order), and the distinct x: the
  // log-gamma terms depend on x alone, so each evaluation computes them
  // once per distinct x rather than once per group.
  std::vector<std::pair<PurchaseHistory, double>> weighted;
  std::vector<size_t> x_index;  // per group: its x's place in `xs`
  std::vector<int64_t> xs;
  weighted.reserve(groups.size());
  for (const auto& [key, weight] : groups) {
    weighted.push_back({{std::get<0>(key), std::get<1>(key), std::get<2>(key)}, weight});
    if (xs.empty() || xs.back() != std::get<0>(key)) xs.push_back(std::get<0>(key));
    x_index.push_back(xs.size() - 1);
  }
  // Likewise the terms in ln(alpha + t) once per distinct age t (t_x or T):
  // ages are whole days in weeks, so a million groups share a few hundred
  // of them. Per group: its T's and its t_x's place in `ages`.
  std::vector<double> ages;
  for (const auto& [h, weight] : weighted) {
    ages.push_back(h.T);
    ages.push_back(h.t_x);
  }
  std::sort(ages.begin(), ages.end());
  ages.erase(std::unique(ages.begin(), ages.end()), ages.end());
  std::vector<std::pair<uint32_t, uint32_t>> age_index;  // (T, t_x)
  age_index.reserve(weighted.size());
  const auto place = [&ages](double t) {
    return static_cast<uint32_t>(std::lower_bound(ages.begin(), ages.end(), t) - ages.begin());
  };
  for (const auto& [h, weight] : weighted) age_index.push_back({place(h.T), place(h.t_x)});
  // The negative log-likelihood and its gradient (FHL 2005, eq. 6): with
  // L = log(e^a3 + e^a4) and w4 = e^(a4 - L) the weight of "dropped out
  // after the last purchase", w3 = 1 - w4,
  //   dLL/dr     = psi(r+x) - psi(r) + ln alpha - w3 ln(alpha+T) - w4 ln(alpha+t_x)
  //   dLL/dalpha = r/alpha - (r+x) (w3/(alpha+T) + w4/(alpha+t_x))
  //   dLL/da     = psi(a+b) - psi(a+b+x) + w4/a
  //   dLL/db     = psi(a+b) + psi(b+x) - psi(b) - psi(a+b+x) - w4/(b+x-1)
  const SmoothObjective objective = [&weighted, &x_index, &xs, &ages, &age_index](
                                        const std::vector<double>& v,
                                        std::vector<double>* gradient) {
    const BgNbdParams m{v[0], v[1], v[2], v[3]};
    const double common =
        -LnGamma(m.r) + m.r * std::log(m.alpha) + LnGamma(m.a + m.b) - LnGamma(m.b);
    const double log_a = std::log(m.a);
    const size_t nx = xs.size();
    std::vector<double> by_x(nx), log_b(nx), inv_b(nx), dr_x, da_x, db_x;
    if (gradient != nullptr) {
      dr_x.resize(nx);
      da_x.resize(nx);
      db_x.resize(nx);
    }
    for (size_t i = 0; i < nx; ++i) {
      const double x = static_cast<double>(xs[i]);
      by_x[i] = common + LnGamma(m.r + x) + LnGamma(m.b + x) - LnGamma(m.a + m.b + x);
      log_b[i] = xs[i] > 0 ? std::log(m.b + x - 1) : 0.0;
      inv_b[i] = xs[i] > 0 ? 1.0 / (m.b + x - 1) : 0.0;
      if (gradient != nullptr) {
        const double psi_abx = Digamma(m.a + m.b + x), psi_ab = Digamma(m.a + m.b);
        dr_x[i] = Digamma(m.r + x) - Digamma(m.r) + std::log(m.alpha);
        da_x[i] = psi_ab - psi_abx;
        db_x[i] = psi_ab + Digamma(m.b + x) - Digamma(m.b) - psi_abx;
      }
    }
    std::vector<double> log_age(ages.size()), inv_age(ages.size());
    for (size_t k = 0; k < ages.size(); ++k) {
      log_age[k] = std::log(m.alpha + ages[k]);
      inv_age[k] = 1.0 / (m.alpha + ages[k]);
    }
    const auto part = [&](size_t begin, size_t end) {
      double sum = 0, gr = 0, galpha = 0, ga = 0, gb = 0;
      for (size_t g = begin; g < end; ++g) {
        const auto& [h, weight] = weighted[g];
        const size_t i = x_index[g];
        const auto [T, t] = age_index[g];
        const double rx = m.r + static_cast<double>(h.x);
        const double log_T = log_age[T];
        const double a3 = -rx * log_T;
        if (h.x == 0) {
          sum += weight * (by_x[i] + a3);
          if (gradient != nullptr) {
            gr += weight * (dr_x[i] - log_T);
            galpha += weight * (m.r / m.alpha - rx * inv_age[T]);
            ga += weight * da_x[i];
            gb += weight * db_x[i];
          }
          continue;
        }
        const double log_t = log_age[t];
        const double a4 = log_a - log_b[i] - rx * log_t;
        // l = ln(e^a3 + e^a4) and w4 = e^(a4 - l), from one exponential.
        const double d = a4 - a3;
        const double e = std::exp(-std::abs(d));
        const double l = std::max(a3, a4) + std::log1p(e);
        sum += weight * (by_x[i] + l);
        if (gradient != nullptr) {
          const double w4 = d > 0 ? 1.0 / (1.0 + e) : e / (1.0 + e), w3 = 1 - w4;
          gr += weight * (dr_x[i] - w3 * log_T - w4 * log_t);
          galpha += weight * (m.r / m.alpha - rx * (w3 * inv_age[T] + w4 * inv_age[t]));
          ga += weight * (da_x[i] + w4 / m.a);
          gb += weight * (db_x[i] - w4 * inv_b[i]);
        }
      }
      return std::array<double, 5>{sum, gr, galpha, ga, gb};
    };
    const std::array<double, 5> sums = SumInHalves<5>(weighted.size(), part);
    if (gradient != nullptr) *gradient = {-sums[1], -sums[2], -sums[3], -sums[4]};
    return -sums[0];
  };
  const double mean_age = total_age / static_cast<double>(customers.size());
  const Minimum found = internal::MinimizeSmooth(
      objective, {1.0, std::max(1e-3, mean_age), 1.0, 1.0}, Domain::kPositive);
  if (!found.converged) {
    return absl::FailedPreconditionError(
        absl::StrCat("the BG/NBD fit did not converge after ", found.iterations, " iterations"));
  }
  const std::vector<double> errors = internal::StandardErrors(
      [&objective](const std::vector<double>& v) { return objective(v, nullptr); }, found.params);
  BgNbdFit fit;
  fit.params = {found.params[0], found.params[1], found.params[2], found.params[3]};
  fit.standard_errors = {errors[0], errors[1], errors[2], errors[3]};
  fit.log_likelihood = -found.value;
  fit.iterations = found.iterations;
  fit.converged = true;
  return fit;
}

double BgNbdProbabilityAlive(const BgNbdParams& m, const PurchaseHistory& h) {
  if (h.x == 0) return 1.0;
  const double x = static_cast<double>(h.x);
  const double odds =
      m.a / (m.b + x - 1) * std::exp((m.r + x) * std::log((m.alpha + h.T) / (m.alpha + h.t_x)));
  return 1.0 / (1.0 + odds);
}

double BgNbdMedianWaitAlive(const BgNbdParams& m, const PurchaseHistory& h) {
  const double shape = m.r + static_cast<double>(h.x);
  return (m.alpha + h.T) * std::expm1(std::log(2.0) / shape);
}

absl::StatusOr<double> BgNbdExpectedPurchases(const BgNbdParams& m, const PurchaseHistory& h,
                                              double horizon) {
  if (horizon <= 0) return 0.0;
  const double x = static_cast<double>(h.x);
  const double z = horizon / (m.alpha + h.T + horizon);
  auto hyp = Hyp2F1(m.r + x, m.b + x, m.a + m.b + x - 1, z);
  if (!hyp.ok()) return hyp.status();
  const double first = (m.a + m.b + x - 1) / (m.a - 1);
  const double second =
      1 - *hyp * std::exp((m.r + x) * std::log((m.alpha + h.T) / (m.alpha + h.T + horizon)));
  const double odds = h.x > 0
                          ? m.a / (m.b + x - 1) *
                                std::exp((m.r + x) * std::log((m.alpha + h.T) / (m.alpha + h.t_x)))
                          : 0.0;
  return first * second / (1 + odds);
}

absl::StatusOr<double> BgNbdExpectedPurchasesNew(const BgNbdParams& m, double t) {
  if (t <= 0) return 0.0;
  auto hyp = Hyp2F1(m.r, m.b, m.a + m.b - 1, t / (m.alpha + t));
  if (!hyp.ok()) return hyp.status();
  return (m.a + m.b - 1) / (m.a - 1) * (1 - std::pow(m.alpha / (m.alpha + t), m.r) * *hyp);
}

double GammaGammaLogLikelihood(const GammaGammaParams& m, const SpendHistory& h) {
  const double px = m.p * static_cast<double>(h.x);
  return LnGamma(px + m.q) - LnGamma(px) - LnGamma(m.q) + m.q * std::log(m.gamma) +
         (px - 1) * std::log(h.mean_value) + px * std::log(static_cast<double>(h.x)) -
         (px + m.q) * std::log(m.gamma + h.mean_value * static_cast<double>(h.x));
}

absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<SpendHistory>& customers) {
  std::map<std::pair<int64_t, double>, double> groups;
  for (size_t i = 0; i < customers.size(); ++i) {
    const SpendHistory& h = customers[i];
    if (h.x < 1 || !std::isfinite(h.mean_value) || h.mean_value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("customers[", i, "]: x = ", h.x, ", mean value ", h.mean_value,
                       " is not a repeat buyer's spend (x >= 1, mean value > 0)"));
    }
    groups[{h.x, h.mean_value}] += 1;
  }
  if (customers.size() < static_cast<size_t>(kMinRepeatBuyers)) {
    return absl::FailedPreconditionError(
        absl::StrCat("too few repeat buyers to fit Gamma-Gamma: ", customers.size(),
                     "; it needs at least ", kMinRepeatBuyers));
  }
  double mean = 0;
  for (const SpendHistory& h : customers) mean += h.mean_value;
  mean /= static_cast<double>(customers.size());
  // As for BG/NBD: the log-gamma terms once per distinct x, and each
  // group's logarithms of its spend once, not per evaluation. Values are
  // fitted in units of their mean: the model is the same in any unit (p and
  // q do not change, gamma scales with the unit), and gamma in minor units
  // of a currency can otherwise reach the minimiser's wall (3e6).
  const double scale = mean;
  struct Group {
    size_t x_index;
    double weight, log_mean, spend;  // spend: mean value times x
  };
  std::vector<Group> weighted;
  std::vector<int64_t> xs;
  for (const auto& [key, weight] : groups) {
    if (xs.empty() || xs.back() != key.first) xs.push_back(key.first);
    const double value = key.second / scale;
    weighted.push_back(
        {xs.size() - 1, weight, std::log(value), value * static_cast<double>(key.first)});
  }
  // With px = p x and S = gamma + m x (m the mean value):
  //   dLL/dp     = x (psi(px+q) - psi(px) + ln m + ln x - ln S)
  //   dLL/dq     = psi(px+q) - psi(q) + ln gamma - ln S
  //   dLL/dgamma = q/gamma - (px+q)/S
  const SmoothObjective objective = [&weighted, &xs](const std::vector<double>& v,
                                                     std::vector<double>* gradient) {
    const GammaGammaParams m{v[0], v[1], v[2]};
    const double common = -LnGamma(m.q) + m.q * std::log(m.gamma);
    const size_t nx = xs.size();
    std::vector<double> by_x(nx), dp_x, dq_x;
    if (gradient != nullptr) {
      dp_x.resize(nx);
      dq_x.resize(nx);
    }
    for (size_t i = 0; i < nx; ++i) {
      const double x = static_cast<double>(xs[i]);
      const double px = m.p * x;
      by_x[i] = common + LnGamma(px + m.q) - LnGamma(px) + px * std::log(x);
      if (gradient != nullptr) {
        const double psi_pxq = Digamma(px + m.q);
        dp_x[i] = x * (psi_pxq - Digamma(px) + std::log(x));
        dq_x[i] = psi_pxq - Digamma(m.q) + std::log(m.gamma);
      }
    }
    const auto part = [&](size_t begin, size_t end) {
      double sum = 0, gp = 0, gq = 0, gg = 0;
      for (size_t k = begin; k < end; ++k) {
        const Group& g = weighted[k];
        const double x = static_cast<double>(xs[g.x_index]);
        const double px = m.p * x;
        const double log_s = std::log(m.gamma + g.spend);
        sum += g.weight * (by_x[g.x_index] + (px - 1) * g.log_mean - (px + m.q) * log_s);
        if (gradient != nullptr) {
          gp += g.weight * (dp_x[g.x_index] + x * (g.log_mean - log_s));
          gq += g.weight * (dq_x[g.x_index] - log_s);
          gg += g.weight * (m.q / m.gamma - (px + m.q) / (m.gamma + g.spend));
        }
      }
      return std::array<double, 4>{sum, gp, gq, gg};
    };
    const std::array<double, 4> sums = SumInHalves<4>(weighted.size(), part);
    if (gradient != nullptr) *gradient = {-sums[1], -sums[2], -sums[3]};
    return -sums[0];
  };
  const Minimum found = internal::MinimizeSmooth(objective, {1.0, 1.0, 1.0}, Domain::kPositive);
  if (!found.converged) {
    return absl::FailedPreconditionError(absl::StrCat("the Gamma-Gamma fit did not converge after ",
                                                      found.iterations, " iterations"));
  }
  const std::vector<double> errors = internal::StandardErrors(
      [&objective](const std::vector<double>& v) { return objective(v, nullptr); }, found.params);
  GammaGammaFit fit;
  // Back in the values' unit: gamma times the scale, and each customer's
  // density of their mean value divided by it.
  fit.params = {found.params[0], found.params[1], found.params[2] * scale};
  fit.standard_errors = {errors[0], errors[1], errors[2] * scale};
  fit.log_likelihood = -found.value - static_cast<double>(customers.size()) * std::log(scale);
  fit.iterations = found.iterations;
  fit.converged = true;
  return fit;
}

double GammaGammaExpectedValue(const GammaGammaParams& m, const SpendHistory& h) {
  const double x = static_cast<double>(h.x);
  if (h.x < 1) return m.p * m.gamma / (m.q - 1);
  return (m.gamma + h.mean_value * x) * m.p / (m.p * x + m.q - 1);
}

CalibrationSummary Summarize(std::vector<DailyPurchase> purchases, int64_t calibration_end_day,
                             int64_t holdout_end_day, double days_per_unit) {
  std::sort(purchases.begin(), purchases.end(), [](const DailyPurchase& l, const DailyPurchase& r) {
    return std::tie(l.customer, l.day) < std::tie(r.customer, r.day);
  });
  CalibrationSummary summary;
  size_t i = 0;
  while (i < purchases.size()) {
    const int64_t customer = purchases[i].customer;
    const int64_t first = purchases[i].day;
    int64_t x = 0;
    int64_t last = first;
    int64_t holdout = 0;
    double repeat_value = 0;
    int64_t previous = first;
    double day_value = 0;
    // One purchase per day: values of a day added.
    const auto close_day = [&](int64_t day, double value) {
      if (day == first) return;
      if (day <= calibration_end_day) {
        ++x;
        last = day;
        repeat_value += value;
      } else if (day <= holdout_end_day) {
        ++holdout;
      }
    };
    for (; i < purchases.size() && purchases[i].customer == customer; ++i) {
      if (purchases[i].day != previous) {
        close_day(previous, day_value);
        previous = purchases[i].day;
        day_value = 0;
      }
      day_value += purchases[i].value;
    }
    close_day(previous, day_value);
    if (first > calibration_end_day) continue;  // not yet a customer then
    summary.customers.push_back(customer);
    summary.histories.push_back({x, static_cast<double>(last - first) / days_per_unit,
                                 static_cast<double>(calibration_end_day - first) / days_per_unit});
    summary.mean_values.push_back(x > 0 ? repeat_value / static_cast<double>(x) : 0.0);
    summary.holdout_purchases.push_back(holdout);
  }
  return summary;
}

absl::StatusOr<HoldoutComparison> CompareHoldout(const BgNbdParams& m,
                                                 const CalibrationSummary& summary, double horizon,
                                                 int64_t max_bucket) {
  HoldoutComparison out;
  out.by_frequency.resize(static_cast<size_t>(max_bucket) + 1);
  for (int64_t x = 0; x <= max_bucket; ++x) out.by_frequency[x].x = x;
  for (size_t i = 0; i < summary.histories.size(); ++i) {
    const PurchaseHistory& h = summary.histories[i];
    absl::StatusOr<double> expected = BgNbdExpectedPurchases(m, h, horizon);
    if (!expected.ok()) return expected.status();
    HoldoutRow& row = out.by_frequency[std::min(h.x, max_bucket)];
    ++row.customers;
    row.predicted += *expected;
    row.actual += static_cast<double>(summary.holdout_purchases[i]);
    out.predicted_total += *expected;
    out.actual_total += summary.holdout_purchases[i];
  }
  for (HoldoutRow& row : out.by_frequency) {
    if (row.customers == 0) continue;
    row.predicted /= static_cast<double>(row.customers);
    row.actual /= static_cast<double>(row.customers);
  }
  return out;
}

}  // namespace crm::analytics
