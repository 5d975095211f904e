// TicketStore's rules (triggers, docs/ticketing.md): after a change made
// through the API, the tenant's rules are tried in order; a rule whose
// conditions hold makes its actions as a change of its own, in the same
// transaction, and the rules are tried again from the first. Each rule
// fires at most once per call, so rules that undo each other end.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "google/protobuf/util/time_util.h"
#include "services/ticketing/rule_domain.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_rows.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

bool SameFields(const v1::Ticket& a, const v1::Ticket& b) {
  return a.priority() == b.priority() && a.type() == b.type() &&
         std::equal(a.tags().begin(), a.tags().end(), b.tags().begin(), b.tags().end());
}

}  // namespace

absl::Status TicketStore::RunRules(db::Tx& tx, const std::string& tenant, v1::RuleTrigger trigger,
                                   const char* method, const v1::Ticket& before, v1::Ticket* ticket,
                                   const v1::Comment* comment) {
  const std::vector<v1::Rule> rules = rules_.RulesFor(tx, tenant, trigger);
  if (rules.empty()) return absl::OkStatus();
  RuleContext context;
  context.trigger = trigger;
  context.before = &before;
  context.comment = comment;
  std::vector<bool> fired(rules.size(), false);
  for (size_t round = 0; round < rules.size(); ++round) {
    size_t i = 0;
    while (i < rules.size() && (fired[i] || !RuleMatches(rules[i], *ticket, context))) ++i;
    if (i == rules.size()) break;  // no rule left to fire
    fired[i] = true;
    const v1::Rule& rule = rules[i];
    const v1::Ticket was = *ticket;
    std::string note;
    CRM_ASSIGN_OR_RETURN(std::vector<std::string> skipped,
                         MakeRuleActions(tx, tenant, rule, ticket, &note));
    v1::RuleFiring firing;
    firing.set_rule(rule.name());
    firing.set_rule_display_name(rule.display_name());
    firing.set_ticket(ticket->name());
    firing.set_trigger(trigger);
    firing.set_method(method);
    for (v1::RuleFieldChange& c : TicketChanges(was, *ticket)) *firing.add_changes() = std::move(c);
    if (!note.empty()) {
      v1::RuleFieldChange& c = *firing.add_changes();
      c.set_field("comment");
      c.set_after(note);
    }
    for (std::string& s : skipped) firing.add_skipped(std::move(s));
    if (ticket->etag() != was.etag()) {
      SlaChange change;
      change.status_before = was.status();
      change.now = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ticket->update_time()));
      CRM_RETURN_IF_ERROR(sla_.Apply(tx, tenant, ticket, change));
      // Group and assignee changes have published ticket.assigned.
      if (ticket->status() != was.status() || ticket->custom_status() != was.custom_status()) {
        events::AppendEvent(tx, kSchema, tenant, "ticket.status_changed", ticket->name(), *ticket);
      } else if (!SameFields(was, *ticket)) {
        events::AppendEvent(tx, kSchema, tenant, "ticket.updated", ticket->name(), *ticket);
      }
    }
    rules_.Record(tx, tenant, std::move(firing));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> TicketStore::MakeRuleActions(db::Tx& tx,
                                                                      const std::string& tenant,
                                                                      const v1::Rule& rule,
                                                                      v1::Ticket* ticket,
                                                                      std::string* note) {
  const std::string id = IdOf(ticket->name());
  std::vector<std::string> skipped;
  const v1::Ticket edited = WithFieldActions(rule, *ticket);
  if (!SameFields(edited, *ticket)) {
    *ticket = internal::TicketOf(
        db::Exec(tx, "ticketing_update_ticket", tenant, id, edited.subject(), edited.description(),
                 PriorityText(edited.priority()), TypeText(edited.type()),
                 db::TextArray({edited.tags().begin(), edited.tags().end()}), edited.order(),
                 internal::CustomFieldsJson(edited),
                 db::TextArray({edited.followers().begin(), edited.followers().end()}),
                 edited.language())[0]);
  }
  for (const v1::RuleAction& a : rule.actions()) {
    switch (a.action_case()) {
      case v1::RuleAction::kSetStatus:
      case v1::RuleAction::kSetCustomStatus: {
        v1::Status to = a.set_status();
        std::string custom_id;
        if (a.action_case() == v1::RuleAction::kSetCustomStatus) {
          custom_id = IdOf(a.set_custom_status());
          auto rows = db::Exec(tx, "ticketing_get_custom_status", tenant, custom_id);
          if (rows.empty()) {
            skipped.push_back(
                absl::StrCat("set_custom_status: ", a.set_custom_status(), " no longer exists"));
            break;
          }
          to = StatusOf(rows[0][2].as<std::string>());
        }
        const std::string custom_name =
            custom_id.empty() ? "" : absl::StrCat("customStatuses/", custom_id);
        if (ticket->status() == to && ticket->custom_status() == custom_name) break;
        if (ticket->status() != to && !CanMove(ticket->status(), to)) {
          skipped.push_back(absl::StrCat("set_status: a ticket cannot move from ",
                                         StatusText(ticket->status()), " to ", StatusText(to)));
          break;
        }
        const v1::Status from = ticket->status();
        *ticket = internal::TicketOf(
            db::Exec(tx, "ticketing_update_status", tenant, id, StatusText(to), custom_id)[0]);
        CRM_RETURN_IF_ERROR(AfterStatusChange(tx, tenant, from, ticket));
        break;
      }
      case v1::RuleAction::kSetGroup:
      case v1::RuleAction::kSetAssignee: {
        const bool to_group = a.action_case() == v1::RuleAction::kSetGroup;
        const char* field = to_group ? "set_group" : "set_assignee";
        const std::string& target = to_group ? a.set_group() : a.set_assignee();
        if ((to_group ? ticket->group() : ticket->assignee()) == target) break;
        if (!IsOpen(ticket->status())) {
          skipped.push_back(absl::StrCat(field, ": the ticket is ", StatusText(ticket->status()),
                                         " and is no longer assigned"));
          break;
        }
        const std::string previous = ticket->assignee();
        if (to_group) {
          absl::Status exists = routing_.CheckGroup(tx, tenant, IdOf(target));
          if (!exists.ok()) {
            skipped.push_back(absl::StrCat(field, ": ", target, " no longer exists"));
            break;
          }
          CRM_ASSIGN_OR_RETURN(*ticket, RouteInTx(tx, tenant, *ticket, IdOf(target)));
        } else {
          const std::string group = ticket->group().empty() ? "" : IdOf(ticket->group());
          absl::Status room = routing_.CheckAssignable(tx, tenant, IdOf(target), group, field);
          if (!room.ok()) {
            skipped.push_back(std::string(room.message()));
            break;
          }
          CRM_ASSIGN_OR_RETURN(*ticket, AssignInTx(tx, tenant, id, group, IdOf(target)));
        }
        if (!previous.empty() && previous != ticket->assignee()) {
          CRM_RETURN_IF_ERROR(DrainInTx(tx, tenant, IdOf(previous)));
        }
        break;
      }
      case v1::RuleAction::kAddInternalNote: {
        const v1::Comment added = internal::CommentOf(db::Exec(
            tx, "ticketing_insert_comment", tenant, id, AuthorKindText(v1::AUTHOR_KIND_SYSTEM),
            rule.name(), a.add_internal_note(), false, "{}")[0]);
        *note = added.name();
        events::AppendEvent(tx, kSchema, tenant, "ticket.comment_added", added.name(), added);
        break;
      }
      default:  // priority, type and tags: made above
        break;
    }
  }
  return skipped;
}

}  // namespace crm::ticketing
