// The support report's arithmetic and the engagement rates, against small
// fixtures computed by hand.
#include "services/analytics/support_report.h"

#include <catch2/catch.hpp>

#include "services/analytics/report_service.h"

namespace crm::analytics {
namespace {

absl::Time Day(int d, int hour = 0, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, d, hour, minute, 0), absl::UTCTimeZone());
}

}  // namespace

TEST_CASE("quantiles interpolate between the closest ranks", "[unit][analytics]") {
  CHECK(Quantile({}, 0.5) == 0.0);
  CHECK(Quantile({7}, 0.9) == 7.0);
  // percentile_cont(0.5) of 1, 2, 3, 10 is 2.5; 0.9 is 3 + 0.7 * 7.
  CHECK(Quantile({1, 2, 3, 10}, 0.5) == Approx(2.5));
  CHECK(Quantile({1, 2, 3, 10}, 0.9) == Approx(7.9));
  const v1::DurationSummary s = SummarizeDurations({600, 60, 3600});
  CHECK(s.count() == 3);
  CHECK(s.median_seconds() == Approx(600));
  CHECK(s.p90_seconds() == Approx(600 + 0.8 * 3000));
}

TEST_CASE("the support report: times, SLA compliance, CSAT, backlog, per group and agent",
          "[unit][analytics]") {
  ActivityStore::SupportFacts facts;
  // 1: created on the 2nd 09:00 in sales by ana, answered after 30 min (20
  // business minutes), solved after 1 day (8 business hours), rated good.
  TicketFact one;
  one.group = "groups/sales";
  one.assignee = "agents/ana";
  one.create = Day(2, 9);
  one.first_response = Day(2, 9, 30);
  one.first_reply_business_seconds = 1200;
  one.solve = Day(3, 9);
  one.done = Day(3, 9);
  one.resolution_business_seconds = 8 * 3600;
  one.csat_satisfied = true;
  one.csat_time = Day(3, 12);
  facts.tickets.push_back(one);
  // 2: sales, bob, created the 2nd 10:00, answered after 2 h (no policy),
  // still open, not rated.
  TicketFact two;
  two.group = "groups/sales";
  two.assignee = "agents/bob";
  two.create = Day(2, 10);
  two.first_response = Day(2, 12);
  facts.tickets.push_back(two);
  // 3: support, ana, created before the period (30 Oct), answered before
  // it, solved on the 4th, rated bad on the 4th.
  TicketFact three;
  three.group = "groups/support";
  three.assignee = "agents/ana";
  three.create = Day(1) - absl::Hours(48);
  three.first_response = Day(1) - absl::Hours(40);  // before the period
  three.solve = Day(4, 6);
  three.done = Day(4, 6);
  three.csat_satisfied = false;
  three.csat_time = Day(4, 8);
  facts.tickets.push_back(three);
  facts.outcomes = {
      {"groups/sales", "agents/ana", "FIRST_REPLY", Day(2, 9, 30), false},
      {"groups/sales", "agents/ana", "RESOLUTION", Day(3, 9), false},
      {"groups/support", "agents/ana", "RESOLUTION", Day(3, 0), true},
  };
  facts.breaches = 1;

  const v1::SupportReport r = BuildSupportReport(facts, Day(1), Day(5));
  const v1::SupportFigures& t = r.total();
  CHECK(t.created() == 2);
  CHECK(t.solved() == 2);
  CHECK(t.first_reply().count() == 2);
  CHECK(t.first_reply().median_seconds() == Approx((1800.0 + 7200.0) / 2));
  CHECK(t.first_reply().p90_seconds() == Approx(1800 + 0.9 * 5400));
  CHECK(t.first_reply_business().count() == 1);
  CHECK(t.first_reply_business().median_seconds() == Approx(1200));
  CHECK(t.resolution().count() == 2);
  // 24 h, and 5 days 6 h (30 Oct 00:00 to 4 Nov 06:00).
  CHECK(t.resolution().median_seconds() == Approx((86400.0 + 126 * 3600.0) / 2));
  CHECK(t.resolution_business().count() == 1);
  REQUIRE(t.sla_size() == 2);
  CHECK(t.sla(0).metric() == "FIRST_REPLY");
  CHECK(t.sla(0).met() == 1);
  CHECK(t.sla(0).compliance() == Approx(1.0));
  CHECK(t.sla(1).metric() == "RESOLUTION");
  CHECK(t.sla(1).met() == 1);
  CHECK(t.sla(1).missed() == 1);
  CHECK(t.sla(1).compliance() == Approx(0.5));
  CHECK(t.csat().ratings() == 2);
  CHECK(t.csat().satisfied() == 1);
  CHECK(t.csat().score() == Approx(0.5));
  CHECK(r.sla_breaches() == 1);

  // Sales created both new tickets: busiest first.
  REQUIRE(r.groups_size() == 2);
  CHECK(r.groups(0).key() == "groups/sales");
  CHECK(r.groups(0).created() == 2);
  CHECK(r.groups(0).solved() == 1);
  CHECK(r.groups(1).key() == "groups/support");
  CHECK(r.groups(1).csat().score() == Approx(0.0));
  CHECK(r.groups(1).csat().ratings() == 1);
  REQUIRE(r.agents_size() == 2);
  CHECK(r.agents(0).key() == "agents/ana");
  CHECK(r.agents(0).created() == 1);
  CHECK(r.agents(0).solved() == 2);
  CHECK(r.agents(0).sla_size() == 2);
  CHECK(r.agents(1).key() == "agents/bob");
  CHECK(r.agents(1).first_reply().median_seconds() == Approx(7200));

  // Backlog at the end of the 1st..4th: only 3 (1); 1, 2, 3 (3); 2, 3 (2);
  // 2 (1).
  REQUIRE(r.backlog_size() == 4);
  CHECK(r.backlog(0).open_tickets() == 1);
  CHECK(r.backlog(1).open_tickets() == 3);
  CHECK(r.backlog(2).open_tickets() == 2);
  CHECK(r.backlog(3).open_tickets() == 1);
  CHECK(r.backlog(3).day_time().seconds() == absl::ToUnixSeconds(Day(4)));
}

TEST_CASE("an empty period reports zeros, not NaN", "[unit][analytics]") {
  const v1::SupportReport r = BuildSupportReport({}, Day(1), Day(1, 12));
  CHECK(r.total().created() == 0);
  CHECK(r.total().first_reply().median_seconds() == 0);
  CHECK(r.total().csat().score() == 0);
  REQUIRE(r.backlog_size() == 1);
  CHECK(r.backlog(0).open_tickets() == 0);
}

TEST_CASE("engagement rates divide by what could happen", "[unit][analytics]") {
  v1::EngagementFigures f;
  f.set_sent(200);
  f.set_delivered(180);
  f.set_opened(90);
  f.set_clicked(18);
  f.set_bounced(20);
  f.set_unsubscribed(9);
  EngagementRates(&f);
  CHECK(f.delivery_rate() == Approx(0.9));
  CHECK(f.open_rate() == Approx(0.5));
  CHECK(f.click_rate() == Approx(0.1));
  CHECK(f.bounce_rate() == Approx(0.1));
  CHECK(f.unsubscribe_rate() == Approx(0.05));
  v1::EngagementFigures none;
  EngagementRates(&none);
  CHECK(none.open_rate() == 0.0);
}

TEST_CASE("a report's period: default 30 days, ordered, at most 366 days", "[unit][analytics]") {
  const absl::Time now = Day(30, 12);
  const auto fallback = ReportPeriod(nullptr, nullptr, now);
  REQUIRE(fallback.ok());
  CHECK(fallback->second == now);
  CHECK(fallback->first == now - absl::Hours(24 * 30));
  google::protobuf::Timestamp a, b;
  a.set_seconds(absl::ToUnixSeconds(Day(10)));
  b.set_seconds(absl::ToUnixSeconds(Day(5)));
  const auto reversed = ReportPeriod(&a, &b, now);
  CHECK(reversed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(reversed.status().message() == "start_time: before end_time");
  a.set_seconds(absl::ToUnixSeconds(Day(5) - absl::Hours(24 * 367)));
  CHECK(ReportPeriod(&a, &b, now).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace crm::analytics
