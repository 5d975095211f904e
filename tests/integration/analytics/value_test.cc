// The analytics service with the customer service in-process: orders
// recorded there reach the facts through the feed, and the value reports
// (RFM, the fitted model, a customer's value) follow them, through merges
// and erasure, per tenant and per currency.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "crm/analytics/v1/event_feed_service.grpc.pb.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "services/analytics/analytics_app.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/score_store.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

struct Analytics {
  CustomerHarness customers{"analytics_customers"};
  ServiceHarness h{
      analytics::Definition(), "analytics",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<av1::ValueService::Stub> value = h.Stub<av1::ValueService>();

  cv1::Order Order(const std::string& customer, const std::string& id, absl::Time when,
                   int64_t total, const std::string& currency = "GBP",
                   const std::string& tenant = "acme") {
    cv1::RecordOrderRequest req;
    req.mutable_order()->set_customer(customer);
    req.mutable_order()->set_order_id(id);
    req.mutable_order()->set_status(cv1::ORDER_STATUS_PAID);
    req.mutable_order()->set_currency_code(currency);
    req.mutable_order()->set_total_minor(total);
    *req.mutable_order()->mutable_order_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(when));
    cv1::Order out;
    grpc::Status s = customers.stub().RecordOrder(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("RecordOrder: " << s.error_message());
    return out;
  }

  grpc::Status Summary(const std::string& currency, av1::RfmSummary* out,
                       const std::string& tenant = "acme") {
    av1::GetRfmSummaryRequest req;
    req.set_currency_code(currency);
    return value->GetRfmSummary(ServiceHarness::Ctx(tenant).get(), req, out);
  }

  // Polls until the summary counts `customers` who spent `spent` (every
  // order applied; -1: any amount).
  av1::RfmSummary AwaitCustomers(int64_t customers, const std::string& currency = "",
                                 int64_t spent = -1) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    av1::RfmSummary out;
    while (absl::Now() < deadline) {
      out.Clear();
      if (Summary(currency, &out).ok() && out.customers() == customers &&
          (spent < 0 || Spent(out) == spent)) {
        return out;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL("the summary did not reach " << customers << " customers who spent " << spent << ": "
                                      << out.customers() << ", " << Spent(out));
    return out;
  }

  static int64_t Spent(const av1::RfmSummary& summary) {
    int64_t spent = 0;
    for (const auto& s : summary.segments()) spent += s.monetary_minor();
    return spent;
  }

  grpc::Status CustomerValue(const std::string& customer, av1::CustomerValue* out) {
    av1::GetCustomerValueRequest req;
    req.set_customer(customer);
    return value->GetCustomerValue(ServiceHarness::Ctx().get(), req, out);
  }
};

// Deterministic numbers in [0, 1).
double Uniform(uint64_t* state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<double>(*state >> 11) / static_cast<double>(1ULL << 53);
}

}  // namespace

TEST_CASE("RFM and the value model follow the customer feed", "[integration][analytics]") {
  Analytics a;
  // 80 customers over a year: each buys at their own rate until they stop.
  const absl::Time start = absl::FromCivil(absl::CivilDay(2025, 1, 6), absl::UTCTimeZone());
  uint64_t state = 7;
  std::vector<std::string> names;
  int64_t orders = 0, total = 0;
  for (int c = 0; c < 80; ++c) {
    const std::string name = a.customers.NewCustomer(absl::StrCat("c", c, "@example.com")).name();
    names.push_back(name);
    const double rate = 0.05 + 0.45 * Uniform(&state);  // orders a week
    const double dropout = 0.1 + 0.4 * Uniform(&state);
    double week = 52 * Uniform(&state) * 0.5;  // the first order in the first half year
    for (int n = 0; week < 52; ++n) {
      const int64_t value = 1000 + static_cast<int64_t>(4000 * Uniform(&state));
      a.Order(name, absl::StrCat("o", c, "-", n), start + absl::Hours(24 * 7 * week), value);
      ++orders;
      total += value;
      if (n > 0 && Uniform(&state) < dropout) break;
      week += -std::log(1 - Uniform(&state)) / rate;
    }
  }
  INFO(orders << " orders");
  const av1::RfmSummary summary = a.AwaitCustomers(80, "", total);
  CHECK(summary.currency_code() == "GBP");
  REQUIRE(summary.segments_size() == 11);
  int64_t counted = 0;
  for (const auto& s : summary.segments()) counted += s.customers();
  CHECK(counted == 80);
  CHECK(summary.segments(8).display_name() == "Can't Lose Them");
  REQUIRE(summary.freshness().sources_size() == 1);
  CHECK(summary.freshness().sources(0).source() == "customer");
  CHECK(summary.freshness().sources(0).lag_ms() >= 0);

  // Before a fit: scores, no prediction.
  av1::CustomerValue before;
  REQUIRE(a.CustomerValue(names[0], &before).ok());
  CHECK(before.rfm().frequency() >= 1);
  CHECK(before.rfm().r() >= 1);
  CHECK_FALSE(before.has_predicted());
  av1::GetValueModelRequest get;
  get.set_name("valueModels/GBP");
  av1::ValueModel kept;
  CHECK(a.value->GetValueModel(ServiceHarness::Ctx().get(), get, &kept).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  av1::FitValueModelRequest fit_req;
  av1::ValueModel model;
  const grpc::Status fitted = a.value->FitValueModel(ServiceHarness::Ctx().get(), fit_req, &model);
  REQUIRE(fitted.ok());
  CHECK(model.name() == "valueModels/GBP");
  CHECK(model.customers() == 80);
  CHECK(model.converged());
  CHECK(model.bg_nbd().r() > 0);
  CHECK(model.gamma_gamma().p() > 0);
  CHECK(model.holdout().holdout_weeks() == 13);
  CHECK(model.holdout().actual_purchases() >= 0);
  REQUIRE(a.value->GetValueModel(ServiceHarness::Ctx().get(), get, &kept).ok());
  CHECK(kept.bg_nbd().r() == model.bg_nbd().r());

  av1::CustomerValue after;
  REQUIRE(a.CustomerValue(names[0], &after).ok());
  REQUIRE(after.has_predicted());
  CHECK(after.predicted().probability_alive() >= 0);
  CHECK(after.predicted().probability_alive() <= 1);
  CHECK(after.predicted().churn_risk() == Approx(1 - after.predicted().probability_alive()));
  CHECK(after.predicted().expected_order_value_minor() > 0);
  CHECK(after.predicted().clv_minor() >= 0);
  CHECK(after.predicted().horizon_weeks() == 52);
  CHECK(after.predicted().churn_band() != av1::CHURN_BAND_UNSPECIFIED);
  REQUIRE(after.predicted().has_expected_next_order_time());
  CHECK(after.predicted().expected_next_order_time().seconds() >
        absl::ToUnixSeconds(start + absl::Hours(24 * 7 * 52)));

  // The fit queued a rescoring: every kept score gets a churn band.
  av1::ListCustomerScoresRequest list;
  list.set_page_size(1000);
  av1::ListCustomerScoresResponse scored;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool banded = false;
  while (!banded && absl::Now() < deadline) {
    scored.Clear();
    banded = a.value->ListCustomerScores(ServiceHarness::Ctx().get(), list, &scored).ok() &&
             scored.scores_size() == 80 &&
             std::all_of(scored.scores().begin(), scored.scores().end(), [](const auto& s) {
               return s.churn_band() != av1::CHURN_BAND_UNSPECIFIED;
             });
    if (!banded) absl::SleepFor(absl::Milliseconds(50));
  }
  REQUIRE(banded);
  for (const auto& s : scored.scores()) {
    if (s.customer() != names[0]) continue;
    CHECK(s.churn_risk() == Approx(after.predicted().churn_risk()).epsilon(1e-9));
    CHECK(s.churn_band() == after.predicted().churn_band());
    CHECK(s.rfm().segment() == after.rfm().segment());
  }

  // The reports over the same orders.
  auto reports = a.h.Stub<av1::ReportService>();
  av1::GetCohortReportRequest cohorts_req;
  av1::CohortReport cohorts;
  REQUIRE(reports->GetCohortReport(ServiceHarness::Ctx().get(), cohorts_req, &cohorts).ok());
  CHECK(cohorts.currency_code() == "GBP");
  CHECK(cohorts.cohorts_size() == 12);  // the default: the last 12 cohorts
  cohorts_req.set_months(60);
  REQUIRE(reports->GetCohortReport(ServiceHarness::Ctx().get(), cohorts_req, &cohorts).ok());
  int64_t in_cohorts = 0;
  for (const auto& c : cohorts.cohorts()) in_cohorts += c.customers();
  CHECK(in_cohorts == 80);  // every customer in the cohort of their first order
  CHECK(cohorts.freshness().sources_size() == 1);
  av1::GetSalesForecastRequest forecast_req;
  forecast_req.set_horizon_days(14);
  av1::SalesForecast forecast;
  REQUIRE(reports->GetSalesForecast(ServiceHarness::Ctx().get(), forecast_req, &forecast).ok());
  CHECK(forecast.measure() == av1::FORECAST_MEASURE_REVENUE);
  CHECK(forecast.periods_size() == 14);
  CHECK(forecast.backtest().holdout_periods() == 14);
  CHECK(forecast.history_days() > 300);
  forecast_req.set_horizon_days(400);
  CHECK(reports->GetSalesForecast(ServiceHarness::Ctx().get(), forecast_req, &forecast)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  cohorts_req.set_end_month("last month");
  CHECK(reports->GetCohortReport(ServiceHarness::Ctx().get(), cohorts_req, &cohorts).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // Another currency is reported on its own, never added.
  a.Order(names[1], "eur-1", start + absl::Hours(24 * 30), 5000, "EUR");
  const av1::RfmSummary euros = a.AwaitCustomers(1, "EUR", 5000);
  CHECK(euros.currency_code() == "EUR");
  av1::RfmSummary pounds;
  REQUIRE(a.Summary("GBP", &pounds).ok());
  CHECK(Analytics::Spent(pounds) == total);  // the euros are not in it

  // Another tenant has none of it.
  av1::RfmSummary other;
  CHECK(a.Summary("", &other, "globex").error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("merges move a customer's orders, erasure keeps the figures without the customer",
          "[integration][analytics]") {
  Analytics a;
  const absl::Time day = absl::FromCivil(absl::CivilDay(2026, 3, 2), absl::UTCTimeZone());
  const std::string ann = a.customers.NewCustomer("ann@example.com").name();
  const std::string bob = a.customers.NewCustomer("bob@example.com").name();
  const std::string cy = a.customers.NewCustomer("cy@example.com").name();
  a.Order(ann, "a1", day, 1000);
  a.Order(bob, "b1", day + absl::Hours(24), 2000);
  a.Order(bob, "b2", day + absl::Hours(48), 3000);
  a.Order(cy, "c1", day + absl::Hours(72), 500);
  a.AwaitCustomers(3, "", 6500);

  cv1::MergeCustomersRequest merge;
  merge.set_survivor(ann);
  merge.set_merged(bob);
  cv1::MergeCustomersResponse merged;
  REQUIRE(a.customers.stub().MergeCustomers(ServiceHarness::Ctx().get(), merge, &merged).ok());
  a.AwaitCustomers(2);
  av1::CustomerValue value;
  REQUIRE(a.CustomerValue(ann, &value).ok());
  CHECK(value.rfm().frequency() == 3);
  CHECK(value.rfm().monetary_minor() == 6000);
  CHECK(a.CustomerValue(bob, &value).error_code() == grpc::StatusCode::NOT_FOUND);

  cv1::EraseCustomerRequest erase;
  erase.set_name(cy);
  cv1::EraseCustomerResponse erased;
  REQUIRE(a.customers.stub().EraseCustomer(ServiceHarness::Ctx().get(), erase, &erased).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  grpc::Status gone = a.CustomerValue(cy, &value);
  while (gone.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    gone = a.CustomerValue(cy, &value);
  }
  CHECK(gone.error_code() == grpc::StatusCode::NOT_FOUND);
  // The erased customer's order still counts, under a pseudonym.
  a.AwaitCustomers(2, "", 6500);
}

TEST_CASE("value reports refuse bad input and too little data", "[integration][analytics]") {
  Analytics a;
  av1::RfmSummary summary;
  grpc::Status s = a.Summary("", &summary);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "no orders"));
  CHECK(a.Summary("pounds", &summary).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  const std::string one = a.customers.NewCustomer("solo@example.com").name();
  a.Order(one, "s1", absl::Now() - absl::Hours(24 * 30), 1500);
  a.AwaitCustomers(1);
  av1::FitValueModelRequest fit;
  av1::ValueModel model;
  s = a.value->FitValueModel(ServiceHarness::Ctx().get(), fit, &model);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "too few customers"));
  fit.set_holdout_weeks(500);
  CHECK(a.value->FitValueModel(ServiceHarness::Ctx().get(), fit, &model).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  av1::GetCustomerValueRequest req;
  av1::CustomerValue value;
  req.set_customer("people/1");
  s = a.value->GetCustomerValue(ServiceHarness::Ctx().get(), req, &value);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "customer"));
  req.set_customer(one);
  req.set_horizon_weeks(1000);
  s = a.value->GetCustomerValue(ServiceHarness::Ctx().get(), req, &value);
  CHECK(absl::StartsWith(s.error_message(), "horizon_weeks"));
  av1::GetValueModelRequest get;
  get.set_name("models/GBP");
  av1::ValueModel kept;
  CHECK(a.value->GetValueModel(ServiceHarness::Ctx().get(), get, &kept).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("kept scores follow the orders and announce changed segments on the feed",
          "[integration][analytics]") {
  Analytics a;
  const absl::Time day = absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) {
    names.push_back(a.customers.NewCustomer(absl::StrCat("k", c, "@example.com")).name());
    a.Order(names.back(), absl::StrCat("k", c), day + absl::Hours(24 * 10 * c), 1000 * (c + 1));
  }
  const auto list = [&](av1::ListCustomerScoresRequest req) {
    av1::ListCustomerScoresResponse out;
    grpc::Status s = a.value->ListCustomerScores(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ListCustomerScores: " << s.error_message());
    return out;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  av1::ListCustomerScoresResponse all;
  while (absl::Now() < deadline) {
    all = list({});
    if (all.scores_size() == 10) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  REQUIRE(all.scores_size() == 10);
  CHECK(all.scores(0).churn_band() == av1::CHURN_BAND_UNSPECIFIED);  // no fit yet
  av1::RfmSegment first_segment = av1::RFM_SEGMENT_UNSPECIFIED;
  for (const auto& s : all.scores()) {
    if (s.customer() == names[0]) first_segment = s.rfm().segment();
  }
  REQUIRE(first_segment != av1::RFM_SEGMENT_UNSPECIFIED);

  // Pages of 3, and a filter by segment.
  av1::ListCustomerScoresRequest paged;
  paged.set_page_size(3);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    const auto out = list(paged);
    for (const auto& s : out.scores()) seen.push_back(s.customer());
    if (out.next_page_token().empty()) break;
    paged.set_page_token(out.next_page_token());
  }
  CHECK(seen.size() == 10);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  av1::ListCustomerScoresRequest by_segment;
  by_segment.set_segment(first_segment);
  const av1::ListCustomerScoresResponse in_segment = list(by_segment);
  CHECK(in_segment.scores_size() >= 1);
  for (const auto& s : in_segment.scores()) CHECK(s.rfm().segment() == first_segment);

  // The oldest, smallest customer comes back often and big: a new segment.
  for (int n = 0; n < 6; ++n) {
    a.Order(names[0], absl::StrCat("back-", n), day + absl::Hours(24 * (92 + n)), 20000);
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-crm-tenant", "acme");
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto feed = a.h.Stub<av1::EventFeedService>()->Subscribe(&ctx, {});
  crm::events::v1::SubscribeResponse event;
  int first_scorings = 0;
  bool moved = false;
  while (!moved && feed->Read(&event)) {
    REQUIRE(event.event().type() == "analytics.scores_changed");
    av1::ScoresChanged changed;
    REQUIRE(event.event().payload().UnpackTo(&changed));
    CHECK(event.event().subject() == changed.scores().customer());
    if (changed.previous_segment() == av1::RFM_SEGMENT_UNSPECIFIED) ++first_scorings;
    if (changed.scores().customer() == names[0] && changed.previous_segment() == first_segment) {
      moved = true;
      CHECK(changed.scores().rfm().frequency() == 7);
      CHECK(changed.scores().rfm().segment() != first_segment);
    }
  }
  CHECK(first_scorings == 10);
  CHECK(moved);
  ctx.TryCancel();
  feed->Finish();

  av1::ListCustomerScoresRequest bad;
  bad.set_churn_band(static_cast<av1::ChurnBand>(9));
  av1::ListCustomerScoresResponse out;
  grpc::Status s = a.value->ListCustomerScores(ServiceHarness::Ctx().get(), bad, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "churn_band: LOW, MEDIUM or HIGH");
  bad.Clear();
  bad.set_page_token("forged");
  s = a.value->ListCustomerScores(ServiceHarness::Ctx().get(), bad, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("pricing insight and category forecasts from order lines", "[integration][analytics]") {
  Analytics a;
  const absl::Time day = absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
  const std::string ann = a.customers.NewCustomer("ann@example.com").name();
  const std::string bob = a.customers.NewCustomer("bob@example.com").name();
  // Ten weeks of mugs at a falling price and rising units, one order a
  // week; every other one with a code. Bob buys tea weekly at one price.
  int64_t orders = 0;
  for (int w = 0; w < 10; ++w) {
    cv1::RecordOrderRequest req;
    cv1::Order& o = *req.mutable_order();
    o.set_customer(ann);
    o.set_order_id(absl::StrCat("mug-", w));
    o.set_status(cv1::ORDER_STATUS_PAID);
    o.set_currency_code("GBP");
    const int64_t price = 1000 - 50 * w, units = 10 + 3 * w;
    auto* line = o.add_line_items();
    line->set_sku("MUG-1");
    line->set_category("mugs");
    line->set_quantity(units);
    line->set_unit_price_minor(price);
    line->set_unit_cost_minor(300);
    if (w % 2 == 0) {
      o.add_discount_codes("SPRING");
      o.set_total_minor(price * units * 9 / 10);
    }
    *o.mutable_order_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(day + absl::Hours(24 * 7 * w + 10)));
    cv1::Order out;
    REQUIRE(a.customers.stub().RecordOrder(ServiceHarness::Ctx().get(), req, &out).ok());
    ++orders;
    o.Clear();
    o.set_customer(bob);
    o.set_order_id(absl::StrCat("tea-", w));
    o.set_status(cv1::ORDER_STATUS_PAID);
    o.set_currency_code("GBP");
    line = o.add_line_items();
    line->set_sku("TEA-1");
    line->set_category("tea");
    line->set_quantity(2);
    line->set_unit_price_minor(450);
    *o.mutable_order_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(day + absl::Hours(24 * 7 * w + 12)));
    REQUIRE(a.customers.stub().RecordOrder(ServiceHarness::Ctx().get(), req, &out).ok());
    ++orders;
  }
  a.AwaitCustomers(2);
  auto reports = a.h.Stub<av1::ReportService>();
  av1::PricingReport r;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    r.Clear();
    if (reports->GetPricingReport(ServiceHarness::Ctx().get(), {}, &r).ok() &&
        r.with_codes().orders() + r.without_codes().orders() == orders) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  REQUIRE(r.with_codes().orders() == 5);
  CHECK(r.without_codes().orders() == 15);
  CHECK(r.with_codes().share_of_orders() == Approx(0.25));
  CHECK(r.with_codes().price_realisation() == Approx(0.9).margin(0.001));
  CHECK(r.without_codes().price_realisation() == Approx(1.0));
  CHECK(r.with_codes().orders_with_costs() == 5);
  CHECK(r.without_codes().orders_with_costs() == 5);  // tea gives no cost
  CHECK(r.with_codes().customers() == 1);
  // The default period is the year up to the day after the last order.
  CHECK(r.end_time().seconds() == absl::ToUnixSeconds(day + absl::Hours(24 * (7 * 9 + 1))));
  REQUIRE(r.categories_size() == 2);
  CHECK(r.categories(0).category() == "mugs");
  REQUIRE(r.categories(0).estimated());
  CHECK(r.categories(0).elasticity() < -1);
  CHECK(r.categories(0).observations() == 10);
  CHECK(r.categories(1).category() == "tea");
  CHECK_FALSE(r.categories(1).estimated());
  REQUIRE(r.products_size() == 2);
  CHECK(r.products(0).sku() == "MUG-1");

  // A forecast of one category: 10 weeks of one order a week.
  av1::GetSalesForecastRequest forecast_req;
  forecast_req.set_category("tea");
  forecast_req.set_horizon_days(7);
  forecast_req.set_measure(av1::FORECAST_MEASURE_ORDERS);
  av1::SalesForecast forecast;
  grpc::Status fs = reports->GetSalesForecast(ServiceHarness::Ctx().get(), forecast_req, &forecast);
  INFO(fs.error_message());
  REQUIRE(fs.ok());
  CHECK(forecast.category() == "tea");
  CHECK(forecast.periods_size() == 7);
  CHECK(forecast.history_days() == 64);
  forecast_req.set_category("socks");
  CHECK(reports->GetSalesForecast(ServiceHarness::Ctx().get(), forecast_req, &forecast)
            .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("a scores run gives way to a fit of its tenant and currency",
          "[integration][analytics]") {
  // A database of analytics alone, with no service running its own scorer.
  const std::string url = CreateDatabase("scores_give_way");
  REQUIRE(server::ServiceRuntime::MigrateOnly(url, analytics::Definition()).ok());
  ExecSql(url,
          "INSERT INTO analytics.orders (tenant_id, order_id, customer, currency_code, "
          "order_time, status, total_minor, refunded_minor, discounted) SELECT t, "
          "gen_random_uuid(), 'customers/c' || (g % 5), 'GBP', now() - g * interval '3 days', "
          "'PAID', 1000 * g, 0, false FROM generate_series(1, 20) g, unnest(ARRAY['acme', "
          "'globex']) t;"
          "INSERT INTO analytics.score_queue (tenant_id, currency_code, queued_time) VALUES "
          "('acme', 'GBP', now() - interval '1 minute')");
  db::Pool pool(db::PoolOptions{url, 2, "give-way"});  // a run reads in one, writes in another
  analytics::FactStore facts(pool);
  REQUIRE(db::RunInTransaction(pool, db::HousekeepingTx(absl::Seconds(10)), [](db::Tx& tx) {
            analytics::FactStore::ResummarizeAll(tx);
            return absl::OkStatus();
          }).ok());
  const api::PageTokenCodec tokens("a-page-token-secret-for-tests");
  analytics::ScoreStore scores(pool, facts, tokens);
  const auto queued = [&] {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT count(*) FROM analytics.score_queue")[0].as<int64_t>();
  };

  {
    const auto fitting = scores.Fitting("acme", "GBP");
    // Not taken while it is being fitted, and a run asked for gives way.
    auto next = scores.ScoreNext(absl::ZeroDuration());
    REQUIRE(next.ok());
    CHECK_FALSE(*next);
    auto run = scores.Score("acme", "GBP");
    REQUIRE(run.ok());
    CHECK(run->gave_way);
    CHECK(queued() == 1);
    // Another tenant is not held up.
    auto other = scores.Score("globex", "GBP");
    REQUIRE(other.ok());
    CHECK(other->scored);
    CHECK_FALSE(other->gave_way);
  }
  // The fit done: scored, and no longer queued.
  auto next = scores.ScoreNext(absl::ZeroDuration());
  REQUIRE(next.ok());
  CHECK(*next);
  CHECK(queued() == 0);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM analytics.customer_scores")[0].as<int64_t>() == 10);
}

}  // namespace crm::testing
