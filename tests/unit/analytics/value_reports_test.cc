// From facts to reports: the RFM summary by hand, and the value model's
// fit and holdout check on CDNOW's full log, which must agree with the
// models' own test of the same split.
#include "services/analytics/value_reports.h"

#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "services/analytics/value_model.h"

namespace crm::analytics {
namespace {

absl::Time Day(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

}  // namespace

TEST_CASE("the RFM summary counts every customer once, every segment listed", "[unit][analytics]") {
  const std::vector<CustomerOrders> customers = {
      {"customers/a", 12, 250000, Day(2025, 1, 1), Day(2026, 6, 27), 0, 0, 0, 0},
      {"customers/b", 1, 2000, Day(2026, 6, 20), Day(2026, 6, 20), 0, 0, 0, 0},
      {"customers/c", 4, 60000, Day(2025, 3, 1), Day(2026, 5, 21), 0, 0, 0, 0},
      {"customers/d", 8, 90000, Day(2024, 1, 1), Day(2025, 12, 12), 0, 0, 0, 0},
      {"customers/e", 1, 1500, Day(2025, 5, 26), Day(2025, 5, 26), 0, 0, 0, 0},
  };
  const std::vector<v1::RfmScores> scores = ScoreCustomers(customers, Day(2026, 6, 30));
  REQUIRE(scores.size() == 5);
  CHECK(scores[0].recency_days() == 3);
  CHECK(scores[0].segment() == v1::RFM_SEGMENT_CHAMPIONS);
  CHECK(scores[4].recency_days() == 400);
  CHECK(scores[4].segment() == v1::RFM_SEGMENT_LOST);
  const v1::RfmSummary summary = SummarizeRfm(customers, scores);
  CHECK(summary.customers() == 5);
  REQUIRE(summary.segments_size() == 11);
  int64_t counted = 0, spent = 0;
  double share = 0;
  for (const auto& s : summary.segments()) {
    counted += s.customers();
    spent += s.monetary_minor();
    share += s.share();
  }
  CHECK(counted == 5);
  CHECK(spent == 403500);
  CHECK(share == Approx(1.0));
  CHECK(summary.segments(0).segment() == v1::RFM_SEGMENT_CHAMPIONS);
  CHECK(summary.segments(0).display_name() == "Champions");
  CHECK(summary.segments(0).customers() == 1);
  CHECK(summary.segments(10).display_name() == "Lost");
}

TEST_CASE("FitValueModel on CDNOW's orders: the paper's split as a holdout check",
          "[unit][analytics]") {
  std::ifstream in(std::string(CRM_DATA_DIR) + "/CDNOW_master.txt");
  REQUIRE(in.good());
  std::string header;
  std::getline(in, header);
  std::vector<OrderPoint> orders;
  int64_t id = 0, date = 0, cds = 0;
  double dollars = 0;
  while (in >> id >> date >> cds >> dollars) {
    orders.push_back({absl::StrCat("customers/", id),
                      Day(static_cast<int>(date / 10000), static_cast<int>(date / 100 % 100),
                          static_cast<int>(date % 100)),
                      static_cast<int64_t>(std::llround(dollars * 100))});
  }
  // The log ends on 1998-06-30: 39 weeks back is the paper's calibration end.
  const auto model = FitValueModel(orders, 39);
  REQUIRE(model.ok());
  CHECK(model->customers() == 23570);
  CHECK(model->converged());
  REQUIRE(model->has_holdout());
  CHECK(model->holdout().actual_purchases() == 19684);
  CHECK(model->holdout().predicted_purchases() == Approx(16873.7).epsilon(1e-4));
  REQUIRE(model->holdout().buckets_size() == 8);
  CHECK(model->holdout().buckets(0).customers() == 14119);

  // A customer's value from the kept model.
  std::vector<OrderPoint> mine;
  for (const OrderPoint& o : orders) {
    if (o.customer == "customers/2") mine.push_back(o);
  }
  const auto value = PredictValue(*model, SummariesOf(mine).at(0), 52, 0.1);
  REQUIRE(value.ok());
  CHECK(value->probability_alive() > 0);
  CHECK(value->probability_alive() <= 1);
  CHECK(value->expected_order_value_minor() > 0);
  CHECK(value->clv_minor() > 0);
  CHECK(value->clv_minor() < value->expected_purchases() * value->expected_order_value_minor());
  CHECK(absl::IsNotFound(PredictValue(*model, CustomerOrders(), 52, 0.1).status()));
}

}  // namespace crm::analytics

namespace crm::analytics {

TEST_CASE("churn bands: LOW below 0.3, MEDIUM to 0.7, HIGH from 0.7", "[unit][analytics]") {
  CHECK(ChurnBandOf(0.0) == v1::CHURN_BAND_LOW);
  CHECK(ChurnBandOf(0.2999) == v1::CHURN_BAND_LOW);
  CHECK(ChurnBandOf(0.3) == v1::CHURN_BAND_MEDIUM);
  CHECK(ChurnBandOf(0.6999) == v1::CHURN_BAND_MEDIUM);
  CHECK(ChurnBandOf(0.7) == v1::CHURN_BAND_HIGH);
  CHECK(ChurnBandOf(1.0) == v1::CHURN_BAND_HIGH);
}

TEST_CASE("the median wait for the next order of a customer still active", "[unit][analytics]") {
  // r + x = 1.5, alpha + T = 8: the wait w with (8 / (8 + w))^1.5 = 1/2.
  const BgNbdParams m{0.5, 2.0, 0.8, 2.4};
  const PurchaseHistory h{1, 3.0, 6.0};
  const double w = BgNbdMedianWaitAlive(m, h);
  CHECK(w == Approx(8.0 * (std::pow(2.0, 1.0 / 1.5) - 1)));
  CHECK(std::pow(8.0 / (8.0 + w), 1.5) == Approx(0.5));
  // More purchases in the same time: a shorter wait.
  CHECK(BgNbdMedianWaitAlive(m, {5, 5.5, 6.0}) < w);
}

TEST_CASE("churn risks of every customer, under a kept model", "[unit][analytics]") {
  v1::ValueModel model;
  model.mutable_bg_nbd()->set_r(0.24);
  model.mutable_bg_nbd()->set_alpha(4.4);
  model.mutable_bg_nbd()->set_a(0.79);
  model.mutable_bg_nbd()->set_b(2.43);
  const absl::Time t0 = absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
  *model.mutable_last_order_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(t0) + 70 * 86400);
  // b bought often and stopped long ago; a bought once; c bought lately.
  std::vector<OrderPoint> orders = {{"customers/b", t0, 100},
                                    {"customers/b", t0 + absl::Hours(24 * 1), 100},
                                    {"customers/b", t0 + absl::Hours(24 * 2), 100},
                                    {"customers/b", t0 + absl::Hours(24 * 3), 100},
                                    {"customers/a", t0, 100},
                                    {"customers/c", t0, 100},
                                    {"customers/c", t0 + absl::Hours(24 * 69), 100}};
  const auto risks = ChurnRisks(model, SummariesOf(orders));
  REQUIRE(risks.size() == 3);
  CHECK(risks[0].first == "customers/a");
  CHECK(risks[0].second == Approx(0.0));  // no repeat purchase: alive by the model
  CHECK(risks[1].first == "customers/b");
  CHECK(risks[2].first == "customers/c");
  CHECK(risks[1].second > 0.7);
  CHECK(risks[2].second < 0.3);
}

}  // namespace crm::analytics
