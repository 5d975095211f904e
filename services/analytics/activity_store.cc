#include "services/analytics/activity_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "crm/interaction/v1/conversation.pb.h"
#include "crm/interaction/v1/delivery.pb.h"
#include "crm/ticketing/v1/ticket.pb.h"
#include "crm/ticketing/v1/ticket_service.pb.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;
namespace tv1 = crm::ticketing::v1;
namespace iv1 = crm::interaction::v1;

// Parameter `n`, microseconds since the epoch (0: none), as a timestamp.
std::string At(int n) {
  return absl::StrCat("CASE WHEN $", n, "::bigint = 0 THEN NULL ELSE to_timestamp($", n,
                      "::double precision / 1000000) END");
}

// A column's timestamp in microseconds (NULL stays NULL).
std::string Micros(const std::string& column) {
  return absl::StrCat("(EXTRACT(EPOCH FROM ", column, ") * 1000000)::bigint");
}

constexpr char kOpen[] = "status NOT IN ('SOLVED', 'CLOSED')";
constexpr char kCounts[] = "status NOT IN ('CANCELLED', 'REFUNDED')";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $13, $14 business seconds (-1: none); $15 'true', 'false' or '';
      // $16 the score (0: none).
      {"analytics_upsert_ticket",
       absl::StrCat(
           "INSERT INTO analytics.tickets AS t (tenant_id, ticket_id, group_name, assignee, "
           "priority, channel, status, merged, create_time, first_response_time, solve_time, "
           "close_time, first_reply_business_seconds, resolution_business_seconds, "
           "csat_satisfied, csat_score, csat_time) VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, ",
           At(9), ", ", At(10), ", ", At(11), ", ", At(12),
           ", NULLIF($13::bigint, -1), NULLIF($14::bigint, -1), NULLIF($15, '')::boolean, "
           "NULLIF($16::int, 0), ",
           At(17),
           ") ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET group_name = excluded.group_name, "
           "assignee = excluded.assignee, priority = excluded.priority, channel = "
           "excluded.channel, status = excluded.status, merged = excluded.merged, "
           "first_response_time = excluded.first_response_time, solve_time = "
           "excluded.solve_time, close_time = excluded.close_time, "
           "first_reply_business_seconds = excluded.first_reply_business_seconds, "
           "resolution_business_seconds = excluded.resolution_business_seconds, csat_satisfied "
           "= COALESCE(excluded.csat_satisfied, t.csat_satisfied), csat_score = "
           "COALESCE(excluded.csat_score, t.csat_score), csat_time = COALESCE(excluded.csat_time, "
           "t.csat_time)")},
      {"analytics_upsert_sla_outcome",
       absl::StrCat("INSERT INTO analytics.sla_outcomes (tenant_id, ticket_id, metric, "
                    "start_time, outcome_time, breached) VALUES ($1, $2::uuid, $3, ",
                    At(4), ", ", At(5),
                    ", $6) ON CONFLICT (tenant_id, ticket_id, metric, start_time) DO UPDATE SET "
                    "outcome_time = excluded.outcome_time, breached = excluded.breached")},
      {"analytics_record_csat",
       absl::StrCat("UPDATE analytics.tickets SET csat_satisfied = $3, csat_score = "
                    "NULLIF($4::int, 0), csat_time = ",
                    At(5), " WHERE tenant_id = $1 AND ticket_id = $2::uuid")},
      {"analytics_insert_sla_breach",
       absl::StrCat("INSERT INTO analytics.sla_breaches (tenant_id, ticket_id, metric, due_time) "
                    "VALUES ($1, $2::uuid, $3, ",
                    At(4), ") ON CONFLICT DO NOTHING")},
      // $8.. the steps reached: sent, delivered, opened, clicked, bounced,
      // failed, complained. A step once reached stays reached.
      {"analytics_upsert_message",
       absl::StrCat(
           "INSERT INTO analytics.messages AS m (tenant_id, message_id, channel, direction, "
           "purpose, template, create_time, sent, delivered, opened, clicked, bounced, failed, "
           "complained) VALUES ($1, $2::uuid, $3, $4, $5, $6, ",
           At(7),
           ", $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (tenant_id, message_id) DO UPDATE SET "
           "channel = excluded.channel, direction = excluded.direction, purpose = "
           "excluded.purpose, template = excluded.template, create_time = excluded.create_time, "
           "sent = m.sent OR excluded.sent, delivered = m.delivered OR excluded.delivered, opened "
           "= m.opened OR excluded.opened, clicked = m.clicked OR excluded.clicked, bounced = "
           "m.bounced OR excluded.bounced, failed = m.failed OR excluded.failed, complained = "
           "m.complained OR excluded.complained")},
      {"analytics_record_unsubscribe",
       absl::StrCat("INSERT INTO analytics.messages (tenant_id, message_id, channel, direction, "
                    "purpose, template, create_time, unsubscribed) VALUES ($1, $2::uuid, $3, "
                    "'OUTBOUND', '', '', ",
                    At(4),
                    ", true) ON CONFLICT (tenant_id, message_id) DO UPDATE SET unsubscribed = "
                    "true")},
      {"analytics_insert_customer",
       absl::StrCat("INSERT INTO analytics.customers (tenant_id, customer, create_time) VALUES "
                    "($1, $2, ",
                    At(3), ") ON CONFLICT DO NOTHING")},
      {"analytics_pseudonymise_customer",
       // (the pseudonym's row may exist already: an erasure applied again)
       "WITH gone AS (DELETE FROM analytics.customers WHERE tenant_id = $1 AND customer = $2 "
       "RETURNING create_time) INSERT INTO analytics.customers (tenant_id, customer, "
       "create_time) SELECT $1, $3, create_time FROM gone ON CONFLICT DO NOTHING"},
      // [$2, $3) in microseconds; $4 a group or ''.
      {"analytics_list_support_tickets",
       absl::StrCat(
           "SELECT group_name, assignee, ", Micros("create_time"), ", ",
           Micros("first_response_time"), ", ", Micros("solve_time"), ", CASE WHEN ", kOpen,
           " THEN NULL ELSE ", Micros("COALESCE(LEAST(solve_time, close_time), create_time)"),
           " END, first_reply_business_seconds, resolution_business_seconds, "
           "csat_satisfied, ",
           Micros("csat_time"),
           " FROM analytics.tickets WHERE tenant_id = $1 AND NOT merged AND create_time "
           "< ",
           At(3), " AND ($4 = '' OR group_name = $4) AND (", kOpen,
           " OR GREATEST(solve_time, close_time, first_response_time, csat_time) >= ", At(2), ")")},
      {"analytics_list_sla_outcomes",
       absl::StrCat("SELECT t.group_name, t.assignee, o.metric, ", Micros("o.outcome_time"),
                    ", o.breached FROM analytics.sla_outcomes o JOIN analytics.tickets t ON "
                    "t.tenant_id = o.tenant_id AND t.ticket_id = o.ticket_id WHERE o.tenant_id = "
                    "$1 AND o.outcome_time >= ",
                    At(2), " AND o.outcome_time < ", At(3),
                    " AND NOT t.merged AND ($4 = '' OR t.group_name = $4)")},
      {"analytics_count_sla_breaches",
       absl::StrCat("SELECT count(*) FROM analytics.sla_breaches b JOIN analytics.tickets t ON "
                    "t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id WHERE b.tenant_id = "
                    "$1 AND b.due_time >= ",
                    At(2), " AND b.due_time < ", At(3),
                    " AND NOT t.merged AND ($4 = '' OR t.group_name = $4)")},
      // Per channel (template NULL) and per channel and template.
      {"analytics_sum_engagement",
       absl::StrCat(
           "SELECT channel, template, GROUPING(template), count(*), count(*) FILTER (WHERE "
           "sent), count(*) FILTER (WHERE delivered), count(*) FILTER (WHERE opened), count(*) "
           "FILTER (WHERE clicked), count(*) FILTER (WHERE bounced), count(*) FILTER (WHERE "
           "failed), count(*) FILTER (WHERE complained), count(*) FILTER (WHERE unsubscribed) "
           "FROM analytics.messages WHERE tenant_id = $1 AND direction = 'OUTBOUND' AND "
           "create_time >= ",
           At(2), " AND create_time < ", At(3),
           " AND ($4 = '' OR purpose = $4) GROUP BY GROUPING SETS ((channel), (channel, "
           "template)) ORDER BY count(*) DESC, channel, template")},
      {"analytics_count_received",
       absl::StrCat("SELECT count(*) FROM analytics.messages WHERE tenant_id = $1 AND direction "
                    "= 'INBOUND' AND create_time >= ",
                    At(2), " AND create_time < ", At(3))},
      {"analytics_notify_kpis", absl::StrCat("SELECT pg_notify('", kKpiChannel, "', $1)")},
      // The dashboard: $2 the start of the day.
      {"analytics_sum_orders_since",
       absl::StrCat("SELECT currency_code, count(*), sum(total_minor - refunded_minor)::bigint "
                    "FROM analytics.orders WHERE tenant_id = $1 AND order_time >= ",
                    At(2), " AND ", kCounts,
                    " GROUP BY currency_code ORDER BY count(*) DESC, currency_code")},
      {"analytics_count_kpis",
       absl::StrCat("SELECT (SELECT count(*) FROM analytics.customers WHERE tenant_id = $1 AND "
                    "create_time >= ",
                    At(2),
                    "), (SELECT count(*) FROM analytics.tickets WHERE tenant_id = $1 AND NOT "
                    "merged AND ",
                    kOpen,
                    "), (SELECT count(*) FROM analytics.sla_breaches WHERE tenant_id = $1 AND "
                    "due_time >= ",
                    At(2),
                    "), (SELECT count(*) FROM analytics.messages WHERE tenant_id = $1 AND "
                    "create_time >= ",
                    At(2), ")")},
  };
  return *statements;
}

int64_t MicrosOf(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}
int64_t MicrosIf(bool set, const google::protobuf::Timestamp& t) { return set ? MicrosOf(t) : 0; }

template <typename Field>
std::optional<absl::Time> TimeAt(const Field& field) {
  if (field.is_null()) return std::nullopt;
  return absl::FromUnixMicros(field.template as<int64_t>());
}

template <typename Field>
std::optional<int64_t> IntAt(const Field& field) {
  if (field.is_null()) return std::nullopt;
  return field.template as<int64_t>();
}

absl::Status BadPayload(const crm::events::v1::Event& event, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(event.type(), " ", event.cursor(), ": payload is not a ", what));
}

void UpsertTicket(db::Tx& tx, const std::string& tenant, const tv1::Ticket& ticket) {
  const std::string id = api::LastSegment(ticket.name());
  int64_t first_reply = -1, resolution = -1;
  for (const tv1::SlaClock& clock : ticket.sla().clocks()) {
    const bool achieved = clock.state() == tv1::SLA_CLOCK_STATE_ACHIEVED;
    if (achieved && clock.metric() == tv1::SLA_METRIC_FIRST_REPLY) {
      first_reply = clock.elapsed_business_seconds();
    }
    if (achieved && clock.metric() == tv1::SLA_METRIC_RESOLUTION) {
      resolution = clock.elapsed_business_seconds();
    }
    if (!achieved && !clock.breached()) continue;  // still running, not yet due
    const google::protobuf::Timestamp& outcome =
        clock.breached() ? clock.breach_time() : clock.achieved_time();
    db::Exec(tx, "analytics_upsert_sla_outcome", tenant, id, api::EnumText(clock.metric()),
             clock.has_start_time() ? MicrosOf(clock.start_time()) : MicrosOf(ticket.create_time()),
             MicrosOf(outcome), clock.breached());
  }
  std::string satisfied;
  int score = 0;
  if (ticket.has_satisfaction()) {
    const tv1::SatisfactionRating& r = ticket.satisfaction();
    score = r.rating_case() == tv1::SatisfactionRating::kScore ? r.score() : 0;
    satisfied = (r.rating_case() == tv1::SatisfactionRating::kGood ? r.good() : r.score() >= 4)
                    ? "true"
                    : "false";
  }
  db::Exec(
      tx, "analytics_upsert_ticket", tenant, id, ticket.group(), ticket.assignee(),
      api::EnumText(ticket.priority()), api::EnumText(ticket.channel()),
      api::EnumText(ticket.status()), !ticket.merged_into().empty(), MicrosOf(ticket.create_time()),
      MicrosIf(ticket.has_first_response_time(), ticket.first_response_time()),
      MicrosIf(ticket.has_solve_time(), ticket.solve_time()),
      MicrosIf(ticket.has_close_time(), ticket.close_time()), first_reply, resolution, satisfied,
      score,
      ticket.has_satisfaction()
          ? MicrosIf(ticket.satisfaction().has_create_time(), ticket.satisfaction().create_time())
          : 0);
}

}  // namespace

ActivityStore::ActivityStore(db::Pool& pool, FactStore& facts) : pool_(pool), facts_(facts) {
  pool_.Prepare(Statements());
}

absl::Status ActivityStore::ApplyTicketingEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  const std::string& tenant = event.tenant();
  const std::string& type = event.type();
  if (type == "ticket.created" || type == "ticket.status_changed" || type == "ticket.updated" ||
      type == "ticket.escalated" || type == "ticket.assigned") {
    tv1::Ticket ticket;
    if (!event.payload().UnpackTo(&ticket) || api::LastSegment(ticket.name()).empty()) {
      return BadPayload(event, "Ticket");
    }
    UpsertTicket(tx, tenant, ticket);
  } else if (type == "ticket.merged") {
    tv1::MergeTicketsResponse merge;
    if (!event.payload().UnpackTo(&merge) || merge.source().name().empty() ||
        merge.target().name().empty()) {
      return BadPayload(event, "MergeTicketsResponse");
    }
    UpsertTicket(tx, tenant, merge.source());
    UpsertTicket(tx, tenant, merge.target());
  } else if (type == "csat.submitted") {
    tv1::SatisfactionRating rating;
    const std::string id = api::LastSegment(event.subject());
    if (!event.payload().UnpackTo(&rating) || id.empty() ||
        rating.rating_case() == tv1::SatisfactionRating::RATING_NOT_SET) {
      return BadPayload(event, "SatisfactionRating");
    }
    const bool good = rating.rating_case() == tv1::SatisfactionRating::kGood;
    db::Exec(tx, "analytics_record_csat", tenant, id, good ? rating.good() : rating.score() >= 4,
             good ? 0 : rating.score(),
             MicrosOf(rating.has_create_time() ? rating.create_time() : event.create_time()));
  } else if (type == "sla.breached") {
    tv1::SlaAlert alert;
    if (!event.payload().UnpackTo(&alert) || api::LastSegment(alert.ticket()).empty()) {
      return BadPayload(event, "SlaAlert");
    }
    if (alert.has_start_time()) {
      // The missed cycle's outcome now, not when the ticket next changes.
      tv1::SlaOutcome missed;
      missed.set_ticket(alert.ticket());
      missed.set_metric(alert.metric());
      *missed.mutable_start_time() = alert.start_time();
      *missed.mutable_outcome_time() = alert.due_time();
      missed.set_breached(true);
      LoadSlaOutcome(tx, tenant, missed);
    } else {  // published before the alert named its cycle
      db::Exec(tx, "analytics_insert_sla_breach", tenant, api::LastSegment(alert.ticket()),
               api::EnumText(alert.metric()), MicrosOf(alert.due_time()));
    }
  } else if (type == "sla.met") {
    tv1::SlaOutcome met;
    if (!event.payload().UnpackTo(&met) || api::LastSegment(met.ticket()).empty()) {
      return BadPayload(event, "SlaOutcome");
    }
    LoadSlaOutcome(tx, tenant, met);
  } else {
    return absl::OkStatus();  // not asked for
  }
  facts_.RecordFreshness(tx, tenant, "ticketing", event.create_time());
  return absl::OkStatus();
}

void ActivityStore::LoadTicket(db::Tx& tx, const std::string& tenant, const tv1::Ticket& ticket) {
  UpsertTicket(tx, tenant, ticket);
}

void ActivityStore::LoadSlaOutcome(db::Tx& tx, const std::string& tenant,
                                   const tv1::SlaOutcome& outcome) {
  const std::string id = api::LastSegment(outcome.ticket());
  const std::string metric(api::EnumText(outcome.metric()));
  db::Exec(tx, "analytics_upsert_sla_outcome", tenant, id, metric, MicrosOf(outcome.start_time()),
           MicrosOf(outcome.outcome_time()), outcome.breached());
  // A missed target's outcome time is when it fell due: what sla.breached
  // announced.
  if (outcome.breached()) {
    db::Exec(tx, "analytics_insert_sla_breach", tenant, id, metric,
             MicrosOf(outcome.outcome_time()));
  }
}

void ActivityStore::LoadMessage(db::Tx& tx, const std::string& tenant, const iv1::Message& m) {
  bool reached[iv1::DeliveryStatus_ARRAYSIZE] = {};
  reached[m.delivery_status()] = true;
  for (const iv1::DeliveryStep& step : m.delivery_history()) reached[step.status()] = true;
  const auto any = [&reached](std::initializer_list<iv1::DeliveryStatus> statuses) {
    for (iv1::DeliveryStatus s : statuses) {
      if (reached[s]) return true;
    }
    return false;
  };
  const bool clicked = reached[iv1::DELIVERY_STATUS_CLICKED];
  const bool opened = clicked || reached[iv1::DELIVERY_STATUS_OPENED];
  const bool delivered =
      opened || any({iv1::DELIVERY_STATUS_DELIVERED, iv1::DELIVERY_STATUS_COMPLAINED});
  const bool bounced = reached[iv1::DELIVERY_STATUS_BOUNCED];
  const bool sent = delivered || bounced || reached[iv1::DELIVERY_STATUS_SENT];
  const bool inbound = m.direction() == iv1::DIRECTION_INBOUND;
  db::Exec(tx, "analytics_upsert_message", tenant, api::LastSegment(m.name()),
           api::EnumText(m.channel()), api::EnumText(m.direction()),
           inbound ? "" : api::EnumText(m.purpose()), m.template_(), MicrosOf(m.create_time()),
           sent && !inbound, delivered && !inbound, opened, clicked, bounced,
           reached[iv1::DELIVERY_STATUS_FAILED], reached[iv1::DELIVERY_STATUS_COMPLAINED]);
}

void ActivityStore::LoadUnsubscribe(db::Tx& tx, const std::string& tenant,
                                    const iv1::Unsubscribe& u) {
  db::Exec(tx, "analytics_record_unsubscribe", tenant, api::LastSegment(u.message()),
           api::EnumText(u.channel()), MicrosOf(u.create_time()));
}

absl::Status ActivityStore::ApplyInteractionEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  const std::string& tenant = event.tenant();
  const std::string& type = event.type();
  if (type == "message.received" || type == "message.sent" || type == "message.delivery_changed") {
    iv1::Message m;
    if (!event.payload().UnpackTo(&m) || api::LastSegment(m.name()).empty()) {
      return BadPayload(event, "Message");
    }
    if (!m.has_create_time()) *m.mutable_create_time() = event.create_time();
    LoadMessage(tx, tenant, m);
  } else if (type == "unsubscribe.recorded") {
    iv1::Unsubscribe u;
    if (!event.payload().UnpackTo(&u) || api::LastSegment(u.message()).empty()) {
      return BadPayload(event, "Unsubscribe");
    }
    if (!u.has_create_time()) *u.mutable_create_time() = event.create_time();
    LoadUnsubscribe(tx, tenant, u);
  } else {
    return absl::OkStatus();
  }
  facts_.RecordFreshness(tx, tenant, "interaction", event.create_time());
  return absl::OkStatus();
}

absl::Status ActivityStore::ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  if (event.type() == "customer.created") {
    db::Exec(tx, "analytics_insert_customer", event.tenant(), event.subject(),
             MicrosOf(event.create_time()));
  } else if (event.type() == "customer.erased") {
    db::Exec(tx, "analytics_pseudonymise_customer", event.tenant(), event.subject(),
             ErasedPseudonym(event.tenant(), event.subject()));
  }
  return absl::OkStatus();
}

void ActivityStore::Changed(db::Tx& tx, const std::string& tenant) {
  db::Exec(tx, "analytics_notify_kpis", tenant);
}

absl::StatusOr<ActivityStore::SupportFacts> ActivityStore::Support(const server::CallScope& scope,
                                                                   absl::Time start, absl::Time end,
                                                                   const std::string& group) {
  SupportFacts out;
  const int64_t from = absl::ToUnixMicros(start), to = absl::ToUnixMicros(end);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = SupportFacts();
    for (const auto& row :
         db::Exec(tx, "analytics_list_support_tickets", scope.tenant, from, to, group)) {
      TicketFact t;
      t.group = row[0].as<std::string>();
      t.assignee = row[1].as<std::string>();
      t.create = absl::FromUnixMicros(row[2].as<int64_t>());
      t.first_response = TimeAt(row[3]);
      t.solve = TimeAt(row[4]);
      t.done = TimeAt(row[5]);
      t.first_reply_business_seconds = IntAt(row[6]);
      t.resolution_business_seconds = IntAt(row[7]);
      if (!row[8].is_null()) t.csat_satisfied = row[8].as<bool>();
      t.csat_time = TimeAt(row[9]);
      out.tickets.push_back(std::move(t));
    }
    for (const auto& row :
         db::Exec(tx, "analytics_list_sla_outcomes", scope.tenant, from, to, group)) {
      out.outcomes.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                              row[2].as<std::string>(), absl::FromUnixMicros(row[3].as<int64_t>()),
                              row[4].as<bool>()});
    }
    out.breaches = db::Exec(tx, "analytics_count_sla_breaches", scope.tenant, from, to, group)[0][0]
                       .as<int64_t>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ActivityStore::Engagement> ActivityStore::EngagementIn(
    const server::CallScope& scope, absl::Time start, absl::Time end, const std::string& purpose) {
  Engagement out;
  const int64_t from = absl::ToUnixMicros(start), to = absl::ToUnixMicros(end);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = Engagement();
    for (const auto& row :
         db::Exec(tx, "analytics_sum_engagement", scope.tenant, from, to, purpose)) {
      v1::EngagementFigures f;
      f.set_channel(row[0].as<std::string>());
      const bool per_channel = row[2].as<int>() == 1;
      if (!per_channel) f.set_template_(row[1].as<std::string>());
      f.set_messages(row[3].as<int64_t>());
      f.set_sent(row[4].as<int64_t>());
      f.set_delivered(row[5].as<int64_t>());
      f.set_opened(row[6].as<int64_t>());
      f.set_clicked(row[7].as<int64_t>());
      f.set_bounced(row[8].as<int64_t>());
      f.set_failed(row[9].as<int64_t>());
      f.set_complained(row[10].as<int64_t>());
      f.set_unsubscribed(row[11].as<int64_t>());
      EngagementRates(&f);
      (per_channel ? out.channels : out.templates).push_back(std::move(f));
    }
    out.received =
        db::Exec(tx, "analytics_count_received", scope.tenant, from, to)[0][0].as<int64_t>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<KpiCounts> ActivityStore::Kpis(const std::string& tenant, absl::Time day_start) {
  KpiCounts out;
  db::TxOptions options;
  options.tenant = tenant;
  options.read_only = true;
  options.deadline = absl::Now() + absl::Seconds(5);
  const int64_t since = absl::ToUnixMicros(day_start);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    out = KpiCounts();
    for (const auto& row : db::Exec(tx, "analytics_sum_orders_since", tenant, since)) {
      out.revenue.push_back({row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
    }
    const auto counts = db::Exec(tx, "analytics_count_kpis", tenant, since);
    out.new_customers = counts[0][0].as<int64_t>();
    out.open_tickets = counts[0][1].as<int64_t>();
    out.sla_breaches = counts[0][2].as<int64_t>();
    out.messages = counts[0][3].as<int64_t>();
    out.freshness = facts_.Freshness(tx, tenant);
    return absl::OkStatus();
  }));
  return out;
}

void EngagementRates(v1::EngagementFigures* f) {
  const auto ratio = [](int64_t a, int64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  f->set_delivery_rate(ratio(f->delivered(), f->sent()));
  f->set_open_rate(ratio(f->opened(), f->delivered()));
  f->set_click_rate(ratio(f->clicked(), f->delivered()));
  f->set_bounce_rate(ratio(f->bounced(), f->sent()));
  f->set_unsubscribe_rate(ratio(f->unsubscribed(), f->delivered()));
}

}  // namespace crm::analytics
