// Business time: when a support team works, in its own time zone, and how
// SLA clocks count only that time. Pure (no database): the SLA engine keeps
// the clocks, this answers "when is N business minutes after t" and "how
// much business time lies between a and b".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace crm::ticketing {

// Open on `day` from `start_minute` to `end_minute` local time (minutes since
// midnight; end 1440 is the next midnight). start < end.
struct OpenInterval {
  absl::Weekday day = absl::Weekday::monday;
  int start_minute = 0;
  int end_minute = 0;
};

class BusinessCalendar {
 public:
  // Open around the clock (no time zone needed: every instant counts).
  BusinessCalendar();

  // `time_zone` an IANA name ("Europe/Berlin"); `hours` at least one
  // interval, overlapping ones are merged; on `holidays` (local dates) it is
  // closed all day. INVALID_ARGUMENT names what is wrong.
  static absl::StatusOr<BusinessCalendar> Make(const std::string& time_zone,
                                               std::vector<OpenInterval> hours,
                                               std::vector<absl::CivilDay> holidays);

  // The instant `business` of open time after `start`. Local boundaries that
  // a DST switch skips are the switch itself; a repeated local hour counts
  // twice when the team works through it. Zero is `start`. Beyond ten years
  // of closed days: absl::InfiniteFuture().
  absl::Time Add(absl::Time start, absl::Duration business) const;

  // Open time in [from, to); zero when to <= from.
  absl::Duration Between(absl::Time from, absl::Time to) const;

  bool always_open() const { return always_open_; }

 private:
  // The open intervals of local date `day` as instants, in order.
  std::vector<std::pair<absl::Time, absl::Time>> OpenOn(absl::CivilDay day) const;

  bool always_open_ = true;
  absl::TimeZone zone_;
  std::vector<std::vector<std::pair<int, int>>> week_;  // by absl::Weekday, merged
  std::vector<absl::CivilDay> holidays_;                // sorted
};

// "HH:MM" (00:00 to 24:00) → minutes since midnight; INVALID_ARGUMENT
// naming `field` otherwise.
absl::StatusOr<int> ParseClockTime(const std::string& text, const std::string& field);
// "YYYY-MM-DD" → a date; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<absl::CivilDay> ParseDate(const std::string& text, const std::string& field);

}  // namespace crm::ticketing
