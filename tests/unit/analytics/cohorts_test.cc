// The cohort matrix and the price elasticity against hand-computed
// fixtures.
#include "services/analytics/cohorts.h"

#include <catch2/catch.hpp>
#include <cmath>

namespace crm::analytics {

TEST_CASE("a cohort matrix by first-order month, by hand", "[unit][analytics]") {
  using absl::CivilDay;
  const std::vector<OrderFact> orders = {
      {1, CivilDay(2026, 1, 5), 1000},   // customer 1: Jan cohort
      {1, CivilDay(2026, 1, 20), 500},   // again in January: counted once as active
      {1, CivilDay(2026, 3, 2), 700},    // back in March
      {2, CivilDay(2026, 1, 31), 2000},  // customer 2: Jan cohort, never again
      {3, CivilDay(2026, 2, 14), 300},   // customer 3: Feb cohort
      {3, CivilDay(2026, 3, 1), 400},    // and in March
      {4, CivilDay(2026, 4, 1), 999},    // after `through`: not counted
      {3, CivilDay(2026, 4, 2), 100},    // likewise
  };
  const std::vector<CohortRow> m = CohortMatrix(orders, absl::CivilMonth(2026, 3));
  REQUIRE(m.size() == 3);
  CHECK(m[0].cohort == absl::CivilMonth(2026, 1));
  CHECK(m[0].customers == 2);
  CHECK(m[0].active == std::vector<int64_t>{2, 0, 1});
  CHECK(m[0].revenue_minor == std::vector<int64_t>{3500, 0, 700});
  CHECK(m[1].cohort == absl::CivilMonth(2026, 2));
  CHECK(m[1].customers == 1);
  CHECK(m[1].active == std::vector<int64_t>{1, 1});
  CHECK(m[1].revenue_minor == std::vector<int64_t>{300, 400});
  CHECK(m[2].cohort == absl::CivilMonth(2026, 3));
  CHECK(m[2].customers == 0);  // nobody's first order was in March
  CHECK(m[2].active == std::vector<int64_t>{0});
  CHECK(CohortMatrix({}, absl::CivilMonth(2026, 3)).empty());
}

TEST_CASE("price elasticity: a known demand curve is recovered", "[unit][analytics]") {
  // quantity = 1000 * price^-1.5, with a multiplicative wobble.
  std::vector<PricePoint> points;
  for (int i = 0; i < 20; ++i) {
    const double price = 5.0 + 0.5 * i;
    const double wobble = (i % 2 == 0) ? 1.02 : 0.98;
    points.push_back({price, 1000 * std::pow(price, -1.5) * wobble});
  }
  points.push_back({0, 10});   // no price: left out
  points.push_back({7.5, 0});  // nothing sold: left out
  const auto e = EstimateElasticity(points);
  REQUIRE(e.ok());
  CHECK(e->observations == 20);
  CHECK(e->elasticity == Approx(-1.5).margin(0.05));
  CHECK(e->standard_error > 0);
  CHECK(e->standard_error < 0.05);
  CHECK(e->r_squared > 0.95);
}

TEST_CASE("price elasticity needs data and a price that moved", "[unit][analytics]") {
  const auto few = EstimateElasticity({{10, 5}, {11, 4}, {12, 3}});
  REQUIRE(absl::IsFailedPrecondition(few.status()));
  CHECK(std::string(few.status().message()).find("too few observations") == 0);
  std::vector<PricePoint> flat;
  for (int i = 0; i < 30; ++i) flat.push_back({10.0 + 0.01 * (i % 3), 50.0 + i});
  const auto still = EstimateElasticity(flat);
  REQUIRE(absl::IsFailedPrecondition(still.status()));
  CHECK(std::string(still.status().message()).find("did not vary enough") != std::string::npos);
}

}  // namespace crm::analytics
