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

// What BG/NBD knows of `c` observed until `end_day` (as Summarize counts:
// T from the first purchase day to `end_day`).
PurchaseHistory HistoryOf(const CustomerOrders& c, int64_t end_day) {
  return {c.purchase_days - 1, static_cast<double>(c.last_day - c.first_day) / kDaysPerWeek,
          static_cast<double>(end_day - c.first_day) / kDaysPerWeek};
}

// The mean value of `c`'s repeat purchases (days after the first); 0
// without any.
double RepeatMean(const CustomerOrders& c) {
  const int64_t x = c.purchase_days - 1;
  return x > 0 ? static_cast<double>(c.spent_minor - c.first_day_minor) / static_cast<double>(x)
               : 0.0;
}

// The day a model observed until: the later of its last order's and
// `last_day`.
int64_t EndDay(const v1::ValueModel& model, int64_t last_day) {
  return std::max(DayOf(api::FromTimestamp(model.last_order_time())), last_day);
}

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

std::vector<CustomerOrders> SummariesOf(const std::vector<OrderPoint>& orders) {
  std::map<std::string, std::map<int64_t, std::pair<int64_t, int64_t>>> days;  // count, value
  std::map<std::string, std::pair<absl::Time, absl::Time>> times;
  for (const OrderPoint& o : orders) {
    auto& day = days[o.customer][DayOf(o.time)];
    ++day.first;
    day.second += o.value_minor;
    auto [it, fresh] = times.emplace(o.customer, std::make_pair(o.time, o.time));
    if (!fresh) {
      it->second.first = std::min(it->second.first, o.time);
      it->second.second = std::max(it->second.second, o.time);
    }
  }
  std::vector<CustomerOrders> out;
  for (const auto& [name, by_day] : days) {
    CustomerOrders c;
    c.customer = name;
    for (const auto& [day, sums] : by_day) {
      c.orders += sums.first;
      c.spent_minor += sums.second;
    }
    c.first_order = times[name].first;
    c.last_order = times[name].second;
    c.purchase_days = static_cast<int64_t>(by_day.size());
    c.first_day = by_day.begin()->first;
    c.last_day = by_day.rbegin()->first;
    c.first_day_minor = by_day.begin()->second.second;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> HoldoutSample(const std::vector<CustomerOrders>& customers) {
  const size_t step = (customers.size() + kHoldoutSample - 1) / kHoldoutSample;
  std::vector<std::string> out;
  for (size_t i = 0; i < customers.size(); i += std::max<size_t>(step, 1)) {
    out.push_back(customers[i].customer);
  }
  return out;
}

absl::StatusOr<v1::ValueModel> FitValueModel(const std::vector<OrderPoint>& orders,
                                             double holdout_weeks) {
  return FitValueModel(SummariesOf(orders), orders, holdout_weeks);
}

absl::StatusOr<v1::ValueModel> FitValueModel(const std::vector<CustomerOrders>& customers,
                                             const std::vector<OrderPoint>& holdout_orders,
                                             double holdout_weeks) {
  if (customers.empty()) return absl::FailedPreconditionError("the tenant has no orders to fit on");
  int64_t first_day = customers[0].first_day, end_day = customers[0].last_day;
  absl::Time last = customers[0].last_order;
  for (const CustomerOrders& c : customers) {
    first_day = std::min(first_day, c.first_day);
    end_day = std::max(end_day, c.last_day);
    last = std::max(last, c.last_order);
  }
  std::vector<PurchaseHistory> histories;
  std::vector<SpendHistory> spend;
  histories.reserve(customers.size());
  for (const CustomerOrders& c : customers) {
    histories.push_back(HistoryOf(c, end_day));
    const double mean = RepeatMean(c);
    if (histories.back().x > 0 && mean > 0) spend.push_back({histories.back().x, mean});
  }
  CRM_ASSIGN_OR_RETURN(BgNbdFit bg, FitBgNbd(histories));
  CRM_ASSIGN_OR_RETURN(GammaGammaFit gg, FitGammaGamma(spend));
  v1::ValueModel model;
  model.set_customers(static_cast<int64_t>(histories.size()));
  int64_t repeat = 0;
  for (const PurchaseHistory& h : histories) repeat += h.x > 0 ? 1 : 0;
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
    const CalibrationSummary calibration =
        Summarize(Daily(holdout_orders), calibration_end, end_day, kDaysPerWeek);
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

std::vector<std::pair<std::string, double>> ChurnRisks(
    const v1::ValueModel& model, const std::vector<CustomerOrders>& customers) {
  std::vector<std::pair<std::string, double>> out;
  int64_t last_day = 0;
  for (const CustomerOrders& c : customers) last_day = std::max(last_day, c.last_day);
  const int64_t end_day = EndDay(model, last_day);
  const BgNbdParams bg = FromProto(model.bg_nbd());
  out.reserve(customers.size());
  for (const CustomerOrders& c : customers) {
    out.emplace_back(c.customer, 1 - BgNbdProbabilityAlive(bg, HistoryOf(c, end_day)));
  }
  return out;
}

absl::StatusOr<v1::PredictedValue> PredictValue(const v1::ValueModel& model,
                                                const CustomerOrders& customer,
                                                double horizon_weeks, double annual_discount_rate) {
  if (customer.purchase_days < 1) {
    return absl::NotFoundError("the customer has no orders in the currency");
  }
  const int64_t end_day = EndDay(model, customer.last_day);
  const PurchaseHistory h = HistoryOf(customer, end_day);
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
  const double value = GammaGammaExpectedValue(gg, {h.x, RepeatMean(customer)});
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
