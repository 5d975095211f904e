// Business-time arithmetic against cases worked out by hand: within a day,
// overnight, weekends, holidays, and both DST switches of 2026 in
// Europe/Berlin (29 March, 25 October) and America/New_York (8 March,
// 1 November). Every expected instant is written in UTC, with the local
// time it is in the comment.
#include "services/ticketing/business_hours.h"

#include <catch2/catch.hpp>
#include <vector>

namespace crm::ticketing {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

std::vector<OpenInterval> Weekdays(int start_hour, int end_hour) {
  std::vector<OpenInterval> hours;
  for (absl::Weekday day : {absl::Weekday::monday, absl::Weekday::tuesday, absl::Weekday::wednesday,
                            absl::Weekday::thursday, absl::Weekday::friday}) {
    hours.push_back({day, start_hour * 60, end_hour * 60});
  }
  return hours;
}

std::vector<OpenInterval> EveryDay(int start_minute, int end_minute) {
  std::vector<OpenInterval> hours;
  for (int d = 0; d < 7; ++d) {
    hours.push_back({static_cast<absl::Weekday>(d), start_minute, end_minute});
  }
  return hours;
}

BusinessCalendar Make(const std::string& zone, std::vector<OpenInterval> hours,
                      std::vector<absl::CivilDay> holidays = {}) {
  auto calendar = BusinessCalendar::Make(zone, std::move(hours), std::move(holidays));
  REQUIRE(calendar.ok());
  return *calendar;
}

// Mon-Fri 09:00-17:00 in Berlin, closed Good Friday and Easter Monday 2026.
BusinessCalendar Berlin() {
  return Make("Europe/Berlin", Weekdays(9, 17),
              {absl::CivilDay(2026, 4, 3), absl::CivilDay(2026, 4, 6)});
}

}  // namespace

TEST_CASE("business time within a day and overnight", "[unit][ticketing][sla]") {
  const BusinessCalendar c = Berlin();
  // Tue 10 March 10:00 CET + 3h = 13:00 CET.
  CHECK(c.Add(Utc(2026, 3, 10, 9, 0), absl::Hours(3)) == Utc(2026, 3, 10, 12, 0));
  // Tue 16:00 CET + 2h: one hour today, one from Wed 09:00 = Wed 10:00 CET.
  CHECK(c.Add(Utc(2026, 3, 10, 15, 0), absl::Hours(2)) == Utc(2026, 3, 11, 9, 0));
  // Wed 06:00 CET, before opening, + 1h = Wed 10:00 CET.
  CHECK(c.Add(Utc(2026, 3, 11, 5, 0), absl::Hours(1)) == Utc(2026, 3, 11, 9, 0));
  // At closing time exactly, + 1 minute = next morning 09:01.
  CHECK(c.Add(Utc(2026, 3, 11, 16, 0), absl::Minutes(1)) == Utc(2026, 3, 12, 8, 1));
  // Zero is the start itself, even when closed.
  CHECK(c.Add(Utc(2026, 3, 14, 12, 0), absl::ZeroDuration()) == Utc(2026, 3, 14, 12, 0));
  // A full week of work (40h) from Mon 09:00 ends Fri 17:00.
  CHECK(c.Add(Utc(2026, 3, 9, 8, 0), absl::Hours(40)) == Utc(2026, 3, 13, 16, 0));
}

TEST_CASE("business time skips weekends and holidays", "[unit][ticketing][sla]") {
  const BusinessCalendar c = Berlin();
  // Fri 13 March 16:30 CET + 1h = Mon 16 March 09:30 CET.
  CHECK(c.Add(Utc(2026, 3, 13, 15, 30), absl::Hours(1)) == Utc(2026, 3, 16, 8, 30));
  // Thu 2 April 16:00 CEST + 2h: Good Friday, the weekend and Easter Monday
  // are closed = Tue 7 April 10:00 CEST.
  CHECK(c.Add(Utc(2026, 4, 2, 14, 0), absl::Hours(2)) == Utc(2026, 4, 7, 8, 0));
  CHECK(c.Between(Utc(2026, 4, 2, 14, 0), Utc(2026, 4, 7, 8, 0)) == absl::Hours(2));
  CHECK(c.Between(Utc(2026, 3, 13, 15, 0), Utc(2026, 3, 16, 9, 0)) == absl::Hours(2));
  // Nothing open on a holiday or a weekend.
  CHECK(c.Between(Utc(2026, 4, 3, 0, 0), Utc(2026, 4, 6, 23, 0)) == absl::ZeroDuration());
  CHECK(c.Between(Utc(2026, 4, 7, 8, 0), Utc(2026, 4, 7, 8, 0)) == absl::ZeroDuration());
}

TEST_CASE("business time across Europe's DST switches", "[unit][ticketing][sla]") {
  const BusinessCalendar c = Berlin();
  // Fri 27 March 16:00 CET + 2h = Mon 30 March 10:00 CEST (08:00Z, not 09:00Z).
  CHECK(c.Add(Utc(2026, 3, 27, 15, 0), absl::Hours(2)) == Utc(2026, 3, 30, 8, 0));
  // Fri 23 October 16:00 CEST + 2h = Mon 26 October 10:00 CET (09:00Z).
  CHECK(c.Add(Utc(2026, 10, 23, 14, 0), absl::Hours(2)) == Utc(2026, 10, 26, 9, 0));

  const BusinessCalendar always = Make("Europe/Berlin", EveryDay(0, 24 * 60));
  // Sat 28 March 23:00 CET + 4h of an open-all-day calendar is 4 real hours.
  CHECK(always.Add(Utc(2026, 3, 28, 22, 0), absl::Hours(4)) == Utc(2026, 3, 29, 2, 0));
  // 29 March has 23 hours there, 25 October 25.
  CHECK(always.Between(Utc(2026, 3, 28, 23, 0), Utc(2026, 3, 29, 22, 0)) == absl::Hours(23));
  CHECK(always.Between(Utc(2026, 10, 24, 22, 0), Utc(2026, 10, 25, 23, 0)) == absl::Hours(25));

  // Sundays 01:00-05:00: on 29 March 01:00 CET (00:00Z) to 05:00 CEST
  // (03:00Z) is 3 hours; on 25 October 01:00 CEST (23:00Z) to 05:00 CET
  // (04:00Z) is 5.
  const BusinessCalendar sundays = Make("Europe/Berlin", {{absl::Weekday::sunday, 60, 5 * 60}});
  CHECK(sundays.Between(Utc(2026, 3, 28, 0, 0), Utc(2026, 3, 30, 0, 0)) == absl::Hours(3));
  CHECK(sundays.Add(Utc(2026, 3, 29, 0, 0), absl::Hours(3)) == Utc(2026, 3, 29, 3, 0));
  // Half an hour more runs into the next Sunday, 5 April 01:30 CEST.
  CHECK(sundays.Add(Utc(2026, 3, 29, 0, 0), absl::Minutes(210)) == Utc(2026, 4, 4, 23, 30));
  CHECK(sundays.Between(Utc(2026, 10, 24, 0, 0), Utc(2026, 10, 26, 0, 0)) == absl::Hours(5));

  // A boundary inside the skipped hour is the switch (01:00Z); one inside
  // the repeated hour closes at its second occurrence.
  const BusinessCalendar skipped =
      Make("Europe/Berlin", {{absl::Weekday::sunday, 2 * 60 + 30, 4 * 60}});
  CHECK(skipped.Between(Utc(2026, 3, 29, 0, 0), Utc(2026, 3, 30, 0, 0)) == absl::Hours(1));
  const BusinessCalendar repeated =
      Make("Europe/Berlin", {{absl::Weekday::sunday, 0, 2 * 60 + 30}});
  // 00:00 CEST (22:00Z) to the second 02:30, in CET (01:30Z).
  CHECK(repeated.Between(Utc(2026, 10, 24, 0, 0), Utc(2026, 10, 26, 0, 0)) == absl::Minutes(210));
}

TEST_CASE("business time across America's DST switches", "[unit][ticketing][sla]") {
  const BusinessCalendar c = Make("America/New_York", Weekdays(9, 17));
  // Fri 6 March 16:00 EST (21:00Z) + 2h = Mon 9 March 10:00 EDT (14:00Z).
  CHECK(c.Add(Utc(2026, 3, 6, 21, 0), absl::Hours(2)) == Utc(2026, 3, 9, 14, 0));
  // Fri 30 October 16:00 EDT (20:00Z) + 2h = Mon 2 November 10:00 EST (15:00Z).
  CHECK(c.Add(Utc(2026, 10, 30, 20, 0), absl::Hours(2)) == Utc(2026, 11, 2, 15, 0));

  const BusinessCalendar always = Make("America/New_York", EveryDay(0, 24 * 60));
  // Sat 7 March 23:00 EST (04:00Z) + 4h = 04:00 EDT (08:00Z).
  CHECK(always.Add(Utc(2026, 3, 8, 4, 0), absl::Hours(4)) == Utc(2026, 3, 8, 8, 0));
  // Sunday 1 November 00:00-04:00 local is 00:00 EDT (04:00Z) to 04:00 EST
  // (09:00Z): 5 hours.
  const BusinessCalendar sunday_night =
      Make("America/New_York", {{absl::Weekday::sunday, 0, 4 * 60}});
  CHECK(sunday_night.Between(Utc(2026, 11, 1, 0, 0), Utc(2026, 11, 2, 0, 0)) == absl::Hours(5));
  CHECK(sunday_night.Add(Utc(2026, 11, 1, 4, 0), absl::Hours(5)) == Utc(2026, 11, 1, 9, 0));
}

TEST_CASE("business time over a night shift and merged intervals", "[unit][ticketing][sla]") {
  // Mon 22:00-24:00 and Tue 00:00-06:00 run on through midnight.
  const BusinessCalendar night =
      Make("UTC", {{absl::Weekday::monday, 22 * 60, 24 * 60}, {absl::Weekday::tuesday, 0, 6 * 60}});
  CHECK(night.Add(Utc(2026, 3, 9, 23, 0), absl::Hours(2)) == Utc(2026, 3, 10, 1, 0));
  // Overlapping intervals count once.
  const BusinessCalendar overlap = Make(
      "UTC", {{absl::Weekday::monday, 9 * 60, 12 * 60}, {absl::Weekday::monday, 11 * 60, 13 * 60}});
  CHECK(overlap.Between(Utc(2026, 3, 9, 0, 0), Utc(2026, 3, 10, 0, 0)) == absl::Hours(4));
  // Add and Between agree.
  const BusinessCalendar c = Berlin();
  for (int minutes : {1, 59, 480, 481, 2000, 9000}) {
    const absl::Time start = Utc(2026, 3, 26, 13, 17);
    CHECK(c.Between(start, c.Add(start, absl::Minutes(minutes))) == absl::Minutes(minutes));
  }
}

TEST_CASE("an always-open calendar counts every instant", "[unit][ticketing][sla]") {
  const BusinessCalendar c;
  CHECK(c.always_open());
  CHECK(c.Add(Utc(2026, 3, 29, 0, 30), absl::Hours(2)) == Utc(2026, 3, 29, 2, 30));
  CHECK(c.Between(Utc(2026, 3, 29, 0, 0), Utc(2026, 3, 30, 0, 0)) == absl::Hours(24));
}

TEST_CASE("calendars and their inputs are validated", "[unit][ticketing][sla]") {
  CHECK(BusinessCalendar::Make("Mars/Olympus", Weekdays(9, 17), {}).status().message() ==
        "time_zone: \"Mars/Olympus\" is not an IANA time zone");
  CHECK(BusinessCalendar::Make("UTC", {}, {}).status().message() ==
        "hours: at least one opening interval");
  CHECK(BusinessCalendar::Make("UTC", {{absl::Weekday::monday, 600, 600}}, {}).status().message() ==
        "hours[0]: start must be before end, within one day");
  CHECK(*ParseClockTime("09:30", "x") == 570);
  CHECK(*ParseClockTime("24:00", "x") == 1440);
  for (const char* bad : {"9:30", "24:01", "12:60", "ab:cd", "", "09:30:00"}) {
    CAPTURE(bad);
    CHECK(ParseClockTime(bad, "hours[0].start").status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(*ParseDate("2026-12-25", "x") == absl::CivilDay(2026, 12, 25));
  for (const char* bad : {"2026-02-30", "2026-2-3", "25.12.2026", ""}) {
    CAPTURE(bad);
    CHECK(ParseDate(bad, "holidays[0].date").status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace crm::ticketing
