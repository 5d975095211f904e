// The SLA engine's rules without the database: which policy applies to a
// ticket, and how a ticket's change moves its clocks (start, pause, resume,
// achieve, breach, a new cycle). docs/ticketing.md explains the model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/ticketing/v1/sla.pb.h"
#include "crm/ticketing/v1/ticket.pb.h"
#include "services/ticketing/business_hours.h"

namespace crm::ticketing {

// One target's clock on one ticket, as stored.
struct SlaTimer {
  v1::SlaMetric metric = v1::SLA_METRIC_UNSPECIFIED;
  std::string policy_id;                    // the policy that set it
  absl::Duration target;                    // business time allowed
  absl::Duration warn_before;               // zero: no warning
  absl::Time start;                         // this cycle's start
  absl::Duration counted;                   // business time before running_since
  std::optional<absl::Time> running_since;  // set while running
  std::optional<absl::Time> paused_since;   // set while paused
  absl::Duration paused;                    // wall time paused in this cycle
  std::optional<absl::Time> achieved;       // set when met
  std::optional<absl::Time> breached;       // the due time it was missed at
  bool warned = false;
  // While running: when the target falls due, and when to warn (unset when
  // there is no warning left to give). Kept by Refresh.
  std::optional<absl::Time> due;
  std::optional<absl::Time> warn_at;

  bool running() const { return running_since.has_value(); }
  // Sets `due` and `warn_at` from the rest by `calendar`.
  void Refresh(const BusinessCalendar& calendar);
  // What the scheduler waits for next: the warning, else the breach.
  std::optional<absl::Time> FireAt() const;
  // As the API shows it.
  v1::SlaClock ToProto() const;
};

// The policy a ticket's clocks follow, resolved: its targets for the
// ticket's priority and its calendar.
struct SlaTargets {
  std::string policy_id;
  v1::SlaTarget target;
  absl::Duration warn_before;
  BusinessCalendar calendar;
};

// What the SLA engine needs to know about a ticket.
struct SlaTicket {
  v1::Status status = v1::STATUS_UNSPECIFIED;
  absl::Time create_time;
  bool has_first_response = false;
};

// What happened to the ticket, beyond its status (which is in SlaTicket).
struct SlaChange {
  v1::Status status_before = v1::STATUS_UNSPECIFIED;  // UNSPECIFIED when created
  bool agent_public_reply = false;
  bool customer_public_reply = false;
  absl::Time now;
};

// Whether `policy`'s conditions match `ticket` (with its requester's tags).
bool PolicyMatches(const v1::SlaPolicy& policy, const v1::Ticket& ticket);

// Validates a policy to save; INVALID_ARGUMENT names the field under `path`.
absl::Status ValidateSlaPolicy(const v1::SlaPolicy& policy, absl::string_view path);

// Validates a calendar and builds its arithmetic; INVALID_ARGUMENT names the
// field under `path`.
absl::StatusOr<BusinessCalendar> CalendarOf(const v1::BusinessCalendar& calendar,
                                            absl::string_view path);

// Moves `clocks` through `change` under `targets` (nullopt: no policy
// applies, and the ticket keeps no clocks). Clocks that fell due before
// `change.now` without the scheduler having seen them yet are marked
// breached first; they are added to `breached_now`.
std::vector<SlaTimer> AdvanceClocks(std::vector<SlaTimer> clocks,
                                    const std::optional<SlaTargets>& targets,
                                    const SlaTicket& ticket, const SlaChange& change,
                                    std::vector<SlaTimer>* breached_now);

// Whether the clocks count in this status (NEW and OPEN).
bool ClocksRunIn(v1::Status status);

// As stored: "FIRST_REPLY" ↔ SLA_METRIC_FIRST_REPLY.
std::string MetricText(v1::SlaMetric metric);
v1::SlaMetric MetricOf(absl::string_view text);

}  // namespace crm::ticketing
