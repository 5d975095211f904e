// From the facts to the value reports: RFM summaries, the value model's
// fit and holdout check, and one customer's predicted value. No I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/analytics/v1/value.pb.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/rfm.h"

namespace crm::analytics {

v1::RfmSegment SegmentProto(RfmSegment segment);

// The time recency is counted to: `requested` when set, else the tenant's
// last order (so that a history that ended, an import or a demo data set,
// is read as of its end).
absl::Time RfmAsOf(const std::vector<CustomerOrders>& customers,
                   const google::protobuf::Timestamp* requested);

// RFM scores of `customers` with recency counted to `as_of`, in their order.
std::vector<v1::RfmScores> ScoreCustomers(const std::vector<CustomerOrders>& customers,
                                          absl::Time as_of);
// One customer's scores against a scoring run's cuts, recency counted to
// `as_of`.
v1::RfmScores ScoreAgainstCuts(const CustomerOrders& customer, absl::Time as_of,
                               const RfmCuts& cuts);
// The distribution: every segment, empty ones included.
v1::RfmSummary SummarizeRfm(const std::vector<CustomerOrders>& customers,
                            const std::vector<v1::RfmScores>& scores);

// LOW below 0.3, MEDIUM to 0.7, HIGH from 0.7.
v1::ChurnBand ChurnBandOf(double churn_risk);

// The summaries of the customers in `orders`, in name order, as
// analytics.customer_summaries keeps them.
std::vector<CustomerOrders> SummariesOf(const std::vector<OrderPoint>& orders);

// 1 - P(alive) under `model` of every one of `customers`, in their order,
// observed until the later of the model's last order and their last.
std::vector<std::pair<std::string, double>> ChurnRisks(
    const v1::ValueModel& model, const std::vector<CustomerOrders>& customers);

// Above this many customers the holdout check refits on a sample of them.
inline constexpr size_t kHoldoutSample = 50000;
// The sample: every k-th of `customers` (in name order), at most
// kHoldoutSample of them; all of them when they are fewer.
std::vector<std::string> HoldoutSample(const std::vector<CustomerOrders>& customers);

// BG/NBD and Gamma-Gamma on every one of `customers` (days in weeks,
// purchases on one day counted as one), observed until the last order;
// with a holdout check of `holdout_weeks` when the history before it is at
// least half as long, refitted on `holdout_orders` (the orders of every
// customer, or of HoldoutSample's).
absl::StatusOr<v1::ValueModel> FitValueModel(const std::vector<CustomerOrders>& customers,
                                             const std::vector<OrderPoint>& holdout_orders,
                                             double holdout_weeks);
// The same from every customer's orders.
absl::StatusOr<v1::ValueModel> FitValueModel(const std::vector<OrderPoint>& orders,
                                             double holdout_weeks);

// What `model` expects of `customer`, observed until the later of the
// model's last order and theirs.
absl::StatusOr<v1::PredictedValue> PredictValue(const v1::ValueModel& model,
                                                const CustomerOrders& customer,
                                                double horizon_weeks, double annual_discount_rate);

}  // namespace crm::analytics
