// Retention by cohort, and price elasticity: the pure arithmetic of two
// reports.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace crm::analytics {

// An order as the reports count it: amounts in one currency's minor units.
struct OrderFact {
  int64_t customer = 0;
  absl::CivilDay day;
  int64_t value_minor = 0;
};

// The customers whose first order fell in `cohort`, and per month since
// (k = 0 is the cohort's month): how many of them ordered, and what they
// spent, up to the matrix's last month.
struct CohortRow {
  absl::CivilMonth cohort;
  int64_t customers = 0;
  std::vector<int64_t> active;         // [k]: customers with an order in month k
  std::vector<int64_t> revenue_minor;  // [k]: what the cohort spent in month k
};

// One row per cohort month from the first order's to `through`, oldest
// first (a month without new customers has a row of zeros); orders after
// `through` are not counted.
std::vector<CohortRow> CohortMatrix(const std::vector<OrderFact>& orders, absl::CivilMonth through);

// Price elasticity of demand from (price, quantity) observations, e.g. a
// product's average price and units per week: the slope of
// log(quantity) = a + e * log(price) by least squares (GSL), with its
// standard error, the sample size and R². Observations without a positive
// price and quantity are left out.
struct Elasticity {
  double elasticity = 0;
  double standard_error = 0;
  int64_t observations = 0;
  double r_squared = 0;
};

// Fewest observations, and the least variation of price (the coefficient
// of variation), an estimate needs: FAILED_PRECONDITION below either.
inline constexpr int kMinPriceObservations = 8;
inline constexpr double kMinPriceVariation = 0.05;

struct PricePoint {
  double price = 0;
  double quantity = 0;
};
absl::StatusOr<Elasticity> EstimateElasticity(const std::vector<PricePoint>& points);

}  // namespace crm::analytics
