// The analytics facts in the `analytics` schema: orders from the customer
// feed (with merges, unmerges and erasures applied), how fresh each source
// is, the summaries the value reports are computed from, and the kept
// model fits. A change to a tenant's orders or model queues its scores
// (ScoreStore).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/analytics/v1/value.pb.h"
#include "crm/events/v1/event_feed.pb.h"
#include "services/analytics/pricing.h"

namespace crm::analytics {

inline constexpr char kSchema[] = "analytics";

// A customer's orders that count (not cancelled, not fully refunded) in
// one currency: a row of analytics.customer_summaries, kept current as the
// orders change, so that RFM and the value model read one row per customer.
struct CustomerOrders {
  std::string customer;
  int64_t orders = 0;
  int64_t spent_minor = 0;  // totals less refunds
  absl::Time first_order;
  absl::Time last_order;
  // Purchases as the value model counts them, by UTC day (days since
  // 1970-01-01): the days with an order, the first and the last, and what
  // the first day's orders were worth.
  int64_t purchase_days = 0;
  int64_t first_day = 0;
  int64_t last_day = 0;
  int64_t first_day_minor = 0;
};

// The pseudonym an erased customer's facts keep: "erased/" and a UUID-shaped
// SHA-256 of tenant and customer. The same every time, so a replayed
// erasure or a snapshot rebuild gives a customer the one pseudonym (the
// figures keep their shape); one-way, and the customer id it hides is a
// random UUID.
std::string ErasedPseudonym(const std::string& tenant, const std::string& customer);

// The UTC calendar day of `t`: reports count days and months in UTC.
inline absl::CivilDay UtcDay(absl::Time t) { return absl::ToCivilDay(t, absl::UTCTimeZone()); }

// One order that counts, for the value model.
struct OrderPoint {
  std::string customer;
  absl::Time time;
  int64_t value_minor = 0;
};

class FactStore {
 public:
  explicit FactStore(db::Pool& pool);

  // The customer feed's events: order.recorded and order.status_changed
  // upsert the order; customer.merged, customer.unmerged and
  // customer.erased move its orders. In the event's tenant's transaction.
  absl::Status ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event);
  // Records that `source`'s feed applied an event made at `event_time`.
  void RecordFreshness(db::Tx& tx, const std::string& tenant, const std::string& source,
                       const google::protobuf::Timestamp& event_time);

  // The currency of most of the tenant's orders, or `requested` when set
  // (upper-cased, checked as ISO 4217 letters); FAILED_PRECONDITION when
  // the tenant has no orders.
  absl::StatusOr<std::string> Currency(const server::CallScope& scope,
                                       const std::string& requested);
  absl::StatusOr<std::vector<CustomerOrders>> CustomersIn(const server::CallScope& scope,
                                                          const std::string& currency);
  // One customer's summary in `currency`; nullopt without orders that count.
  absl::StatusOr<std::optional<CustomerOrders>> CustomerIn(const server::CallScope& scope,
                                                           const std::string& currency,
                                                           const std::string& customer);
  absl::StatusOr<std::vector<OrderPoint>> OrdersIn(const server::CallScope& scope,
                                                   const std::string& currency,
                                                   const std::string& customer = "");
  // The orders of `customers` (any currency's), for a sample.
  absl::StatusOr<std::vector<OrderPoint>> OrdersOf(const server::CallScope& scope,
                                                   const std::string& currency,
                                                   const std::vector<std::string>& customers);
  // The same in a transaction of the caller's.
  std::vector<CustomerOrders> CustomersIn(db::Tx& tx, const std::string& tenant,
                                          const std::string& currency);
  // Recomputes the summaries of `customers` (every currency) from their
  // orders: after anything changed which orders they have or how they
  // count. `all` recomputes every customer of every tenant (a rebuild;
  // housekeeping transaction).
  static void Resummarize(db::Tx& tx, const std::string& tenant,
                          const std::vector<std::string>& customers);
  static void ResummarizeAll(db::Tx& tx);
  std::vector<OrderPoint> OrdersIn(db::Tx& tx, const std::string& tenant,
                                   const std::string& currency, const std::string& customer = "");
  // The orders that count in [start, end) with their lines' sums, the
  // weekly sales per category and per product, and the last order in the
  // currency (InfinitePast without one).
  struct Pricing {
    std::vector<PricedOrder> orders;
    std::vector<WeeklySales> weeks;
    absl::Time last_order = absl::InfinitePast();
  };
  absl::StatusOr<Pricing> PricingIn(const server::CallScope& scope, const std::string& currency,
                                    absl::Time start, absl::Time end);
  absl::StatusOr<absl::Time> LastOrder(const server::CallScope& scope, const std::string& currency);
  // Per order holding lines of `category`: those lines at list price.
  absl::StatusOr<std::vector<OrderPoint>> CategoryOrdersIn(const server::CallScope& scope,
                                                           const std::string& currency,
                                                           const std::string& category);
  absl::StatusOr<v1::Freshness> Freshness(const server::CallScope& scope);
  v1::Freshness Freshness(db::Tx& tx, const std::string& tenant);

  absl::Status SaveModel(const server::CallScope& scope, const v1::ValueModel& model);
  // nullopt before the first fit.
  absl::StatusOr<std::optional<v1::ValueModel>> Model(const server::CallScope& scope,
                                                      const std::string& currency);
  absl::StatusOr<std::optional<v1::ValueModel>> Model(db::Tx& tx, const std::string& tenant,
                                                      const std::string& currency);

 private:
  db::Pool& pool_;
};

}  // namespace crm::analytics
