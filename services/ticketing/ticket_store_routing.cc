// TicketStore's routing (docs/ticketing.md): tickets given to agents by
// their group's strategy, by hand (AssignTicket), and when capacity frees
// up; an agent who becomes unavailable or leaves a group hands tickets
// back. Every step runs in the transaction of the change that causes it.
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/ticketing/routing_domain.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_rows.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {
namespace {

constexpr char kOpen[] = "('NEW', 'OPEN', 'PENDING', 'ON_HOLD')";
constexpr int kDrainBatch = 20;

}  // namespace

namespace internal {

const std::map<std::string, std::string>& RoutingStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $3 the group ('' none), $4 the assignee ('' waiting in the group).
      {"ticketing_assign_ticket",
       absl::StrCat("UPDATE ticketing.tickets t SET group_id = NULLIF($3, '')::uuid, assignee_id "
                    "= NULLIF($4, '')::uuid, queue_time = CASE WHEN $4 = '' THEN now() ELSE "
                    "t.queue_time END, update_time = now(), version = t.version + 1 WHERE "
                    "t.tenant_id = $1 AND t.id = $2::uuid RETURNING ",
                    TicketSelectColumns())},
      // Waiting tickets of agent $2's groups, oldest first, skipping tickets
      // another transaction holds; with what skills their group asks.
      {"ticketing_waiting_for_agent",
       absl::StrCat("SELECT t.id::text, array_to_string(t.tags, ','), t.group_id::text, "
                    "g.strategy, array_to_string(g.skill_tags, ','), t.language FROM "
                    "ticketing.tickets t "
                    "JOIN ticketing.group_members m ON m.tenant_id = t.tenant_id AND m.group_id = "
                    "t.group_id AND m.agent_id = $2::uuid JOIN ticketing.groups g ON g.tenant_id "
                    "= t.tenant_id AND g.id = t.group_id WHERE t.tenant_id = $1 AND "
                    "t.assignee_id IS NULL AND t.group_id IS NOT NULL AND t.status IN ",
                    kOpen,
                    " ORDER BY t.queue_time, t.id LIMIT $3::int FOR UPDATE OF t SKIP LOCKED")},
      // EscalateTicket: $3 the new priority.
      {"ticketing_set_priority",
       absl::StrCat("UPDATE ticketing.tickets t SET priority = $3, update_time = now(), version = "
                    "t.version + 1 WHERE t.tenant_id = $1 AND t.id = $2::uuid RETURNING ",
                    TicketSelectColumns())},
      // Waiting tickets of skills groups that waited their group's relax
      // time, across tenants (app.housekeeping), oldest first.
      {"ticketing_relaxable_tickets",
       absl::StrCat("SELECT t.tenant_id, t.id::text, t.group_id::text FROM ticketing.tickets t "
                    "JOIN ticketing.groups g ON g.tenant_id = t.tenant_id AND g.id = t.group_id "
                    "WHERE g.strategy = 'SKILLS' AND g.relax_after_min > 0 AND t.assignee_id IS "
                    "NULL AND t.group_id IS NOT NULL AND t.status IN ",
                    kOpen,
                    " AND t.queue_time <= now() - g.relax_after_min * interval '1 minute' ORDER "
                    "BY t.queue_time LIMIT $1::int")},
      // Open tickets agent $2 must hand back: all ($3) or those of groups
      // the agent no longer works.
      {"ticketing_tickets_to_hand_back",
       absl::StrCat("SELECT t.id::text, COALESCE(t.group_id::text, ''), array_to_string(t.tags, "
                    "',') FROM ticketing.tickets t WHERE t.tenant_id = $1 AND t.assignee_id = "
                    "$2::uuid AND t.status IN ",
                    kOpen,
                    " AND ($3::boolean OR (t.group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    "ticketing.group_members m WHERE m.tenant_id = t.tenant_id AND m.group_id = "
                    "t.group_id AND m.agent_id = t.assignee_id))) ORDER BY t.queue_time NULLS "
                    "FIRST, t.id FOR UPDATE OF t")},
  };
  return *statements;
}

}  // namespace internal

absl::StatusOr<v1::Ticket> TicketStore::AssignInTx(db::Tx& tx, const std::string& tenant,
                                                   const std::string& ticket_id,
                                                   const std::string& group_id,
                                                   const std::string& agent_id, bool publish) {
  v1::Ticket t = internal::TicketOf(
      db::Exec(tx, "ticketing_assign_ticket", tenant, ticket_id, group_id, agent_id)[0]);
  if (publish) events::AppendEvent(tx, kSchema, tenant, "ticket.assigned", t.name(), t);
  return t;
}

absl::StatusOr<v1::Ticket> TicketStore::RouteInTx(db::Tx& tx, const std::string& tenant,
                                                  const v1::Ticket& ticket,
                                                  const std::string& group_id, bool publish) {
  CRM_ASSIGN_OR_RETURN(
      std::string agent,
      routing_.Route(tx, tenant, group_id, {ticket.tags().begin(), ticket.tags().end()},
                     ticket.language()));
  return AssignInTx(tx, tenant, IdOf(ticket.name()), group_id, agent, publish);
}

absl::Status TicketStore::DrainInTx(db::Tx& tx, const std::string& tenant,
                                    const std::string& agent_id) {
  std::vector<std::string> skills;
  CRM_ASSIGN_OR_RETURN(int free, routing_.FreeCapacity(tx, tenant, agent_id, &skills));
  while (free > 0) {
    const pqxx::result waiting =
        db::Exec(tx, "ticketing_waiting_for_agent", tenant, agent_id, kDrainBatch);
    int taken = 0;
    for (const auto& row : waiting) {
      if (free == 0) break;
      const v1::RoutingStrategy strategy = StrategyOf(row[3].as<std::string>());
      const std::vector<std::string> needed =
          RequiredSkills(db::SplitJoined(row[1].as<std::string>()),
                         db::SplitJoined(row[4].as<std::string>()), row[5].as<std::string>());
      if (!AgentQualifies(strategy, skills, needed)) continue;
      CRM_RETURN_IF_ERROR(
          AssignInTx(tx, tenant, row[0].as<std::string>(), row[2].as<std::string>(), agent_id)
              .status());
      --free;
      ++taken;
    }
    if (taken == 0 || static_cast<int>(waiting.size()) < kDrainBatch) break;
  }
  return absl::OkStatus();
}

absl::Status TicketStore::AfterStatusChange(db::Tx& tx, const std::string& tenant,
                                            v1::Status before, v1::Ticket* ticket) {
  if (ticket->assignee().empty()) return absl::OkStatus();
  const std::string agent = IdOf(ticket->assignee());
  if (IsOpen(before) && !IsOpen(ticket->status())) {
    return DrainInTx(tx, tenant, agent);  // a place freed up
  }
  if (!IsOpen(before) && IsOpen(ticket->status())) {
    // Reopened: it counts again; when that puts the agent above capacity
    // (or the agent is away), it goes back to its group.
    CRM_ASSIGN_OR_RETURN(int free, routing_.FreeCapacity(tx, tenant, agent, nullptr));
    if (free == 0) {
      CRM_ASSIGN_OR_RETURN(bool over, routing_.OverCapacity(tx, tenant, agent));
      if (over) {
        const std::string group = ticket->group().empty() ? "" : IdOf(ticket->group());
        if (group.empty()) {
          CRM_ASSIGN_OR_RETURN(*ticket, AssignInTx(tx, tenant, IdOf(ticket->name()), "", ""));
        } else {
          CRM_ASSIGN_OR_RETURN(*ticket, AssignInTx(tx, tenant, IdOf(ticket->name()), group, ""));
          CRM_ASSIGN_OR_RETURN(*ticket, RouteInTx(tx, tenant, *ticket, group));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Ticket> TicketStore::Assign(const server::CallScope& scope,
                                               const std::string& id, const std::string& group_id,
                                               const std::string& agent_id, const std::string& etag,
                                               const RequestKey& key) {
  v1::Ticket assigned;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "AssignTicket",
                                                            key.id, key.hash, &assigned));
    if (replayed) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(v1::Ticket current, internal::LockTicketRow(tx, scope.tenant, id));
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "ticket"));
    if (!IsOpen(current.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          current.name(), " is ", StatusText(current.status()),
          ": only new, open, pending and on-hold tickets are assigned (reopen it first)"));
    }
    const std::string group =
        !group_id.empty() ? group_id : (current.group().empty() ? "" : IdOf(current.group()));
    if (!group_id.empty()) CRM_RETURN_IF_ERROR(routing_.CheckGroup(tx, scope.tenant, group_id));
    if (!agent_id.empty()) {
      if (current.assignee() == absl::StrCat("agents/", agent_id) &&
          current.group() == (group.empty() ? "" : absl::StrCat("groups/", group))) {
        assigned = current;  // already so
        return absl::OkStatus();
      }
      CRM_RETURN_IF_ERROR(routing_.CheckAssignable(tx, scope.tenant, agent_id, group, "assignee"));
      CRM_ASSIGN_OR_RETURN(assigned, AssignInTx(tx, scope.tenant, id, group, agent_id));
    } else {
      CRM_ASSIGN_OR_RETURN(assigned, RouteInTx(tx, scope.tenant, current, group));
    }
    if (!current.assignee().empty() && current.assignee() != assigned.assignee()) {
      CRM_RETURN_IF_ERROR(DrainInTx(tx, scope.tenant, IdOf(current.assignee())));
    }
    SlaChange change;
    change.status_before = current.status();
    change.now = absl::Now();
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, &assigned, change));
    CRM_RETURN_IF_ERROR(
        RunRules(tx, scope.tenant, v1::RULE_TRIGGER_UPDATED, "AssignTicket", current, &assigned));
    idempotency_.Store(tx, scope.tenant, "AssignTicket", key.id, key.hash, assigned);
    return absl::OkStatus();
  }));
  return assigned;
}

absl::StatusOr<absl::Duration> TicketStore::RelaxWaiting(int batch) {
  struct Waiting {
    std::string tenant, id, group;
  };
  std::vector<Waiting> due;
  const db::TxOptions options = db::HousekeepingTx(absl::Seconds(30));
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    due.clear();
    for (const auto& row : db::Exec(tx, "ticketing_relaxable_tickets", batch)) {
      due.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  int assigned = 0;
  for (const Waiting& w : due) {
    db::TxOptions in_tenant;
    in_tenant.tenant = w.tenant;
    in_tenant.deadline = absl::Now() + absl::Seconds(30);
    CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, in_tenant, [&](db::Tx& tx) {
      CRM_ASSIGN_OR_RETURN(v1::Ticket t, internal::LockTicketRow(tx, w.tenant, w.id));
      if (!t.assignee().empty() || t.group() != absl::StrCat("groups/", w.group)) {
        return absl::OkStatus();  // routed meanwhile
      }
      CRM_ASSIGN_OR_RETURN(
          std::string agent,
          routing_.Route(tx, w.tenant, w.group, {t.tags().begin(), t.tags().end()}, t.language(),
                         /*relaxed=*/true));
      if (agent.empty()) return absl::OkStatus();  // nobody has room yet
      ++assigned;
      return AssignInTx(tx, w.tenant, w.id, w.group, agent).status();
    }));
  }
  // A full batch that placed tickets may have more behind it.
  if (static_cast<int>(due.size()) == batch && assigned > 0) return absl::ZeroDuration();
  return absl::Seconds(5);
}

absl::Status TicketStore::DrainAgent(const server::CallScope& scope, const std::string& id) {
  return db::RunInTransaction(pool_, server::TxFor(scope),
                              [&](db::Tx& tx) { return DrainInTx(tx, scope.tenant, id); });
}

absl::StatusOr<v1::Ticket> TicketStore::Escalate(const server::CallScope& scope,
                                                 const std::string& id, v1::Priority priority,
                                                 const std::string& group_id,
                                                 const std::string& reason, const std::string& etag,
                                                 const RequestKey& key) {
  v1::Ticket escalated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "EscalateTicket",
                                                            key.id, key.hash, &escalated));
    if (replayed) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(v1::Ticket current, internal::LockTicketRow(tx, scope.tenant, id));
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "ticket"));
    if (!IsOpen(current.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          current.name(), " is ", StatusText(current.status()), ": only open tickets escalate"));
    }
    CRM_ASSIGN_OR_RETURN(v1::Priority to,
                         EscalatedPriority(current.priority(), priority, !group_id.empty()));
    escalated = internal::TicketOf(
        db::Exec(tx, "ticketing_set_priority", scope.tenant, id, PriorityText(to))[0]);
    db::Exec(tx, "ticketing_insert_comment", scope.tenant, id,
             AuthorKindText(v1::AUTHOR_KIND_SYSTEM), "escalation",
             absl::StrCat(
                 "Escalated to ", PriorityText(to), " (was ", PriorityText(current.priority()), ")",
                 group_id.empty() ? "" : absl::StrCat(", to groups/", group_id), ": ", reason),
             false, "{}");
    if (!group_id.empty()) {
      CRM_RETURN_IF_ERROR(routing_.CheckGroup(tx, scope.tenant, group_id));
      CRM_ASSIGN_OR_RETURN(escalated, RouteInTx(tx, scope.tenant, escalated, group_id));
      if (!current.assignee().empty() && current.assignee() != escalated.assignee()) {
        CRM_RETURN_IF_ERROR(DrainInTx(tx, scope.tenant, IdOf(current.assignee())));
      }
    }
    SlaChange change;
    change.status_before = current.status();
    change.now = absl::Now();
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, &escalated, change));
    events::AppendEvent(tx, kSchema, scope.tenant, "ticket.escalated", escalated.name(), escalated);
    CRM_RETURN_IF_ERROR(RunRules(tx, scope.tenant, v1::RULE_TRIGGER_UPDATED, "EscalateTicket",
                                 current, &escalated));
    idempotency_.Store(tx, scope.tenant, "EscalateTicket", key.id, key.hash, escalated);
    return absl::OkStatus();
  }));
  return escalated;
}

absl::StatusOr<v1::Agent> TicketStore::UpdateAgent(const server::CallScope& scope,
                                                   const std::string& id, const v1::Agent& agent) {
  v1::Agent updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(updated, routing_.UpdateAgent(tx, scope.tenant, id, agent));
    // Tickets the agent may no longer hold go back to their groups.
    const pqxx::result back =
        db::Exec(tx, "ticketing_tickets_to_hand_back", scope.tenant, id, !updated.available());
    for (const auto& row : back) {
      const std::string ticket_id = row[0].as<std::string>();
      const std::string group = row[1].as<std::string>();
      CRM_ASSIGN_OR_RETURN(v1::Ticket t, AssignInTx(tx, scope.tenant, ticket_id, group, ""));
      if (!group.empty()) CRM_RETURN_IF_ERROR(RouteInTx(tx, scope.tenant, t, group).status());
    }
    // Places it has now (available again, more capacity, new groups).
    CRM_RETURN_IF_ERROR(DrainInTx(tx, scope.tenant, id));
    auto refreshed = routing_.GetAgentInTx(tx, scope.tenant, id);
    if (refreshed.ok()) updated = *std::move(refreshed);
    return absl::OkStatus();
  }));
  return updated;
}

}  // namespace crm::ticketing
