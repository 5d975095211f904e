#include "services/analytics/value_reports.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/api/timestamp.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "services/analytics/value_model.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;

constexpr double kDaysPerWeek = 7.0;

// Days since 1970-01-01 UTC.
int64_t DayOf(absl::Time t) { return UtcDay(t) - absl::CivilDay(1970, 1, 1); }

// The orders as daily purchases, customers numbered in order of name.
std::vector<DailyPurchase> Daily(const std::vector<OrderPoint>& orders) {
  std::map<std::string, int64_t> ids;
  for (const OrderPoint& o : orders) ids.emplace(o.customer, 0);
  int64_t next = 0;
  for (auto& [name, id] : ids) id = next++;
  std::vector<DailyPurchase> out;
  out.reserve(orders.size());
  for (const OrderPoint& o : orders) {
    out.push_back({ids[o.customer], DayOf(o.time), static_cast<double>(o.value_minor)});
  }
  return out;
}

BgNbdParams FromProto(const v1::BgNbdParameters& p) { return {p.r(), p.alpha(), p.a(), p.b()}; }

}  // namespace

v1::RfmSegment SegmentProto(RfmSegment segment) {
  return static_cast<v1::RfmSegment>(static_cast<int>(segment) + 1);
}

absl::Time RfmAsOf(const std::vector<CustomerOrders>& customers,
                   const google::protobuf::Timestamp* requested) {
  if (requested != nullptr) {
    return api::FromTimestamp(*requested);
  }
  absl::Time last = absl::InfinitePast();
  for (const CustomerOrders& c : customers) last = std::max(last, c.last_order);
  return last;
}

std::vector<v1::RfmScores> ScoreCustomers(const std::vector<CustomerOrders>& customers,
                                          absl::Time as_of) {
  std::vector<RfmInput> inputs;
  inputs.reserve(customers.size());
  for (const CustomerOrders& c : customers) {
    inputs.push_back({std::max<int64_t>(0, absl::ToInt64Hours(as_of - c.last_order) / 24), c.orders,
                      c.spent_minor});
  }
  const std::vector<RfmScore> scores = ScoreRfm(inputs);
  std::vector<v1::RfmScores> out(customers.size());
  for (size_t i = 0; i < customers.size(); ++i) {
    out[i].set_recency_days(inputs[i].recency_days);
    out[i].set_frequency(inputs[i].frequency);
    out[i].set_monetary_minor(inputs[i].monetary_minor);
    out[i].set_r(scores[i].r);
    out[i].set_f(scores[i].f);
    out[i].set_m(scores[i].m);
    out[i].set_segment(SegmentProto(scores[i].segment));
  }
  return out;
}

v1::RfmScores ScoreAgainstCuts(const CustomerOrders& c, absl::Time as_of, const RfmCuts& cuts) {
  const RfmInput input{std::max<int64_t>(0, absl::ToInt64Hours(as_of - c.last_order) / 24),
                       c.orders, c.spent_minor};
  const RfmScore score = ScoreAgainst(input, cuts);
  v1::RfmScores out;
  out.set_recency_days(input.recency_days);
  out.set_frequency(input.frequency);
  out.set_monetary_minor(input.monetary_minor);
  out.set_r(score.r);
  out.set_f(score.f);
  out.set_m(score.m);
  out.set_segment(SegmentProto(score.segment));
  return out;
}

v1::RfmSummary SummarizeRfm(const std::vector<CustomerOrders>& customers,
                            const std::vector<v1::RfmScores>& scores) {
  v1::RfmSummary summary;
  summary.set_customers(static_cast<int64_t>(customers.size()));
  for (int s = 0; s < kRfmSegments; ++s) {
    v1::RfmSegmentCount* count = summary.add_segments();
    count->set_segment(SegmentProto(static_cast<RfmSegment>(s)));
    count->set_display_name(std::string(RfmSegmentName(static_cast<RfmSegment>(s))));
  }
  for (const v1::RfmScores& score : scores) {
    v1::RfmSegmentCount* count = summary.mutable_segments(static_cast<int>(score.segment()) - 1);
    count->set_customers(count->customers() + 1);
    count->set_monetary_minor(count->monetary_minor() + score.monetary_minor());
  }
  for (v1::RfmSegmentCount& count : *summary.mutable_segments()) {
    count.set_share(customers.empty() ? 0.0
                                      : static_cast<double>(count.customers()) /
                                            static_cast<double>(customers.size()));
  }
  return summary;
}

absl::StatusOr<v1::ValueModel> FitValueModel(const std::vector<OrderPoint>& orders,
                                             double holdout_weeks) {
  if (orders.empty()) return absl::FailedPreconditionError("the tenant has no orders to fit on");
  const std::vector<DailyPurchase> daily = Daily(orders);
  int64_t first_day = daily[0].day, end_day = daily[0].day;
  absl::Time last = orders[0].time;
  for (size_t i = 0; i < daily.size(); ++i) {
    first_day = std::min(first_day, daily[i].day);
    end_day = std::max(end_day, daily[i].day);
    last = std::max(last, orders[i].time);
  }
  const CalibrationSummary all = Summarize(daily, end_day, end_day, kDaysPerWeek);
  CRM_ASSIGN_OR_RETURN(BgNbdFit bg, FitBgNbd(all.histories));
  std::vector<SpendHistory> spend;
  for (size_t i = 0; i < all.histories.size(); ++i) {
    if (all.histories[i].x > 0 && all.mean_values[i] > 0) {
      spend.push_back({all.histories[i].x, all.mean_values[i]});
    }
  }
  CRM_ASSIGN_OR_RETURN(GammaGammaFit gg, FitGammaGamma(spend));
  v1::ValueModel model;
  model.set_customers(static_cast<int64_t>(all.histories.size()));
  int64_t repeat = 0;
  for (const PurchaseHistory& h : all.histories) repeat += h.x > 0 ? 1 : 0;
  model.set_repeat_buyers(repeat);
  const auto set_bg = [](v1::BgNbdParameters* p, const BgNbdParams& m) {
    p->set_r(m.r);
    p->set_alpha(m.alpha);
    p->set_a(m.a);
    p->set_b(m.b);
  };
  set_bg(model.mutable_bg_nbd(), bg.params);
  set_bg(model.mutable_bg_nbd_standard_errors(), bg.standard_errors);
  model.set_bg_nbd_log_likelihood(bg.log_likelihood);
  const auto set_gg = [](v1::GammaGammaParameters* p, const GammaGammaParams& m) {
    p->set_p(m.p);
    p->set_q(m.q);
    p->set_gamma(m.gamma);
  };
  set_gg(model.mutable_gamma_gamma(), gg.params);
  set_gg(model.mutable_gamma_gamma_standard_errors(), gg.standard_errors);
  model.set_gamma_gamma_log_likelihood(gg.log_likelihood);
  model.set_iterations(bg.iterations + gg.iterations);
  model.set_converged(bg.converged && gg.converged);
  *model.mutable_last_order_time() = api::ToTimestamp(last);

  // The holdout check: only when the calibration period before it is at
  // least half as long as the holdout.
  const int64_t holdout_days = static_cast<int64_t>(std::llround(holdout_weeks * kDaysPerWeek));
  const int64_t calibration_end = end_day - holdout_days;
  if (2 * (calibration_end - first_day) >= holdout_days) {
    const CalibrationSummary calibration = Summarize(daily, calibration_end, end_day, kDaysPerWeek);
    auto fit = FitBgNbd(calibration.histories);
    if (!fit.ok()) {
      log::Info("holdout check left out", {{"reason", std::string(fit.status().message())}});
    }
    if (fit.ok()) {
      CRM_ASSIGN_OR_RETURN(HoldoutComparison compared,
                           CompareHoldout(fit->params, calibration, holdout_weeks));
      v1::HoldoutCheck* check = model.mutable_holdout();
      *check->mutable_calibration_end_time() =
          TimeUtil::SecondsToTimestamp((calibration_end + 1) * 86400);
      check->set_holdout_weeks(holdout_weeks);
      check->set_predicted_purchases(compared.predicted_total);
      check->set_actual_purchases(compared.actual_total);
      for (const HoldoutRow& row : compared.by_frequency) {
        v1::HoldoutBucket* b = check->add_buckets();
        b->set_repeat_purchases(row.x);
        b->set_customers(row.customers);
        b->set_predicted(row.predicted);
        b->set_actual(row.actual);
      }
    }
  }
  return model;
}

v1::ChurnBand ChurnBandOf(double churn_risk) {
  if (churn_risk < 0.3) return v1::CHURN_BAND_LOW;
  if (churn_risk < 0.7) return v1::CHURN_BAND_MEDIUM;
  return v1::CHURN_BAND_HIGH;
}

std::vector<std::pair<std::string, double>> ChurnRisks(const v1::ValueModel& model,
                                                       const std::vector<OrderPoint>& orders) {
  std::vector<std::pair<std::string, double>> out;
  if (orders.empty()) return out;
  std::vector<std::string> names;
  for (const OrderPoint& o : orders) {
    if (names.empty() || names.back() != o.customer) names.push_back(o.customer);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::vector<DailyPurchase> daily = Daily(orders);  // ids in name order
  int64_t end_day = DayOf(api::FromTimestamp(model.last_order_time()));
  for (const DailyPurchase& d : daily) end_day = std::max(end_day, d.day);
  const CalibrationSummary s = Summarize(daily, end_day, end_day, kDaysPerWeek);
  const BgNbdParams bg = FromProto(model.bg_nbd());
  out.reserve(s.histories.size());
  for (size_t i = 0; i < s.histories.size(); ++i) {
    out.emplace_back(names[static_cast<size_t>(s.customers[i])],
                     1 - BgNbdProbabilityAlive(bg, s.histories[i]));
  }
  return out;
}

absl::StatusOr<v1::PredictedValue> PredictValue(const v1::ValueModel& model,
                                                const std::vector<OrderPoint>& orders,
                                                double horizon_weeks, double annual_discount_rate) {
  if (orders.empty()) return absl::NotFoundError("the customer has no orders in the currency");
  const std::vector<DailyPurchase> daily = Daily(orders);
  int64_t end_day = DayOf(api::FromTimestamp(model.last_order_time()));
  for (const DailyPurchase& d : daily) end_day = std::max(end_day, d.day);
  const CalibrationSummary s = Summarize(daily, end_day, end_day, kDaysPerWeek);
  if (s.histories.size() != 1) {
    return absl::InvalidArgumentError("orders: one customer's orders are needed");
  }
  const PurchaseHistory& h = s.histories[0];
  const BgNbdParams bg = FromProto(model.bg_nbd());
  const GammaGammaParams gg{model.gamma_gamma().p(), model.gamma_gamma().q(),
                            model.gamma_gamma().gamma()};
  v1::PredictedValue out;
  out.set_probability_alive(BgNbdProbabilityAlive(bg, h));
  out.set_churn_risk(1 - out.probability_alive());
  out.set_churn_band(ChurnBandOf(out.churn_risk()));
  // The end of the observed history (the end of its last day), plus the
  // median wait.
  const double wait_days = BgNbdMedianWaitAlive(bg, h) * kDaysPerWeek;
  const absl::Time observed_until = absl::FromUnixSeconds((end_day + 1) * 86400);
  if (std::isfinite(wait_days) && wait_days < 365.0 * 100) {
    *out.mutable_expected_next_order_time() =
        api::ToTimestamp(observed_until + absl::Seconds(std::llround(wait_days * 86400)));
  }
  CRM_ASSIGN_OR_RETURN(double expected, BgNbdExpectedPurchases(bg, h, horizon_weeks));
  out.set_expected_purchases(expected);
  out.set_horizon_weeks(horizon_weeks);
  const double value = GammaGammaExpectedValue(gg, {h.x, s.mean_values[0]});
  out.set_expected_order_value_minor(value);
  // Weekly: the purchases expected in week w, worth `value`, discounted.
  const double weekly_rate = std::pow(1 + annual_discount_rate, 1.0 / 52) - 1;
  const int weeks = static_cast<int>(std::llround(horizon_weeks));
  double clv = 0, before = 0;
  for (int w = 1; w <= weeks; ++w) {
    CRM_ASSIGN_OR_RETURN(double upto, BgNbdExpectedPurchases(bg, h, w));
    clv += (upto - before) * value / std::pow(1 + weekly_rate, w);
    before = upto;
  }
  out.set_clv_minor(clv);
  out.set_annual_discount_rate(annual_discount_rate);
  return out;
}

}  // namespace crm::analytics
