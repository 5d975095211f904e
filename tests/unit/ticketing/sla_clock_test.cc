// SLA clocks through a ticket's life, against times worked out by hand:
// pauses in pending and on hold, replies, solving and reopening, a policy
// change mid-ticket, breaches a change sees first, and a business-hours
// calendar across a weekend.
#include "services/ticketing/sla_clock.h"

#include <catch2/catch.hpp>
#include <vector>

namespace crm::ticketing {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

const absl::Time kT0 = Utc(2026, 3, 10, 9, 0);

SlaTargets Targets(int first, int next, int periodic, int resolution, int warn = 15) {
  SlaTargets t;
  t.policy_id = "p1";
  t.target.set_priority(v1::PRIORITY_NORMAL);
  t.target.set_first_reply_minutes(first);
  t.target.set_next_reply_minutes(next);
  t.target.set_periodic_update_minutes(periodic);
  t.target.set_resolution_minutes(resolution);
  t.warn_before = absl::Minutes(warn);
  return t;
}

// A ticket under test: its clocks and status, moved by one change at a time.
struct Desk {
  std::optional<SlaTargets> targets = Targets(60, 30, 120, 480);
  SlaTicket ticket;
  std::vector<SlaTimer> clocks;
  std::vector<SlaTimer> breached;

  explicit Desk(absl::Time created) {
    ticket.status = v1::STATUS_NEW;
    ticket.create_time = created;
    Change(v1::STATUS_NEW, created);
  }
  void Change(v1::Status status, absl::Time now, bool agent_reply = false,
              bool customer_reply = false) {
    SlaChange change;
    change.status_before =
        clocks.empty() && breached.empty() ? v1::STATUS_UNSPECIFIED : ticket.status;
    change.agent_public_reply = agent_reply;
    change.customer_public_reply = customer_reply;
    change.now = now;
    ticket.status = status;
    clocks = AdvanceClocks(clocks, targets, ticket, change, &breached);
    if (agent_reply) ticket.has_first_response = true;
  }
  const SlaTimer* Clock(v1::SlaMetric metric) const {
    for (const SlaTimer& c : clocks) {
      if (c.metric == metric) return &c;
    }
    return nullptr;
  }
  const SlaTimer& Must(v1::SlaMetric metric) const {
    const SlaTimer* c = Clock(metric);
    REQUIRE(c != nullptr);
    return *c;
  }
};

}  // namespace

TEST_CASE("a new ticket starts first reply and resolution", "[unit][ticketing][sla]") {
  Desk d(kT0);
  REQUIRE(d.clocks.size() == 2);
  const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
  CHECK(first.running());
  CHECK(*first.due == kT0 + absl::Minutes(60));
  CHECK(*first.warn_at == kT0 + absl::Minutes(45));
  CHECK(*first.FireAt() == kT0 + absl::Minutes(45));
  CHECK(*d.Must(v1::SLA_METRIC_RESOLUTION).due == kT0 + absl::Minutes(480));
  CHECK(d.Clock(v1::SLA_METRIC_NEXT_REPLY) == nullptr);
  CHECK(d.Clock(v1::SLA_METRIC_PERIODIC_UPDATE) == nullptr);
}

TEST_CASE("clocks pause in pending and on hold, through replies, solving and reopening",
          "[unit][ticketing][sla]") {
  Desk d(kT0);
  d.Change(v1::STATUS_PENDING, kT0 + absl::Minutes(20));
  {
    const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
    CHECK_FALSE(first.running());
    CHECK_FALSE(first.due.has_value());
    CHECK_FALSE(first.FireAt().has_value());
    CHECK(first.counted == absl::Minutes(20));
    CHECK(first.ToProto().state() == v1::SLA_CLOCK_STATE_PAUSED);
  }
  d.Change(v1::STATUS_ON_HOLD, kT0 + absl::Minutes(50));  // still paused
  d.Change(v1::STATUS_OPEN, kT0 + absl::Hours(2));
  {
    const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
    CHECK(*first.due == kT0 + absl::Hours(2) + absl::Minutes(40));
    CHECK(first.paused == absl::Minutes(100));
  }
  // The first public reply of an agent meets first reply and starts the
  // periodic update.
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(130), /*agent_reply=*/true);
  {
    const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
    CHECK(*first.achieved == kT0 + absl::Minutes(130));
    CHECK(first.counted == absl::Minutes(30));
    CHECK_FALSE(first.breached.has_value());
    CHECK(first.ToProto().state() == v1::SLA_CLOCK_STATE_ACHIEVED);
    CHECK(*d.Must(v1::SLA_METRIC_PERIODIC_UPDATE).due == kT0 + absl::Minutes(250));
  }
  // The customer answers: next reply is due in 30 minutes; a second reply
  // of theirs does not move it.
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(160), false, /*customer_reply=*/true);
  CHECK(*d.Must(v1::SLA_METRIC_NEXT_REPLY).due == kT0 + absl::Minutes(190));
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(170), false, /*customer_reply=*/true);
  CHECK(*d.Must(v1::SLA_METRIC_NEXT_REPLY).due == kT0 + absl::Minutes(190));
  // Solving meets resolution (80 minutes counted) and stops the rest.
  d.Change(v1::STATUS_SOLVED, kT0 + absl::Hours(3));
  CHECK(*d.Must(v1::SLA_METRIC_RESOLUTION).achieved == kT0 + absl::Hours(3));
  CHECK(d.Must(v1::SLA_METRIC_RESOLUTION).counted == absl::Minutes(80));
  CHECK_FALSE(d.Must(v1::SLA_METRIC_NEXT_REPLY).running());
  CHECK_FALSE(d.Must(v1::SLA_METRIC_PERIODIC_UPDATE).running());
  // Reopened an hour later, resolution counts on from 80 minutes; next
  // reply goes on with its 20 minutes counted.
  d.Change(v1::STATUS_OPEN, kT0 + absl::Hours(4));
  CHECK_FALSE(d.Must(v1::SLA_METRIC_RESOLUTION).achieved.has_value());
  CHECK(*d.Must(v1::SLA_METRIC_RESOLUTION).due == kT0 + absl::Hours(4) + absl::Minutes(400));
  CHECK(*d.Must(v1::SLA_METRIC_NEXT_REPLY).due == kT0 + absl::Hours(4) + absl::Minutes(10));
  CHECK(d.breached.empty());
}

TEST_CASE("a policy change mid-ticket applies the new targets to the time counted",
          "[unit][ticketing][sla]") {
  Desk d(kT0);
  d.Change(v1::STATUS_PENDING, kT0 + absl::Minutes(10));
  d.Change(v1::STATUS_OPEN, kT0 + absl::Hours(1));
  CHECK(*d.Must(v1::SLA_METRIC_FIRST_REPLY).due == kT0 + absl::Minutes(110));
  // Urgent now: first reply 30 minutes, of which 10 are counted.
  d.targets = Targets(30, 0, 0, 120, 0);
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(65));
  const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
  CHECK(first.target == absl::Minutes(30));
  CHECK(*first.due == kT0 + absl::Minutes(80));
  CHECK_FALSE(first.warn_at.has_value());  // no warnings in the new policy
  CHECK(*d.Must(v1::SLA_METRIC_RESOLUTION).due == kT0 + absl::Minutes(170));
  // A policy without a target drops that clock; no policy drops them all.
  d.targets = Targets(30, 0, 0, 0, 0);
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(66));
  CHECK(d.Clock(v1::SLA_METRIC_RESOLUTION) == nullptr);
  d.targets.reset();
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(67));
  CHECK(d.clocks.empty());
}

TEST_CASE("a change after a due time the scheduler has not seen marks the breach once",
          "[unit][ticketing][sla]") {
  Desk d(kT0);
  d.Change(v1::STATUS_PENDING, kT0 + absl::Minutes(70));
  REQUIRE(d.breached.size() == 1);
  CHECK(d.breached[0].metric == v1::SLA_METRIC_FIRST_REPLY);
  CHECK(*d.breached[0].breached == kT0 + absl::Minutes(60));
  const SlaTimer& first = d.Must(v1::SLA_METRIC_FIRST_REPLY);
  CHECK(first.breached.has_value());
  // Reopened and answered late: still breached, achieved, and not again.
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(80));
  d.Change(v1::STATUS_OPEN, kT0 + absl::Minutes(90), /*agent_reply=*/true);
  CHECK(d.breached.size() == 1);
  CHECK(d.Must(v1::SLA_METRIC_FIRST_REPLY).achieved.has_value());
  CHECK(d.Must(v1::SLA_METRIC_FIRST_REPLY).ToProto().breached());
}

TEST_CASE("clocks on business hours stop over the weekend and in pending",
          "[unit][ticketing][sla]") {
  std::vector<OpenInterval> hours;
  for (int day = 0; day < 5; ++day) {
    hours.push_back({static_cast<absl::Weekday>(day), 9 * 60, 17 * 60});
  }
  auto calendar = BusinessCalendar::Make("Europe/Berlin", hours, {});
  REQUIRE(calendar.ok());
  // Created Fri 13 March 16:00 CET with a 2-hour first reply: due Mon 10:00
  // CET.
  Desk d(Utc(2026, 3, 13, 15, 0));
  d.targets = Targets(120, 0, 0, 0, 0);
  d.targets->calendar = *calendar;
  d.clocks.clear();
  d.Change(v1::STATUS_NEW, Utc(2026, 3, 13, 15, 0));
  CHECK(*d.Must(v1::SLA_METRIC_FIRST_REPLY).due == Utc(2026, 3, 16, 9, 0));
  // Pending at 16:30 (30 minutes counted), open again Mon 09:15: 90 left,
  // due 10:45 CET.
  d.Change(v1::STATUS_PENDING, Utc(2026, 3, 13, 15, 30));
  d.Change(v1::STATUS_OPEN, Utc(2026, 3, 16, 8, 15));
  CHECK(d.Must(v1::SLA_METRIC_FIRST_REPLY).counted == absl::Minutes(30));
  CHECK(*d.Must(v1::SLA_METRIC_FIRST_REPLY).due == Utc(2026, 3, 16, 9, 45));
}

TEST_CASE("policies match on every condition they set", "[unit][ticketing][sla]") {
  v1::Ticket t;
  t.set_priority(v1::PRIORITY_URGENT);
  t.set_channel(v1::CHANNEL_EMAIL);
  t.set_type(v1::TICKET_TYPE_INCIDENT);
  t.add_tags("refund");
  t.add_requester_tags("vip");
  v1::SlaPolicy p;
  CHECK(PolicyMatches(p, t));  // no conditions: every ticket
  p.mutable_conditions()->add_priorities(v1::PRIORITY_URGENT);
  p.mutable_conditions()->add_priorities(v1::PRIORITY_HIGH);
  CHECK(PolicyMatches(p, t));
  p.mutable_conditions()->add_requester_tags("vip");
  CHECK(PolicyMatches(p, t));
  p.mutable_conditions()->add_channels(v1::CHANNEL_CHAT);
  CHECK_FALSE(PolicyMatches(p, t));
  p.mutable_conditions()->add_channels(v1::CHANNEL_EMAIL);
  p.mutable_conditions()->add_tags("shipping");
  CHECK_FALSE(PolicyMatches(p, t));
  p.mutable_conditions()->add_tags("refund");
  p.mutable_conditions()->add_types(v1::TICKET_TYPE_INCIDENT);
  CHECK(PolicyMatches(p, t));
  p.mutable_conditions()->add_groups("groups/g1");
  CHECK_FALSE(PolicyMatches(p, t));
  t.set_group("groups/g1");
  CHECK(PolicyMatches(p, t));
}

TEST_CASE("policies and calendars are validated naming the field", "[unit][ticketing][sla]") {
  v1::SlaPolicy p;
  p.set_display_name("VIP");
  CHECK(ValidateSlaPolicy(p, "policy").message() == "policy.targets: at least one");
  auto* t = p.add_targets();
  t->set_priority(v1::PRIORITY_URGENT);
  t->set_first_reply_minutes(30);
  CHECK(ValidateSlaPolicy(p, "policy").ok());
  p.add_targets()->set_priority(v1::PRIORITY_URGENT);
  CHECK(ValidateSlaPolicy(p, "policy").message() ==
        "policy.targets[1].priority: URGENT has a target already");
  p.mutable_targets()->RemoveLast();
  t->set_resolution_minutes(-1);
  CHECK(ValidateSlaPolicy(p, "policy").message() ==
        "policy.targets[0].resolution_minutes: 0 (none) to 525600");
  t->set_resolution_minutes(0);
  p.mutable_conditions()->add_channels(static_cast<v1::Channel>(99));
  CHECK(ValidateSlaPolicy(p, "policy").message() == "policy.conditions.channels[0]: not a channel");

  v1::BusinessCalendar c;
  c.set_display_name("Berlin office");
  c.set_time_zone("Europe/Berlin");
  auto* h = c.add_hours();
  h->set_day_of_week(1);
  h->set_start("09:00");
  h->set_end("17:00");
  CHECK(CalendarOf(c, "calendar").ok());
  h->set_day_of_week(8);
  CHECK(CalendarOf(c, "calendar").status().message() ==
        "calendar.hours[0].day_of_week: 1 (Monday) to 7 (Sunday)");
  h->set_day_of_week(1);
  h->set_end("08:00");
  CHECK(CalendarOf(c, "calendar").status().message() ==
        "calendar.hours[0].end: must be after start");
  h->set_end("17:00");
  c.add_holidays()->set_date("2026-13-01");
  CHECK(CalendarOf(c, "calendar").status().message() ==
        "calendar.holidays[0].date: \"2026-13-01\" is not a date YYYY-MM-DD");
  c.clear_holidays();
  c.set_time_zone("Nowhere/Town");
  CHECK(CalendarOf(c, "calendar").status().message() ==
        "calendar.time_zone: \"Nowhere/Town\" is not an IANA time zone");
}

}  // namespace crm::ticketing
