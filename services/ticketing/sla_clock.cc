#include "services/ticketing/sla_clock.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kMaxTargetMinutes = 525600;  // a year
constexpr int kMaxHours = 70;
constexpr int kMaxHolidays = 400;

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

int TargetMinutes(const v1::SlaTarget& target, v1::SlaMetric metric) {
  switch (metric) {
    case v1::SLA_METRIC_FIRST_REPLY:
      return target.first_reply_minutes();
    case v1::SLA_METRIC_NEXT_REPLY:
      return target.next_reply_minutes();
    case v1::SLA_METRIC_PERIODIC_UPDATE:
      return target.periodic_update_minutes();
    case v1::SLA_METRIC_RESOLUTION:
      return target.resolution_minutes();
    default:
      return 0;
  }
}

template <typename List, typename Value>
bool EmptyOrHas(const List& list, const Value& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

template <typename List>
bool EmptyOrShares(const List& wanted, const List& have) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted) {
    if (std::find(have.begin(), have.end(), w) != have.end()) return true;
  }
  return false;
}

void Pause(SlaTimer& c, const BusinessCalendar& calendar, absl::Time now) {
  if (!c.running()) return;
  c.counted += calendar.Between(*c.running_since, now);
  c.running_since.reset();
  c.paused_since = now;
}

void Resume(SlaTimer& c, absl::Time now) {
  if (c.running() || c.achieved) return;
  if (c.paused_since) c.paused += now - *c.paused_since;
  c.paused_since.reset();
  c.running_since = now;
}

void Achieve(SlaTimer& c, const BusinessCalendar& calendar, absl::Time now) {
  if (c.achieved) return;
  Pause(c, calendar, now);
  if (c.paused_since) c.paused += now - *c.paused_since;
  c.paused_since.reset();
  c.achieved = now;
}

// A clock from `start`, running or paused as the ticket's status says.
SlaTimer Fresh(v1::SlaMetric metric, const SlaTargets& targets, absl::Time start, bool running,
               absl::Time now) {
  SlaTimer c;
  c.metric = metric;
  c.policy_id = targets.policy_id;
  c.target = absl::Minutes(TargetMinutes(targets.target, metric));
  c.warn_before = targets.warn_before;
  c.start = start;
  if (running) {
    c.running_since = start;
  } else {
    c.paused_since = now;
  }
  return c;
}

}  // namespace

void SlaTimer::Refresh(const BusinessCalendar& calendar) {
  due.reset();
  warn_at.reset();
  if (!running() || achieved) return;
  const absl::Duration left = std::max(target - counted, absl::ZeroDuration());
  due = calendar.Add(*running_since, left);
  if (!warned && !breached && warn_before > absl::ZeroDuration() && warn_before < target) {
    warn_at = calendar.Add(*running_since,
                           std::max(target - warn_before - counted, absl::ZeroDuration()));
  }
}

std::optional<absl::Time> SlaTimer::FireAt() const {
  if (!running() || achieved) return std::nullopt;
  if (warn_at) return warn_at;
  if (!breached) return due;
  return std::nullopt;
}

v1::SlaClock SlaTimer::ToProto() const {
  v1::SlaClock p;
  p.set_metric(metric);
  p.set_target_minutes(static_cast<int32_t>(absl::ToInt64Minutes(target)));
  p.set_state(achieved    ? v1::SLA_CLOCK_STATE_ACHIEVED
              : running() ? v1::SLA_CLOCK_STATE_RUNNING
                          : v1::SLA_CLOCK_STATE_PAUSED);
  *p.mutable_start_time() = ToTimestamp(start);
  if (due && *due != absl::InfiniteFuture()) *p.mutable_due_time() = ToTimestamp(*due);
  if (achieved) *p.mutable_achieved_time() = ToTimestamp(*achieved);
  p.set_breached(breached.has_value());
  if (breached) *p.mutable_breach_time() = ToTimestamp(*breached);
  p.set_elapsed_business_seconds(absl::ToInt64Seconds(counted));
  p.set_paused_seconds(absl::ToInt64Seconds(paused));
  return p;
}

std::string MetricText(v1::SlaMetric metric) {
  return v1::SlaMetric_Name(metric).substr(sizeof("SLA_METRIC_") - 1);
}

v1::SlaMetric MetricOf(absl::string_view text) {
  v1::SlaMetric metric = v1::SLA_METRIC_UNSPECIFIED;
  v1::SlaMetric_Parse(absl::StrCat("SLA_METRIC_", text), &metric);
  return metric;
}

bool ClocksRunIn(v1::Status status) {
  return status == v1::STATUS_NEW || status == v1::STATUS_OPEN;
}

bool PolicyMatches(const v1::SlaPolicy& policy, const v1::Ticket& ticket) {
  const v1::SlaConditions& c = policy.conditions();
  return EmptyOrHas(c.priorities(), static_cast<int>(ticket.priority())) &&
         EmptyOrHas(c.channels(), static_cast<int>(ticket.channel())) &&
         EmptyOrHas(c.types(), static_cast<int>(ticket.type())) &&
         EmptyOrShares(c.tags(), ticket.tags()) &&
         EmptyOrShares(c.requester_tags(), ticket.requester_tags()) &&
         EmptyOrHas(c.groups(), ticket.group());
}

absl::Status ValidateSlaPolicy(const v1::SlaPolicy& policy, absl::string_view path) {
  const std::string p(path);
  if (policy.display_name().empty() || policy.display_name().size() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".display_name: 1 to 100 characters"));
  }
  if (policy.position() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".position: must be >= 0"));
  }
  const v1::SlaConditions& c = policy.conditions();
  for (int i = 0; i < c.priorities_size(); ++i) {
    if (!v1::Priority_IsValid(c.priorities(i)) || c.priorities(i) == v1::PRIORITY_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(p, ".conditions.priorities[", i, "]: not a priority"));
    }
  }
  for (int i = 0; i < c.channels_size(); ++i) {
    if (!v1::Channel_IsValid(c.channels(i)) || c.channels(i) == v1::CHANNEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(p, ".conditions.channels[", i, "]: not a channel"));
    }
  }
  for (int i = 0; i < c.types_size(); ++i) {
    if (!v1::TicketType_IsValid(c.types(i)) || c.types(i) == v1::TICKET_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(p, ".conditions.types[", i, "]: not a ticket type"));
    }
  }
  for (const auto* list : {&c.tags(), &c.requester_tags()}) {
    if (list->size() > 32) {
      return absl::InvalidArgumentError(absl::StrCat(
          p, ".conditions.", list == &c.tags() ? "tags" : "requester_tags", ": at most 32"));
    }
    for (const std::string& tag : *list) {
      if (tag.empty() || tag.size() > 64) {
        return absl::InvalidArgumentError(
            absl::StrCat(p, ".conditions.", list == &c.tags() ? "tags" : "requester_tags",
                         ": tags are 1 to 64 characters"));
      }
    }
  }
  for (int i = 0; i < c.groups_size(); ++i) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName(absl::StrCat(p, ".conditions.groups[", i, "]"),
                                               c.groups(i), "groups", &id));
  }
  if (policy.targets_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".targets: at least one"));
  }
  std::set<int> priorities;
  for (int i = 0; i < policy.targets_size(); ++i) {
    const v1::SlaTarget& t = policy.targets(i);
    const std::string tp = absl::StrCat(p, ".targets[", i, "]");
    if (!v1::Priority_IsValid(t.priority()) || t.priority() == v1::PRIORITY_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(tp, ".priority: required"));
    }
    if (!priorities.insert(t.priority()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(tp, ".priority: ", PriorityText(t.priority()), " has a target already"));
    }
    for (auto [name, minutes] :
         {std::pair<const char*, int>{"first_reply_minutes", t.first_reply_minutes()},
          {"next_reply_minutes", t.next_reply_minutes()},
          {"periodic_update_minutes", t.periodic_update_minutes()},
          {"resolution_minutes", t.resolution_minutes()}}) {
      if (minutes < 0 || minutes > kMaxTargetMinutes) {
        return absl::InvalidArgumentError(
            absl::StrCat(tp, ".", name, ": 0 (none) to ", kMaxTargetMinutes));
      }
    }
  }
  if (policy.warn_before_minutes() < 0 || policy.warn_before_minutes() > kMaxTargetMinutes) {
    return absl::InvalidArgumentError(
        absl::StrCat(p, ".warn_before_minutes: 0 (none) to ", kMaxTargetMinutes));
  }
  return absl::OkStatus();
}

absl::StatusOr<BusinessCalendar> CalendarOf(const v1::BusinessCalendar& calendar,
                                            absl::string_view path) {
  const std::string p(path);
  if (calendar.display_name().empty() || calendar.display_name().size() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".display_name: 1 to 100 characters"));
  }
  if (calendar.hours_size() > kMaxHours) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".hours: at most ", kMaxHours));
  }
  if (calendar.holidays_size() > kMaxHolidays) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".holidays: at most ", kMaxHolidays));
  }
  std::vector<OpenInterval> hours;
  for (int i = 0; i < calendar.hours_size(); ++i) {
    const v1::OpeningHours& h = calendar.hours(i);
    const std::string hp = absl::StrCat(p, ".hours[", i, "]");
    if (h.day_of_week() < 1 || h.day_of_week() > 7) {
      return absl::InvalidArgumentError(absl::StrCat(hp, ".day_of_week: 1 (Monday) to 7 (Sunday)"));
    }
    CRM_ASSIGN_OR_RETURN(int start, ParseClockTime(h.start(), absl::StrCat(hp, ".start")));
    CRM_ASSIGN_OR_RETURN(int end, ParseClockTime(h.end(), absl::StrCat(hp, ".end")));
    if (start >= end) {
      return absl::InvalidArgumentError(absl::StrCat(hp, ".end: must be after start"));
    }
    // absl::Weekday counts from Monday = 0.
    hours.push_back({static_cast<absl::Weekday>(h.day_of_week() - 1), start, end});
  }
  std::vector<absl::CivilDay> holidays;
  for (int i = 0; i < calendar.holidays_size(); ++i) {
    const std::string hp = absl::StrCat(p, ".holidays[", i, "]");
    CRM_ASSIGN_OR_RETURN(absl::CivilDay day,
                         ParseDate(calendar.holidays(i).date(), absl::StrCat(hp, ".date")));
    if (calendar.holidays(i).display_name().size() > 100) {
      return absl::InvalidArgumentError(absl::StrCat(hp, ".display_name: up to 100 characters"));
    }
    holidays.push_back(day);
  }
  auto made = BusinessCalendar::Make(calendar.time_zone(), std::move(hours), std::move(holidays));
  if (!made.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".", made.status().message()));
  }
  return made;
}

std::vector<SlaTimer> AdvanceClocks(std::vector<SlaTimer> clocks,
                                    const std::optional<SlaTargets>& targets,
                                    const SlaTicket& ticket, const SlaChange& change,
                                    std::vector<SlaTimer>* breached_now) {
  const absl::Time now = change.now;
  // Breaches that fell due before this change and the scheduler has not
  // marked yet: this change is the one to mark them (exactly once, as the
  // clock's row is locked by the change's transaction).
  for (SlaTimer& c : clocks) {
    if (c.running() && !c.achieved && !c.breached && c.due && *c.due <= now) {
      c.breached = c.due;
      c.warn_at.reset();
      breached_now->push_back(c);
    }
  }
  if (!targets) return {};
  const BusinessCalendar& calendar = targets->calendar;
  const v1::Status before =
      change.status_before == v1::STATUS_UNSPECIFIED ? ticket.status : change.status_before;
  const auto find = [&clocks](v1::SlaMetric metric) -> SlaTimer* {
    for (SlaTimer& c : clocks) {
      if (c.metric == metric) return &c;
    }
    return nullptr;
  };

  // The policy's targets: changed targets apply to the time counted so
  // far; a target the ticket lacks starts as if it had been there.
  for (v1::SlaMetric metric : {v1::SLA_METRIC_FIRST_REPLY, v1::SLA_METRIC_NEXT_REPLY,
                               v1::SLA_METRIC_PERIODIC_UPDATE, v1::SLA_METRIC_RESOLUTION}) {
    const int minutes = TargetMinutes(targets->target, metric);
    SlaTimer* existing = find(metric);
    if (minutes == 0) {
      if (existing) {
        clocks.erase(clocks.begin() + (existing - clocks.data()));
      }
      continue;
    }
    if (existing) {
      existing->policy_id = targets->policy_id;
      existing->target = absl::Minutes(minutes);
      existing->warn_before = targets->warn_before;
      continue;
    }
    const bool from_creation =
        (metric == v1::SLA_METRIC_FIRST_REPLY && !ticket.has_first_response) ||
        (metric == v1::SLA_METRIC_RESOLUTION && before != v1::STATUS_SOLVED &&
         before != v1::STATUS_CLOSED);
    if (from_creation) {
      clocks.push_back(Fresh(metric, *targets, ticket.create_time, ClocksRunIn(before), now));
    }
  }

  // The status move.
  if (before != ticket.status) {
    for (SlaTimer& c : clocks) {
      if (ticket.status == v1::STATUS_SOLVED && c.metric == v1::SLA_METRIC_RESOLUTION) {
        Achieve(c, calendar, now);
      } else if (!ClocksRunIn(ticket.status)) {
        Pause(c, calendar, now);
      } else {
        if (before == v1::STATUS_SOLVED && c.metric == v1::SLA_METRIC_RESOLUTION) {
          c.achieved.reset();  // reopened: resolution goes on counting
          c.paused_since = now;
        }
        Resume(c, now);
      }
    }
  }

  // Replies.
  const bool runs = ClocksRunIn(ticket.status);
  if (change.agent_public_reply) {
    for (SlaTimer& c : clocks) {
      if (c.metric == v1::SLA_METRIC_FIRST_REPLY || c.metric == v1::SLA_METRIC_NEXT_REPLY) {
        Achieve(c, calendar, now);
      }
    }
    if (TargetMinutes(targets->target, v1::SLA_METRIC_PERIODIC_UPDATE) > 0) {
      SlaTimer fresh = Fresh(v1::SLA_METRIC_PERIODIC_UPDATE, *targets, now, runs, now);
      if (SlaTimer* c = find(v1::SLA_METRIC_PERIODIC_UPDATE)) {
        *c = fresh;
      } else {
        clocks.push_back(fresh);
      }
    }
  }
  if (change.customer_public_reply && ticket.has_first_response &&
      TargetMinutes(targets->target, v1::SLA_METRIC_NEXT_REPLY) > 0) {
    SlaTimer* c = find(v1::SLA_METRIC_NEXT_REPLY);
    if (!c || c->achieved) {  // else the oldest unanswered reply keeps it
      SlaTimer fresh = Fresh(v1::SLA_METRIC_NEXT_REPLY, *targets, now, runs, now);
      if (c) {
        *c = fresh;
      } else {
        clocks.push_back(fresh);
      }
    }
  }

  for (SlaTimer& c : clocks) c.Refresh(calendar);
  std::sort(clocks.begin(), clocks.end(),
            [](const SlaTimer& a, const SlaTimer& b) { return a.metric < b.metric; });
  return clocks;
}

}  // namespace crm::ticketing
