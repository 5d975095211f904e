// Pricing insight's arithmetic (no I/O): orders with discount codes against
// orders without, and price elasticity per category and product from
// weekly prices and units.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/analytics/v1/pricing.pb.h"

namespace crm::analytics {

// An order that counts, with what its lines say.
struct PricedOrder {
  std::string customer;
  absl::Time time;
  bool discounted = false;
  int64_t paid_minor = 0;  // total less refunds
  bool has_lines = false;
  int64_t list_minor = 0;  // lines at list price
  int64_t units = 0;
  bool costs_known = false;  // every line gives a unit cost
  int64_t cost_minor = 0;
  std::optional<absl::Time> next_order;  // the customer's next, any time
};

// One week of a category's or product's sales.
struct WeeklySales {
  std::string category;
  std::string sku;  // empty for a category
  int64_t units = 0;
  int64_t revenue_minor = 0;  // at list price
};

inline constexpr int kMaxPricedItems = 50;
inline constexpr absl::Duration kRepeatWindow = absl::Hours(24 * 90);

// `orders` of the period (discounted and not), observed until `last_order`.
v1::DiscountGroup SummarizeDiscountGroup(const std::vector<PricedOrder>& orders, bool discounted,
                                         absl::Time last_order);

// One elasticity per category or product (`weeks` of them all), the
// `kMaxPricedItems` with the most revenue, most first.
std::vector<v1::PriceElasticity> Elasticities(const std::vector<WeeklySales>& weeks);

}  // namespace crm::analytics
