#include "services/analytics/cohorts.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/analytics/minimize.h"

namespace crm::analytics {

std::vector<CohortRow> CohortMatrix(const std::vector<OrderFact>& orders,
                                    absl::CivilMonth through) {
  std::map<int64_t, absl::CivilMonth> first;  // customer -> cohort
  for (const OrderFact& o : orders) {
    const absl::CivilMonth month(o.day);
    if (month > through) continue;
    auto [it, inserted] = first.emplace(o.customer, month);
    if (!inserted && month < it->second) it->second = month;
  }
  if (first.empty()) return {};
  absl::CivilMonth start = first.begin()->second;
  for (const auto& [customer, month] : first) start = std::min(start, month);
  std::vector<CohortRow> rows;
  for (absl::CivilMonth m = start; m <= through; ++m) {
    CohortRow row;
    row.cohort = m;
    const size_t months = static_cast<size_t>(through - m) + 1;
    row.active.assign(months, 0);
    row.revenue_minor.assign(months, 0);
    rows.push_back(std::move(row));
  }
  std::set<std::pair<int64_t, int64_t>> counted;  // (customer, month index) already active
  for (const OrderFact& o : orders) {
    const absl::CivilMonth month(o.day);
    if (month > through) continue;
    const absl::CivilMonth cohort = first.at(o.customer);
    CohortRow& row = rows[static_cast<size_t>(cohort - start)];
    const size_t k = static_cast<size_t>(month - cohort);
    row.revenue_minor[k] += o.value_minor;
    if (counted.insert({o.customer, static_cast<int64_t>(month - start)}).second) ++row.active[k];
  }
  for (CohortRow& row : rows) row.customers = row.active.empty() ? 0 : row.active[0];
  return rows;
}

absl::StatusOr<Elasticity> EstimateElasticity(const std::vector<PricePoint>& points) {
  std::vector<double> x, y;
  for (const PricePoint& p : points) {
    if (!(p.price > 0) || !(p.quantity > 0) || !std::isfinite(p.price) ||
        !std::isfinite(p.quantity)) {
      continue;
    }
    x.push_back(std::log(p.price));
    y.push_back(std::log(p.quantity));
  }
  const size_t n = x.size();
  if (n < static_cast<size_t>(kMinPriceObservations)) {
    return absl::FailedPreconditionError(
        absl::StrCat("too few observations with a price and a quantity: ", n,
                     "; an estimate needs ", kMinPriceObservations));
  }
  double mean = 0, squares = 0;
  for (double log_price : x) {
    mean += std::exp(log_price);
    squares += std::exp(2 * log_price);
  }
  mean /= static_cast<double>(n);
  const double sd = std::sqrt(std::max(0.0, squares / static_cast<double>(n) - mean * mean));
  if (sd / mean < kMinPriceVariation) {
    return absl::FailedPreconditionError(
        absl::StrCat("the price did not vary enough to estimate an elasticity (coefficient of "
                     "variation ",
                     sd / mean, ", needs ", kMinPriceVariation, ")"));
  }
  internal::InitGsl();
  double c0 = 0, c1 = 0, cov00 = 0, cov01 = 0, cov11 = 0, sumsq = 0;
  if (gsl_fit_linear(x.data(), 1, y.data(), 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq) !=
      GSL_SUCCESS) {
    return absl::FailedPreconditionError("the regression of log quantity on log price failed");
  }
  double y_mean = 0;
  for (double v : y) y_mean += v;
  y_mean /= static_cast<double>(n);
  double total = 0;
  for (double v : y) total += (v - y_mean) * (v - y_mean);
  Elasticity e;
  e.elasticity = c1;
  e.standard_error = std::sqrt(cov11);
  e.observations = static_cast<int64_t>(n);
  e.r_squared = total > 0 ? 1 - sumsq / total : 0;
  return e;
}

}  // namespace crm::analytics
