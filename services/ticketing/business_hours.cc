#include "services/ticketing/business_hours.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::ticketing {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr int kSearchDays = 3660;  // ten years of closed days: give up

int DayIndex(absl::Weekday day) { return static_cast<int>(day); }

// A local boundary as an instant. A skipped local time (spring forward) is
// the switch; a repeated one (fall back) is its first occurrence when it
// opens and its second when it closes, so the team's real hours count.
absl::Time Opens(const absl::TimeZone& zone, absl::CivilMinute local) {
  const absl::TimeZone::TimeInfo info = zone.At(local);
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}
absl::Time Closes(const absl::TimeZone& zone, absl::CivilMinute local) {
  const absl::TimeZone::TimeInfo info = zone.At(local);
  switch (info.kind) {
    case absl::TimeZone::TimeInfo::SKIPPED:
      return info.trans;
    case absl::TimeZone::TimeInfo::REPEATED:
      return info.post;
    default:
      return info.pre;
  }
}

}  // namespace

BusinessCalendar::BusinessCalendar() : zone_(absl::UTCTimeZone()) {}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Make(const std::string& time_zone,
                                                        std::vector<OpenInterval> hours,
                                                        std::vector<absl::CivilDay> holidays) {
  BusinessCalendar c;
  if (time_zone.empty() || !absl::LoadTimeZone(time_zone, &c.zone_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_zone: \"", time_zone.substr(0, 64), "\" is not an IANA time zone"));
  }
  if (hours.empty()) {
    return absl::InvalidArgumentError("hours: at least one opening interval");
  }
  c.week_.assign(7, {});
  for (size_t i = 0; i < hours.size(); ++i) {
    const OpenInterval& h = hours[i];
    if (h.start_minute < 0 || h.end_minute > kMinutesPerDay || h.start_minute >= h.end_minute) {
      return absl::InvalidArgumentError(
          absl::StrCat("hours[", i, "]: start must be before end, within one day"));
    }
    c.week_[DayIndex(h.day)].emplace_back(h.start_minute, h.end_minute);
  }
  for (auto& day : c.week_) {
    std::sort(day.begin(), day.end());
    std::vector<std::pair<int, int>> merged;
    for (const auto& interval : day) {
      if (!merged.empty() && interval.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, interval.second);
      } else {
        merged.push_back(interval);
      }
    }
    day = std::move(merged);
  }
  std::sort(holidays.begin(), holidays.end());
  holidays.erase(std::unique(holidays.begin(), holidays.end()), holidays.end());
  c.holidays_ = std::move(holidays);
  c.always_open_ = false;
  return c;
}

std::vector<std::pair<absl::Time, absl::Time>> BusinessCalendar::OpenOn(absl::CivilDay day) const {
  std::vector<std::pair<absl::Time, absl::Time>> open;
  if (std::binary_search(holidays_.begin(), holidays_.end(), day)) return open;
  const absl::CivilMinute midnight(day);
  for (const auto& [start, end] : week_[DayIndex(absl::GetWeekday(day))]) {
    const absl::Time from = Opens(zone_, midnight + start);
    const absl::Time to = Closes(zone_, midnight + end);
    if (from < to) open.emplace_back(from, to);
  }
  return open;
}

absl::Time BusinessCalendar::Add(absl::Time start, absl::Duration business) const {
  if (business <= absl::ZeroDuration()) return start;
  if (always_open_) return start + business;
  absl::Duration left = business;
  // Intervals lie within their local day, so none before `start`'s day
  // reaches past `start`.
  absl::CivilDay day = absl::ToCivilDay(start, zone_);
  for (int i = 0; i < kSearchDays; ++i, ++day) {
    for (const auto& [open, close] : OpenOn(day)) {
      const absl::Time from = std::max(open, start);
      if (close <= from) continue;
      if (close - from >= left) return from + left;
      left -= close - from;
    }
  }
  return absl::InfiniteFuture();
}

absl::Duration BusinessCalendar::Between(absl::Time from, absl::Time to) const {
  if (to <= from) return absl::ZeroDuration();
  if (always_open_) return to - from;
  absl::Duration total = absl::ZeroDuration();
  const absl::CivilDay last = absl::ToCivilDay(to, zone_);
  for (absl::CivilDay day = absl::ToCivilDay(from, zone_); day <= last; ++day) {
    for (const auto& [open, close] : OpenOn(day)) {
      const absl::Time a = std::max(open, from);
      const absl::Time b = std::min(close, to);
      if (a < b) total += b - a;
    }
  }
  return total;
}

absl::StatusOr<int> ParseClockTime(const std::string& text, const std::string& field) {
  int hours = 0;
  int minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &hours) ||
      !absl::SimpleAtoi(text.substr(3, 2), &minutes) || hours < 0 || minutes < 0 || minutes > 59 ||
      hours * 60 + minutes > kMinutesPerDay) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text.substr(0, 16), "\" is not a time HH:MM (00:00-24:00)"));
  }
  return hours * 60 + minutes;
}

absl::StatusOr<absl::CivilDay> ParseDate(const std::string& text, const std::string& field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day) ||
      absl::FormatCivilTime(day) != text) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text.substr(0, 16), "\" is not a date YYYY-MM-DD"));
  }
  return day;
}

}  // namespace crm::ticketing
