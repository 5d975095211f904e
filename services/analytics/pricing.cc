#include "services/analytics/pricing.h"

#include <algorithm>
#include <map>
#include <set>

#include "services/analytics/cohorts.h"

namespace crm::analytics {
namespace {

double Ratio(double a, double b) { return b == 0 ? 0.0 : a / b; }

}  // namespace

v1::DiscountGroup SummarizeDiscountGroup(const std::vector<PricedOrder>& orders, bool discounted,
                                         absl::Time last_order) {
  v1::DiscountGroup g;
  std::set<std::string> customers;
  int64_t paid = 0, lined = 0, units = 0, list = 0, paid_lined = 0, cost = 0, paid_costed = 0;
  int64_t observed = 0, repeated = 0;
  for (const PricedOrder& o : orders) {
    if (o.discounted != discounted) continue;
    g.set_orders(g.orders() + 1);
    customers.insert(o.customer);
    paid += o.paid_minor;
    if (o.has_lines) {
      ++lined;
      units += o.units;
      list += o.list_minor;
      paid_lined += o.paid_minor;
    }
    if (o.has_lines && o.costs_known) {
      g.set_orders_with_costs(g.orders_with_costs() + 1);
      cost += o.cost_minor;
      paid_costed += o.paid_minor;
    }
    if (o.time + kRepeatWindow <= last_order) {
      ++observed;
      if (o.next_order && *o.next_order - o.time <= kRepeatWindow) ++repeated;
    }
  }
  g.set_customers(static_cast<int64_t>(customers.size()));
  g.set_share_of_orders(Ratio(static_cast<double>(g.orders()), static_cast<double>(orders.size())));
  g.set_average_order_value_minor(
      Ratio(static_cast<double>(paid), static_cast<double>(g.orders())));
  g.set_units_per_order(Ratio(static_cast<double>(units), static_cast<double>(lined)));
  g.set_list_value_minor(list);
  g.set_paid_with_lines_minor(paid_lined);
  g.set_discount_given_minor(std::max<int64_t>(0, list - paid_lined));
  g.set_price_realisation(Ratio(static_cast<double>(paid_lined), static_cast<double>(list)));
  g.set_margin_minor(paid_costed - cost);
  g.set_margin_rate(
      Ratio(static_cast<double>(paid_costed - cost), static_cast<double>(paid_costed)));
  g.set_orders_observed_90d(observed);
  g.set_repeat_rate_90d(Ratio(static_cast<double>(repeated), static_cast<double>(observed)));
  return g;
}

std::vector<v1::PriceElasticity> Elasticities(const std::vector<WeeklySales>& weeks) {
  struct Item {
    std::string category;
    int64_t units = 0;
    int64_t revenue = 0;
    std::vector<PricePoint> points;
  };
  std::map<std::pair<std::string, std::string>, Item> items;  // (category, sku)
  for (const WeeklySales& w : weeks) {
    Item& item = items[{w.sku.empty() ? w.category : "", w.sku}];
    item.category = w.category;
    item.units += w.units;
    item.revenue += w.revenue_minor;
    if (w.units > 0 && w.revenue_minor > 0) {
      item.points.push_back({static_cast<double>(w.revenue_minor) / static_cast<double>(w.units),
                             static_cast<double>(w.units)});
    }
  }
  std::vector<std::pair<std::pair<std::string, std::string>, Item*>> ranked;
  for (auto& [key, item] : items) ranked.emplace_back(key, &item);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second->revenue > b.second->revenue;
  });
  if (ranked.size() > static_cast<size_t>(kMaxPricedItems)) ranked.resize(kMaxPricedItems);
  std::vector<v1::PriceElasticity> out;
  for (const auto& [key, item] : ranked) {
    v1::PriceElasticity e;
    e.set_category(item->category);
    e.set_sku(key.second);
    e.set_units(item->units);
    e.set_average_unit_price_minor(
        Ratio(static_cast<double>(item->revenue), static_cast<double>(item->units)));
    e.set_observations(static_cast<int64_t>(item->points.size()));
    auto fit = EstimateElasticity(item->points);
    if (fit.ok()) {
      e.set_estimated(true);
      e.set_elasticity(fit->elasticity);
      e.set_standard_error(fit->standard_error);
      e.set_r_squared(fit->r_squared);
    } else {
      e.set_reason(std::string(fit.status().message()));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace crm::analytics
