// Pricing insight by hand: orders with discount codes against without, and
// price elasticity per category and product from weekly sales.
#include "services/analytics/pricing.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace crm::analytics {
namespace {

absl::Time Day(int d) { return absl::FromUnixSeconds(1767225600) + absl::Hours(24 * d); }

}  // namespace

TEST_CASE("discount groups: basket, price realisation, margin, repeat orders",
          "[unit][analytics]") {
  std::vector<PricedOrder> orders;
  // With codes: a (lines list 1000, paid 800, cost 500, 2 units; again on
  // day 30), b (no lines, paid 600; never again).
  PricedOrder a{"customers/a", Day(0), true, 800, true, 1000, 2, true, 500, Day(30)};
  PricedOrder b{"customers/b", Day(1), true, 600, false, 0, 0, false, 0, std::nullopt};
  // Without: c twice (1500 list and paid, 3 units, one line without a
  // cost; then 500 on day 200 — not within 90 days of the first).
  PricedOrder c1{"customers/c", Day(2), false, 1500, true, 1500, 3, false, 0, Day(200)};
  PricedOrder c2{"customers/c", Day(200), false, 500, true, 500, 1, true, 100, std::nullopt};
  orders = {a, b, c1, c2};
  const absl::Time last = Day(200);

  const v1::DiscountGroup with = SummarizeDiscountGroup(orders, true, last);
  CHECK(with.orders() == 2);
  CHECK(with.customers() == 2);
  CHECK(with.share_of_orders() == Approx(0.5));
  CHECK(with.average_order_value_minor() == Approx(700));
  CHECK(with.units_per_order() == Approx(2));  // of the one order with lines
  CHECK(with.list_value_minor() == 1000);
  CHECK(with.paid_with_lines_minor() == 800);
  CHECK(with.discount_given_minor() == 200);
  CHECK(with.price_realisation() == Approx(0.8));
  CHECK(with.orders_with_costs() == 1);
  CHECK(with.margin_minor() == 300);
  CHECK(with.margin_rate() == Approx(300.0 / 800));
  CHECK(with.orders_observed_90d() == 2);
  CHECK(with.repeat_rate_90d() == Approx(0.5));

  const v1::DiscountGroup without = SummarizeDiscountGroup(orders, false, last);
  CHECK(without.orders() == 2);
  CHECK(without.customers() == 1);
  CHECK(without.units_per_order() == Approx(2));
  CHECK(without.price_realisation() == Approx(1.0));
  CHECK(without.discount_given_minor() == 0);
  CHECK(without.orders_with_costs() == 1);
  CHECK(without.margin_rate() == Approx(0.8));
  // c2 is too recent to be observed for 90 days.
  CHECK(without.orders_observed_90d() == 1);
  CHECK(without.repeat_rate_90d() == 0.0);

  const v1::DiscountGroup none = SummarizeDiscountGroup({}, true, last);
  CHECK(none.orders() == 0);
  CHECK(none.average_order_value_minor() == 0.0);
}

TEST_CASE("elasticities per category and product, most revenue first", "[unit][analytics]") {
  std::vector<WeeklySales> weeks;
  // Mugs: units = 10^6 * price^-1.5 exactly over 10 weeks of prices.
  for (int w = 0; w < 10; ++w) {
    const double price = 400 + 40 * w;
    const auto units = static_cast<int64_t>(std::llround(1e6 * std::pow(price, -1.5) * 100));
    weeks.push_back({"mugs", "", units, static_cast<int64_t>(std::llround(price * units))});
  }
  // Tea: one price only.
  for (int w = 0; w < 10; ++w) weeks.push_back({"tea", "", 5, 5 * 300});
  // A product with three weeks.
  for (int w = 0; w < 3; ++w) weeks.push_back({"mugs", "MUG-1", 10, 10 * (100 + w)});
  const auto out = Elasticities(weeks);
  REQUIRE(out.size() == 3);
  CHECK(out[0].category() == "mugs");
  CHECK(out[0].sku().empty());
  REQUIRE(out[0].estimated());
  CHECK(out[0].elasticity() == Approx(-1.5).margin(0.01));
  CHECK(out[0].observations() == 10);
  CHECK(out[0].r_squared() > 0.99);
  CHECK(out[1].category() == "tea");
  CHECK_FALSE(out[1].estimated());
  CHECK(out[1].reason().find("vari") != std::string::npos);
  CHECK(out[1].average_unit_price_minor() == Approx(300));
  CHECK(out[2].sku() == "MUG-1");
  CHECK_FALSE(out[2].estimated());
  CHECK(out[2].observations() == 3);
}

}  // namespace crm::analytics
