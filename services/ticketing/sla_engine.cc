#include "services/ticketing/sla_engine.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/json.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/events/outbox.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

// SQL fragments: a timestamp as microseconds since the epoch (text, ''
// when NULL), and microseconds back to a timestamp.
std::string Micros(absl::string_view column) {
  return absl::StrCat("(EXTRACT(EPOCH FROM ", column, ") * 1000000)::bigint");
}
std::string MicrosOrEmpty(absl::string_view column) {
  return absl::StrCat("COALESCE(", Micros(column), "::text, '')");
}
std::string Timestamp(absl::string_view micros) {
  return absl::StrCat("('epoch'::timestamptz + ", micros, " * interval '1 microsecond')");
}

// One clock of `ticketing.sla_clocks s` as '|'-separated text, in the
// order ParseSlaClock reads.
std::string ClockText() {
  return absl::StrCat("concat_ws('|', s.metric, s.target_min, s.warn_before_min, ",
                      Micros("s.start_time"), ", s.counted_us, ", MicrosOrEmpty("s.running_since"),
                      ", ", MicrosOrEmpty("s.paused_since"), ", s.paused_us, ",
                      MicrosOrEmpty("s.achieved_time"), ", ", MicrosOrEmpty("s.breach_time"),
                      ", CASE WHEN s.warned THEN 't' ELSE 'f' END, ", MicrosOrEmpty("s.due_time"),
                      ", ", MicrosOrEmpty("s.warn_time"), ", s.policy_id)");
}

// The scheduler's "now" ($1, microseconds), written out where it is used:
// a plain expression of the parameter is an index condition on fire_time
// (joined from a one-row CTE it was only a join filter, and each step
// walked the whole index: 420 ms at a million clocks, against 0.06 ms).
constexpr char kNow[] = "('epoch'::timestamptz + $1::bigint * interval '1 microsecond')";

// The clocks of ticket $2 from the JSON array $3 (ClocksJson).
std::string InsertClocksSql() {
  return absl::StrCat(
      "INSERT INTO ticketing.sla_clocks (tenant_id, ticket_id, metric, policy_id, "
      "target_min, warn_before_min, start_time, counted_us, running_since, paused_since, "
      "paused_us, achieved_time, breach_time, warned, due_time, warn_time, fire_time) "
      "SELECT $1, $2::uuid, x.metric, x.policy_id, x.target_min, x.warn_before_min, ",
      Timestamp("x.start_us"), ", x.counted_us, ", Timestamp("x.running_us"), ", ",
      Timestamp("x.paused_since_us"), ", x.paused_us, ", Timestamp("x.achieved_us"), ", ",
      Timestamp("x.breach_us"), ", x.warned, ", Timestamp("x.due_us"), ", ", Timestamp("x.warn_us"),
      ", ", Timestamp("x.fire_us"),
      " FROM jsonb_to_recordset($3::jsonb) AS x(metric text, policy_id uuid, target_min "
      "int, warn_before_min int, start_us bigint, counted_us bigint, running_us bigint, "
      "paused_since_us bigint, paused_us bigint, achieved_us bigint, breach_us bigint, "
      "warned boolean, due_us bigint, warn_us bigint, fire_us bigint)");
}

// Ticket $2's SLA columns: $<policy> the policy ('' none), $<policy + 1> the
// next due time in microseconds ('' none), $<policy + 2> whether a target
// was missed.
std::string SetTicketSlaSql(int policy) {
  return absl::StrCat("UPDATE ticketing.tickets SET sla_policy_id = NULLIF($", policy,
                      ", '')::uuid, sla_due_time = ",
                      Timestamp(absl::StrCat("NULLIF($", policy + 1, ", '')::bigint")),
                      ", sla_breached = $", policy + 2,
                      "::boolean WHERE tenant_id = $1 AND id = $2::uuid");
}

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // The tenant's policies in the order they are tried, with calendars.
      {"ticketing_sla_policies_for_matching",
       "SELECT p.id::text, p.conditions::text, p.targets::text, p.warn_before_min, "
       "COALESCE(c.time_zone, ''), COALESCE(c.hours::text, '{}'), COALESCE(c.holidays::text, "
       "'{}'), COALESCE(c.display_name, '') FROM ticketing.sla_policies p LEFT JOIN "
       "ticketing.business_calendars c ON c.tenant_id = p.tenant_id AND c.id = p.calendar_id "
       "WHERE p.tenant_id = $1 ORDER BY p.position, p.create_time, p.id"},
      {"ticketing_lock_sla_clocks",
       absl::StrCat("SELECT ", ClockText(),
                    " FROM ticketing.sla_clocks s WHERE s.tenant_id = $1 AND s.ticket_id = "
                    "$2::uuid ORDER BY s.metric FOR UPDATE")},
      {"ticketing_delete_sla_clocks",
       "DELETE FROM ticketing.sla_clocks WHERE tenant_id = $1 AND ticket_id = $2::uuid"},
      {"ticketing_insert_sla_clocks", InsertClocksSql()},
      {"ticketing_set_ticket_sla", SetTicketSlaSql(3)},
      // A new ticket's clocks and SLA columns in one round trip.
      {"ticketing_start_sla",
       absl::StrCat("WITH added AS (", InsertClocksSql(), ") ", SetTicketSlaSql(4))},
      // The scheduler, across tenants (app.housekeeping): $1 now in
      // microseconds, $2 the batch. Returns each clock it took and whether
      // its warning and its breach fired now.
      {"ticketing_fire_sla_clocks",
       absl::StrCat(
           "WITH due AS (SELECT c.tenant_id, c.ticket_id, c.metric, c.warned, c.warn_time, "
           "c.breach_time FROM ticketing.sla_clocks c WHERE c.fire_time <= ",
           kNow,
           " ORDER BY c.fire_time LIMIT $2::int FOR UPDATE OF c SKIP LOCKED) UPDATE "
           "ticketing.sla_clocks s SET warned = s.warned OR COALESCE(s.warn_time <= ",
           kNow, ", false), warn_time = CASE WHEN s.warn_time <= ", kNow,
           " THEN NULL ELSE s.warn_time END, breach_time = CASE WHEN s.breach_time IS NULL AND "
           "s.due_time <= ",
           kNow,
           " THEN s.due_time ELSE s.breach_time END, fire_time = CASE "
           "WHEN s.due_time <= ",
           kNow,
           " OR s.breach_time IS NOT NULL THEN NULL ELSE s.due_time END FROM due WHERE "
           "s.tenant_id = due.tenant_id AND s.ticket_id = due.ticket_id AND s.metric = "
           "due.metric RETURNING s.tenant_id, s.ticket_id::text, s.metric, s.target_min, "
           "s.policy_id::text, ",
           Micros("s.due_time"), ", COALESCE(NOT due.warned AND due.warn_time <= ", kNow,
           ", false), (due.breach_time IS NULL AND s.due_time <= ", kNow, "), ",
           Micros("s.start_time"))},
      {"ticketing_mark_sla_breached",
       "UPDATE ticketing.tickets SET sla_breached = true, version = version + 1 WHERE tenant_id "
       "= $1 AND id = ANY($2::uuid[]) AND NOT sla_breached"},
      {"ticketing_next_sla_fire",
       absl::StrCat("SELECT ", Micros("fire_time"),
                    " FROM ticketing.sla_clocks WHERE fire_time IS NOT NULL ORDER BY fire_time "
                    "LIMIT 1")},
  };
  return *statements;
}

absl::Time FromMicros(absl::string_view text) {
  int64_t micros = 0;
  absl::SimpleAtoi(text, &micros);
  return absl::FromUnixMicros(micros);
}

std::optional<absl::Time> OptionalMicros(absl::string_view text) {
  if (text.empty()) return std::nullopt;
  return FromMicros(text);
}

std::optional<SlaTimer> ParseSlaClock(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, '|');
  if (f.size() != 14) return std::nullopt;
  SlaTimer c;
  c.metric = MetricOf(f[0]);
  int64_t n = 0;
  absl::SimpleAtoi(f[1], &n);
  c.target = absl::Minutes(n);
  absl::SimpleAtoi(f[2], &n);
  c.warn_before = absl::Minutes(n);
  c.start = FromMicros(f[3]);
  absl::SimpleAtoi(f[4], &n);
  c.counted = absl::Microseconds(n);
  c.running_since = OptionalMicros(f[5]);
  c.paused_since = OptionalMicros(f[6]);
  absl::SimpleAtoi(f[7], &n);
  c.paused = absl::Microseconds(n);
  c.achieved = OptionalMicros(f[8]);
  c.breached = OptionalMicros(f[9]);
  c.warned = f[10] == "t";
  c.due = OptionalMicros(f[11]);
  c.warn_at = OptionalMicros(f[12]);
  c.policy_id = std::string(f[13]);
  return c;
}

std::string MicrosJson(const std::optional<absl::Time>& t) {
  if (!t || *t == absl::InfiniteFuture()) return "null";
  return absl::StrCat(absl::ToUnixMicros(*t));
}

// The clocks as jsonb_to_recordset reads them in ticketing_insert_sla_clocks.
std::string ClocksJson(const std::vector<SlaTimer>& clocks) {
  std::vector<std::string> rows;
  for (const SlaTimer& c : clocks) {
    rows.push_back(absl::StrCat(
        "{\"metric\":\"", MetricText(c.metric), "\",\"policy_id\":\"", c.policy_id,
        "\",\"target_min\":", absl::ToInt64Minutes(c.target), ",\"warn_before_min\":",
        absl::ToInt64Minutes(c.warn_before), ",\"start_us\":", absl::ToUnixMicros(c.start),
        ",\"counted_us\":", absl::ToInt64Microseconds(c.counted), ",\"running_us\":",
        MicrosJson(c.running_since), ",\"paused_since_us\":", MicrosJson(c.paused_since),
        ",\"paused_us\":", absl::ToInt64Microseconds(c.paused),
        ",\"achieved_us\":", MicrosJson(c.achieved), ",\"breach_us\":", MicrosJson(c.breached),
        ",\"warned\":", c.warned ? "true" : "false", ",\"due_us\":", MicrosJson(c.due),
        ",\"warn_us\":", MicrosJson(c.warn_at), ",\"fire_us\":", MicrosJson(c.FireAt()), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(rows, ","), "]");
}

v1::SlaAlert AlertOf(const std::string& ticket_id, v1::SlaMetric metric, absl::Time due,
                     int64_t target_minutes, const std::string& policy_id, absl::Time start) {
  v1::SlaAlert alert;
  alert.set_ticket(absl::StrCat("tickets/", ticket_id));
  alert.set_metric(metric);
  *alert.mutable_due_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(due));
  alert.set_target_minutes(static_cast<int32_t>(target_minutes));
  alert.set_policy(absl::StrCat("slaPolicies/", policy_id));
  *alert.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(start));
  return alert;
}

}  // namespace

std::string SlaClocksOfTicketSql() {
  return absl::StrCat("(SELECT string_agg(", ClockText(),
                      ", ';' ORDER BY s.metric) FROM ticketing.sla_clocks s WHERE s.tenant_id = "
                      "t.tenant_id AND s.ticket_id = t.id)");
}

std::vector<SlaTimer> ParseSlaClocks(absl::string_view text) {
  std::vector<SlaTimer> clocks;
  if (text.empty()) return clocks;
  for (absl::string_view one : absl::StrSplit(text, ';')) {
    if (auto c = ParseSlaClock(one)) clocks.push_back(std::move(*c));
  }
  return clocks;
}

SlaEngine::SlaEngine(db::Pool& pool) : pool_(pool) { pool_.Prepare(Statements()); }

absl::Status SlaEngine::Apply(db::Tx& tx, const std::string& tenant, v1::Ticket* ticket,
                              const SlaChange& change, bool created) {
  const std::string id = ticket->name().substr(sizeof("tickets/") - 1);
  const auto policies = db::Exec(tx, "ticketing_sla_policies_for_matching", tenant);
  std::vector<SlaTimer> clocks;
  if (!created) {
    for (const auto& row : db::Exec(tx, "ticketing_lock_sla_clocks", tenant, id)) {
      std::vector<SlaTimer> one = ParseSlaClocks(row[0].c_str());
      clocks.insert(clocks.end(), one.begin(), one.end());
    }
  }
  ticket->clear_sla();
  if (policies.empty() && clocks.empty()) return absl::OkStatus();

  std::string policy_id;
  std::optional<SlaTargets> targets;
  for (const auto& row : policies) {
    v1::SlaPolicy policy;
    CRM_RETURN_IF_ERROR(api::MergeJson(row[1].c_str(), policy.mutable_conditions()));
    CRM_RETURN_IF_ERROR(api::MergeJson(row[2].c_str(), &policy));
    if (!PolicyMatches(policy, *ticket)) continue;
    policy_id = row[0].as<std::string>();
    for (const v1::SlaTarget& target : policy.targets()) {
      if (target.priority() != ticket->priority()) continue;
      SlaTargets t;
      t.policy_id = policy_id;
      t.target = target;
      t.warn_before = absl::Minutes(row[3].as<int64_t>());
      if (!row[4].as<std::string>().empty()) {
        v1::BusinessCalendar calendar;
        CRM_RETURN_IF_ERROR(api::MergeJson(row[5].c_str(), &calendar));
        CRM_RETURN_IF_ERROR(api::MergeJson(row[6].c_str(), &calendar));
        calendar.set_time_zone(row[4].as<std::string>());
        calendar.set_display_name(row[7].as<std::string>());
        CRM_ASSIGN_OR_RETURN(t.calendar, CalendarOf(calendar, "calendar"));
      }
      targets = std::move(t);
    }
    break;
  }

  SlaTicket facts;
  facts.status = ticket->status();
  facts.create_time =
      absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ticket->create_time()));
  facts.has_first_response = ticket->has_first_response_time();
  // The cycles met before this change (a cycle is its metric and start).
  std::set<std::pair<v1::SlaMetric, absl::Time>> met_before;
  for (const SlaTimer& c : clocks) {
    if (c.achieved) met_before.insert({c.metric, c.start});
  }
  std::vector<SlaTimer> breached_now;
  clocks = AdvanceClocks(std::move(clocks), targets, facts, change, &breached_now);

  std::optional<absl::Time> next_due;
  bool breached = false;
  v1::TicketSla& sla = *ticket->mutable_sla();
  if (!policy_id.empty()) sla.set_policy(absl::StrCat("slaPolicies/", policy_id));
  for (const SlaTimer& c : clocks) {
    *sla.add_clocks() = c.ToProto();
    breached = breached || c.breached.has_value();
    if (c.due && *c.due != absl::InfiniteFuture() && (!next_due || *c.due < *next_due)) {
      next_due = c.due;
    }
  }
  sla.set_breached(breached);
  if (next_due) {
    *sla.mutable_next_due_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*next_due));
  }
  const std::string due = next_due ? absl::StrCat(absl::ToUnixMicros(*next_due)) : "";
  if (created && !clocks.empty()) {
    db::Exec(tx, "ticketing_start_sla", tenant, id, ClocksJson(clocks), policy_id, due, breached);
  } else {
    if (!created) db::Exec(tx, "ticketing_delete_sla_clocks", tenant, id);
    if (!clocks.empty()) {
      db::Exec(tx, "ticketing_insert_sla_clocks", tenant, id, ClocksJson(clocks));
    }
    db::Exec(tx, "ticketing_set_ticket_sla", tenant, id, policy_id, due, breached);
  }
  for (const SlaTimer& c : breached_now) {
    const v1::SlaAlert alert =
        AlertOf(id, c.metric, *c.breached, absl::ToInt64Minutes(c.target), c.policy_id, c.start);
    events::AppendEvent(tx, kSchema, tenant, "sla.breached", ticket->name(), alert);
  }
  // Targets met in time by this change (one missed was announced when it
  // was missed).
  for (const SlaTimer& c : clocks) {
    if (!c.achieved || c.breached || met_before.count({c.metric, c.start}) > 0) continue;
    v1::SlaOutcome met;
    met.set_ticket(ticket->name());
    met.set_metric(c.metric);
    *met.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(c.start));
    *met.mutable_outcome_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*c.achieved));
    events::AppendEvent(tx, kSchema, tenant, "sla.met", ticket->name(), met);
  }
  return absl::OkStatus();
}

absl::StatusOr<SlaEngine::Fired> SlaEngine::FireDue(absl::Time now, int batch) {
  Fired fired;
  const db::TxOptions options = db::HousekeepingTx(absl::Seconds(30));
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    fired = Fired();
    const auto rows = db::Exec(tx, "ticketing_fire_sla_clocks", absl::ToUnixMicros(now), batch);
    fired.clocks = static_cast<int64_t>(rows.size());
    std::map<std::string, std::vector<v1::SlaAlert>> warnings, breaches;
    std::map<std::string, std::vector<std::string>> breached_tickets;
    for (const auto& row : rows) {
      const std::string tenant = row[0].as<std::string>();
      const std::string ticket = row[1].as<std::string>();
      const v1::SlaAlert alert =
          AlertOf(ticket, MetricOf(row[2].c_str()), FromMicros(row[5].c_str()),
                  row[3].as<int64_t>(), row[4].as<std::string>(), FromMicros(row[8].c_str()));
      if (row[6].as<bool>()) warnings[tenant].push_back(alert);
      if (row[7].as<bool>()) {
        breaches[tenant].push_back(alert);
        breached_tickets[tenant].push_back(ticket);
      }
    }
    // Per tenant, in one statement each: warnings first, as they fell due
    // first when both fire in one pass.
    std::map<std::string, std::vector<events::PendingEvent>> pending;
    for (const auto& [tenant, list] : warnings) {
      for (const v1::SlaAlert& a : list) pending[tenant].push_back({"sla.warning", a.ticket(), &a});
    }
    for (const auto& [tenant, list] : breaches) {
      for (const v1::SlaAlert& a : list) {
        pending[tenant].push_back({"sla.breached", a.ticket(), &a});
      }
    }
    for (const auto& [tenant, events] : pending) events::AppendEvents(tx, kSchema, tenant, events);
    for (const auto& [tenant, ids] : breached_tickets) {
      db::Exec(tx, "ticketing_mark_sla_breached", tenant, db::TextArray(ids));
    }
    for (const auto& [tenant, list] : warnings) fired.warnings += static_cast<int64_t>(list.size());
    for (const auto& [tenant, list] : breaches) fired.breaches += static_cast<int64_t>(list.size());
    const auto next = db::Exec(tx, "ticketing_next_sla_fire");
    if (!next.empty()) fired.next = FromMicros(next[0][0].c_str());
    return absl::OkStatus();
  }));
  return fired;
}

absl::StatusOr<absl::Duration> SlaEngine::Step(absl::Duration poll, int batch) {
  CRM_ASSIGN_OR_RETURN(Fired fired, FireDue(absl::Now(), batch));
  if (fired.clocks >= batch) return absl::ZeroDuration();
  if (!fired.next) return poll;
  return std::clamp(*fired.next - absl::Now(), absl::ZeroDuration(), poll);
}

}  // namespace crm::ticketing
