// Rules (triggers) without the database: what a saved rule must hold,
// whether its conditions hold for a ticket and the change being made to it,
// the field changes its actions make, and the changes between two states of
// a ticket for the audit (docs/ticketing.md, "Rules").
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "crm/ticketing/v1/rule.pb.h"
#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing {

inline constexpr int kMaxRuleConditions = 50;
inline constexpr int kMaxRuleActions = 20;

// Validates `rule` as saved and normalises it: enum values upper-cased,
// tags written as ticket tags are; INVALID_ARGUMENT names the field under
// `path`, e.g. `rule.all_conditions[2].operator`.
absl::Status ValidateRule(v1::Rule* rule, absl::string_view path);

// The change a rule looks at: the ticket before the call (a default ticket
// on create) and the comment the call adds (null when none).
struct RuleContext {
  v1::RuleTrigger trigger = v1::RULE_TRIGGER_UNSPECIFIED;
  const v1::Ticket* before = nullptr;
  const v1::Comment* comment = nullptr;
};

// Whether `rule` (validated) is considered for `context.trigger` and its
// conditions hold for `ticket` as it is now.
bool RuleMatches(const v1::Rule& rule, const v1::Ticket& ticket, const RuleContext& context);

// `ticket` with the rule's priority, type and tag actions made.
v1::Ticket WithFieldActions(const v1::Rule& rule, v1::Ticket ticket);

// The fields that differ between two states of a ticket (subject,
// priority, type, status, custom_status, group, assignee, tags), as text.
std::vector<v1::RuleFieldChange> TicketChanges(const v1::Ticket& before, const v1::Ticket& after);

std::string RuleTriggerText(v1::RuleTrigger trigger);
v1::RuleTrigger RuleTriggerOf(absl::string_view text);

}  // namespace crm::ticketing
