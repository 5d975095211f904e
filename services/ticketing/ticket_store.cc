#include "services/ticketing/ticket_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/filter.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/server/snapshot_export.h"
#include "services/ticketing/sla_engine.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_rows.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;
using v1::Comment;
using v1::Ticket;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kDefaultCommentPageSize = 100;

// Columns every ticket read selects from `ticketing.tickets t`, in the order
// TicketFromRow expects; times as microseconds since the epoch.
const std::string& TicketColumns() {
  static const auto* columns = new std::string(absl::StrCat(
      "t.id::text, t.requester, COALESCE(t.order_name, ''), t.subject, t.description, t.channel, "
      "COALESCE(t.source_conversation, ''), t.type, t.priority, t.status, "
      "array_to_string(t.tags, ','), (EXTRACT(EPOCH FROM t.create_time) * 1000000)::bigint, "
      "(EXTRACT(EPOCH FROM t.update_time) * 1000000)::bigint, "
      "(EXTRACT(EPOCH FROM t.first_response_time) * 1000000)::bigint, "
      "(EXTRACT(EPOCH FROM t.solve_time) * 1000000)::bigint, "
      "(EXTRACT(EPOCH FROM t.close_time) * 1000000)::bigint, t.version, "
      "COALESCE(t.merged_into::text, ''), COALESCE(t.custom_status::text, ''), "
      "array_to_string(t.requester_tags, ','), COALESCE(t.sla_policy_id::text, ''), "
      "COALESCE(((EXTRACT(EPOCH FROM t.sla_due_time) * 1000000)::bigint)::text, ''), "
      "t.sla_breached, COALESCE(",
      SlaClocksOfTicketSql(),
      ", ''), COALESCE(t.satisfaction::text, ''), "
      "COALESCE(t.group_id::text, ''), COALESCE(t.assignee_id::text, ''), "
      "CASE WHEN t.custom_fields = '{}' THEN '' ELSE jsonb_build_object('customFields', "
      "t.custom_fields)::text END, "
      "array_to_string(t.followers, ','), t.language"));
  return *columns;
}
constexpr int kTicketColumnCount = 30;

// The same for `ticketing.custom_statuses s` and CustomStatusFromRow.
constexpr char kCustomStatusColumns[] =
    "s.id::text, s.label, s.category, s.description, "
    "(EXTRACT(EPOCH FROM s.create_time) * 1000000)::bigint";

// The same for `ticketing.ticket_comments c` and CommentFromRow.
constexpr char kCommentColumns[] =
    "c.ticket_id::text, c.id, c.author_kind, c.author, c.body, c.public, c.attachments::text, "
    "(EXTRACT(EPOCH FROM c.create_time) * 1000000)::bigint";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // ExportTickets (server::kExportAfter): tickets, then each ticket's
      // SLA outcomes as "metric|start|outcome|t-or-f" joined by ';'.
      {"ticketing_export_tickets",
       absl::StrCat("SELECT ", TicketColumns(), ", t.tenant_id FROM ticketing.tickets t WHERE ",
                    server::kExportAfter)},
      {"ticketing_export_sla_outcomes",
       absl::StrCat("SELECT tenant_id, id::text, outcomes FROM (SELECT tenant_id, ticket_id AS id, "
                    "string_agg(concat_ws('|', metric, (EXTRACT(EPOCH FROM start_time) * "
                    "1000000)::bigint, (EXTRACT(EPOCH FROM outcome_time) * 1000000)::bigint, "
                    "CASE WHEN breached THEN 't' ELSE 'f' END), ';' ORDER BY metric, start_time) "
                    "AS outcomes FROM ticketing.sla_outcomes GROUP BY tenant_id, ticket_id) o "
                    "WHERE ",
                    server::kExportAfter)},
      {"ticketing_insert_ticket",
       absl::StrCat("INSERT INTO ticketing.tickets AS t (tenant_id, requester, order_name, "
                    "subject, description, channel, source_conversation, type, priority, status, "
                    "tags, requester_tags, custom_fields, followers, language) VALUES ($1, $2, "
                    "NULLIF($3, ''), $4, $5, $6, NULLIF($7, ''), $8, $9, $10, $11::text[], "
                    "$12::text[], COALESCE($13::jsonb->'customFields', '{}'), $14::text[], $15) "
                    "RETURNING ",
                    TicketColumns(),
                    // Whether any rule runs on create: in the same round trip,
                    // so that a tenant without rules pays nothing for them.
                    ", EXISTS (SELECT 1 FROM ticketing.rules r WHERE r.tenant_id = t.tenant_id "
                    "AND NOT r.disabled AND 'CREATED' = ANY(r.triggers))")},
      {"ticketing_get_ticket",
       absl::StrCat("SELECT ", TicketColumns(),
                    " FROM ticketing.tickets t WHERE t.tenant_id = $1 AND t.id = $2::uuid")},
      {"ticketing_lock_ticket",
       absl::StrCat("SELECT ", TicketColumns(),
                    " FROM ticketing.tickets t WHERE t.tenant_id = $1 AND t.id = $2::uuid FOR "
                    "UPDATE")},
      // $3 the new category, $4 the custom status ('' for none): reaching
      // SOLVED stamps solve_time, reaching CLOSED close_time.
      {"ticketing_update_status",
       absl::StrCat("UPDATE ticketing.tickets t SET status = $3, custom_status = NULLIF($4, "
                    "'')::uuid, update_time = now(), version = t.version + 1, solve_time = CASE "
                    "WHEN $3 = 'SOLVED' AND t.status <> 'SOLVED' THEN now() ELSE t.solve_time "
                    "END, close_time = CASE WHEN $3 = 'CLOSED' AND t.status <> 'CLOSED' THEN "
                    "now() ELSE t.close_time END WHERE t.tenant_id = $1 AND t.id = $2::uuid "
                    "RETURNING ",
                    TicketColumns())},
      // UpdateTicket: every updatable field from the ticket as changed.
      {"ticketing_update_ticket",
       absl::StrCat("UPDATE ticketing.tickets t SET subject = $3, description = $4, priority = "
                    "$5, type = $6, tags = $7::text[], order_name = NULLIF($8, ''), "
                    "custom_fields = COALESCE($9::jsonb->'customFields', '{}'), followers = "
                    "$10::text[], language = $11, update_time = now(), version = t.version + 1 "
                    "WHERE t.tenant_id = $1 AND t.id = $2::uuid RETURNING ",
                    TicketColumns())},
      // SubmitSatisfactionRating: $3 the rating's JSON, $4 whether good.
      {"ticketing_rate_ticket",
       absl::StrCat("UPDATE ticketing.tickets t SET satisfaction = $3::jsonb, satisfaction_good = "
                    "$4::boolean, update_time = now(), version = t.version + 1 WHERE t.tenant_id = "
                    "$1 AND t.id = $2::uuid RETURNING ",
                    TicketColumns())},
      {"ticketing_insert_custom_status",
       absl::StrCat("INSERT INTO ticketing.custom_statuses AS s (tenant_id, label, category, "
                    "description) VALUES ($1, $2, $3, $4) RETURNING ",
                    kCustomStatusColumns)},
      {"ticketing_find_custom_status_label",
       "SELECT 1 FROM ticketing.custom_statuses WHERE tenant_id = $1 AND lower(label) = "
       "lower($2)"},
      {"ticketing_get_custom_status",
       absl::StrCat(
           "SELECT ", kCustomStatusColumns,
           " FROM ticketing.custom_statuses s WHERE s.tenant_id = $1 AND s.id = $2::uuid")},
      {"ticketing_list_custom_statuses",
       absl::StrCat("SELECT ", kCustomStatusColumns,
                    " FROM ticketing.custom_statuses s WHERE s.tenant_id = $1 ORDER BY "
                    "s.category, lower(s.label)")},
      // After a comment: $3 whether it is a first response, $4 the status
      // it moves the ticket to ('' for none).
      {"ticketing_touch_ticket",
       absl::StrCat("UPDATE ticketing.tickets t SET update_time = now(), version = t.version + 1, "
                    "first_response_time = CASE WHEN $3::boolean THEN COALESCE("
                    "t.first_response_time, now()) ELSE t.first_response_time END, status = "
                    "COALESCE(NULLIF($4, ''), t.status), custom_status = CASE WHEN $4 = '' THEN "
                    "t.custom_status END WHERE t.tenant_id = $1 AND t.id = $2::uuid RETURNING ",
                    TicketColumns())},
      // Housekeeping: $1 seconds since solving, $2 the batch; across tenants
      // (app.housekeeping), the tenant last.
      {"ticketing_close_solved_tickets",
       absl::StrCat(
           "WITH due AS (SELECT tenant_id, id FROM ticketing.tickets WHERE status = "
           "'SOLVED' AND solve_time < now() - $1::bigint * interval '1 second' ORDER BY "
           "solve_time LIMIT $2::int FOR UPDATE SKIP LOCKED) UPDATE ticketing.tickets t "
           "SET status = 'CLOSED', custom_status = NULL, close_time = now(), update_time = "
           "now(), version = t.version + 1 FROM due WHERE t.tenant_id = due.tenant_id AND t.id = "
           "due.id "
           "RETURNING ",
           TicketColumns(), ", t.tenant_id")},
      // MergeTickets: $2 the source, $3 the target.
      {"ticketing_move_comments",
       "UPDATE ticketing.ticket_comments SET ticket_id = $3::uuid WHERE tenant_id = $1 AND "
       "ticket_id = $2::uuid"},
      {"ticketing_close_merged",
       absl::StrCat("UPDATE ticketing.tickets t SET status = 'CLOSED', custom_status = NULL, "
                    "close_time = now(), merged_into = $3::uuid, update_time = now(), version = "
                    "t.version + 1 WHERE "
                    "t.tenant_id = $1 AND t.id = $2::uuid RETURNING ",
                    TicketColumns())},
      {"ticketing_insert_comment",
       absl::StrCat("INSERT INTO ticketing.ticket_comments AS c (tenant_id, ticket_id, "
                    "author_kind, author, body, public, attachments) VALUES ($1, $2::uuid, $3, "
                    "$4, $5, $6, $7::jsonb) RETURNING ",
                    kCommentColumns)},
      // $3 the last comment id of the previous page (0 for the first).
      {"ticketing_list_comments",
       absl::StrCat("SELECT ", kCommentColumns,
                    " FROM ticketing.ticket_comments c WHERE c.tenant_id = $1 AND c.ticket_id = "
                    "$2::uuid AND c.id > $3::bigint ORDER BY c.id LIMIT $4::int")},
  };
  return *statements;
}

template <typename Row>
Ticket TicketFromRow(const Row& row) {
  const auto text = [&row](int i) { return std::string(row[i].c_str()); };
  const auto micros = [&row](int i) {
    int64_t value = 0;
    absl::SimpleAtoi(row[i].c_str(), &value);
    return TimeUtil::MicrosecondsToTimestamp(value);
  };
  Ticket t;
  t.set_name(absl::StrCat("tickets/", text(0)));
  t.set_requester(text(1));
  t.set_order(text(2));
  t.set_subject(text(3));
  t.set_description(text(4));
  t.set_channel(ChannelOf(text(5)));
  t.set_source_conversation(text(6));
  t.set_type(TypeOf(text(7)));
  t.set_priority(PriorityOf(text(8)));
  t.set_status(StatusOf(text(9)));
  const std::string tags = text(10);
  if (!tags.empty()) {
    for (absl::string_view tag : absl::StrSplit(tags, ',')) t.add_tags(std::string(tag));
  }
  *t.mutable_create_time() = micros(11);
  *t.mutable_update_time() = micros(12);
  if (!row[13].is_null()) *t.mutable_first_response_time() = micros(13);
  if (!row[14].is_null()) *t.mutable_solve_time() = micros(14);
  if (!row[15].is_null()) *t.mutable_close_time() = micros(15);
  int64_t version = 0;
  absl::SimpleAtoi(row[16].c_str(), &version);
  t.set_etag(api::EtagOf(version));
  if (!text(17).empty()) t.set_merged_into(absl::StrCat("tickets/", text(17)));
  if (!text(18).empty()) t.set_custom_status(absl::StrCat("customStatuses/", text(18)));
  const std::string requester_tags = text(19);
  if (!requester_tags.empty()) {
    for (absl::string_view tag : absl::StrSplit(requester_tags, ',')) {
      t.add_requester_tags(std::string(tag));
    }
  }
  const std::vector<SlaTimer> clocks = ParseSlaClocks(text(23));
  if (!text(20).empty() || !clocks.empty()) {
    v1::TicketSla& sla = *t.mutable_sla();
    if (!text(20).empty()) sla.set_policy(absl::StrCat("slaPolicies/", text(20)));
    if (!text(21).empty()) *sla.mutable_next_due_time() = micros(21);
    sla.set_breached(text(22) == "t");
    for (const SlaTimer& c : clocks) *sla.add_clocks() = c.ToProto();
  }
  if (!text(24).empty()) {
    api::MergeJson(text(24), t.mutable_satisfaction()).IgnoreError();  // written by us
  }
  if (!text(25).empty()) t.set_group(absl::StrCat("groups/", text(25)));
  if (!text(26).empty()) t.set_assignee(absl::StrCat("agents/", text(26)));
  if (!text(27).empty()) {
    api::MergeJson(text(27), &t).IgnoreError();  // written by us: custom fields only
  }
  for (const std::string& f : db::SplitJoined(text(28))) t.add_followers(f);
  t.set_language(text(29));
  return t;
}

Comment CommentFromRow(const pqxx::row& row) {
  Comment c;
  c.set_name(
      absl::StrCat("tickets/", row[0].as<std::string>(), "/comments/", row[1].as<int64_t>()));
  c.set_author_kind(AuthorKindOf(row[2].as<std::string>()));
  c.set_author(row[3].as<std::string>());
  c.set_body(row[4].as<std::string>());
  c.set_public_(row[5].as<bool>());
  api::MergeJson(row[6].c_str(), &c).IgnoreError();  // written by us: attachments only
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[7].as<int64_t>());
  return c;
}

v1::CustomStatus CustomStatusFromRow(const pqxx::row& row) {
  v1::CustomStatus s;
  s.set_name(absl::StrCat("customStatuses/", row[0].as<std::string>()));
  s.set_label(row[1].as<std::string>());
  s.set_category(StatusOf(row[2].as<std::string>()));
  s.set_description(row[3].as<std::string>());
  *s.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[4].as<int64_t>());
  return s;
}

std::string TagsLiteral(const Ticket& t) {
  return absl::StrCat("{", absl::StrJoin(t.tags(), ","), "}");
}

// A change's time from the database's stamp on the row, so that clocks and
// the ticket's times agree.
absl::Time Now(const google::protobuf::Timestamp& stamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(stamp));
}

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("tickets/", id, " not found"));
}

// The ticket, locked for the rest of the transaction; NOT_FOUND when absent.
absl::StatusOr<Ticket> LockTicket(db::Tx& tx, const std::string& tenant, const std::string& id) {
  auto rows = db::Exec(tx, "ticketing_lock_ticket", tenant, id);
  if (rows.empty()) return NotFound(id);
  return TicketFromRow(rows[0]);
}

std::vector<api::FilterField> TicketFilterFields() {
  using api::FieldType;
  return {
      {"status", "t.status"},
      {"priority", "t.priority"},
      {"type", "t.type"},
      {"channel", "t.channel"},
      {"requester", "t.requester"},
      {"order", "t.order_name"},
      {"subject", "t.subject", FieldType::kString, true},
      {"tags", "t.tags", FieldType::kStringList},
      {"create_time", "t.create_time", FieldType::kTimestamp},
      {"update_time", "t.update_time", FieldType::kTimestamp},
      {"custom_status", "'customStatuses/' || t.custom_status::text"},
      {"sla_policy", "'slaPolicies/' || t.sla_policy_id::text"},
      {"sla_breached", "t.sla_breached", FieldType::kBool},
      {"sla_due_time", "t.sla_due_time", FieldType::kTimestamp},
      {"satisfaction_good", "t.satisfaction_good", FieldType::kBool},
      {"group", "'groups/' || t.group_id::text"},
      {"assignee", "'agents/' || t.assignee_id::text"},
      {"followers", "t.followers", FieldType::kStringList},
      {"language", "t.language"},
  };
}

}  // namespace

namespace internal {
const std::string& TicketSelectColumns() { return TicketColumns(); }
v1::Ticket TicketOf(const pqxx::row& row) { return TicketFromRow(row); }
v1::Comment CommentOf(const pqxx::row& row) { return CommentFromRow(row); }
absl::StatusOr<v1::Ticket> LockTicketRow(pqxx::dbtransaction& tx, const std::string& tenant,
                                         const std::string& id) {
  return LockTicket(tx, tenant, id);
}
}  // namespace internal

TicketStore::TicketStore(db::Pool& pool, db::Reader& reader, api::PageTokenCodec tokens,
                         SlaEngine& sla, RoutingStore& routing, RuleStore& rules)
    : pool_(pool),
      reader_(reader),
      tokens_(std::move(tokens)),
      idempotency_(pool, kSchema),
      sla_(sla),
      routing_(routing),
      rules_(rules) {
  pool_.Prepare(Statements());
  pool_.Prepare(internal::CustomerEffectStatements());
  pool_.Prepare(internal::RoutingStatements());
  pool_.Prepare(internal::FieldStatements());
}

absl::StatusOr<Ticket> TicketStore::Create(const server::CallScope& scope, Ticket ticket,
                                           const std::string& request_id,
                                           const std::string& request_hash) {
  Ticket created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "CreateTicket",
                                                            request_id, request_hash, &created));
    if (replayed) return absl::OkStatus();
    CRM_RETURN_IF_ERROR(
        CheckFieldsAndFollowers(tx, scope.tenant, ticket, true, !ticket.followers().empty()));
    auto rows = db::Exec(
        tx, "ticketing_insert_ticket", scope.tenant, ticket.requester(), ticket.order(),
        ticket.subject(), ticket.description(), ChannelText(ticket.channel()),
        ticket.source_conversation(), TypeText(ticket.type()), PriorityText(ticket.priority()),
        StatusText(ticket.status()), TagsLiteral(ticket),
        db::TextArray({ticket.requester_tags().begin(), ticket.requester_tags().end()}),
        internal::CustomFieldsJson(ticket),
        db::TextArray({ticket.followers().begin(), ticket.followers().end()}), ticket.language());
    created = TicketFromRow(rows[0]);
    const bool rules_on_create = rows[0][kTicketColumnCount].as<bool>();
    if (!ticket.group().empty()) {  // routed at once, published as created
      const std::string group = ticket.group().substr(sizeof("groups/") - 1);
      CRM_RETURN_IF_ERROR(routing_.CheckGroup(tx, scope.tenant, group));
      CRM_ASSIGN_OR_RETURN(created, RouteInTx(tx, scope.tenant, created, group, false));
    }
    SlaChange change;
    change.now = Now(created.create_time());
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, &created, change, /*created=*/true));
    events::AppendEvent(tx, kSchema, scope.tenant, "ticket.created", created.name(), created);
    if (rules_on_create) {
      CRM_RETURN_IF_ERROR(
          RunRules(tx, scope.tenant, v1::RULE_TRIGGER_CREATED, "CreateTicket", Ticket(), &created));
    }
    idempotency_.Store(tx, scope.tenant, "CreateTicket", request_id, request_hash, created);
    return absl::OkStatus();
  }));
  return created;
}

void TicketStore::Get(const server::CallScope& scope, const std::string& id,
                      std::function<void(absl::StatusOr<Ticket>)> done) {
  reader_.Read(
      server::TxFor(scope), "ticketing_get_ticket",
      [id, done = std::move(done)](absl::StatusOr<db::Rows> rows) {
        if (!rows.ok()) return done(rows.status());
        if (rows->empty()) return done(NotFound(id));
        done(TicketFromRow((*rows)[0]));
      },
      scope.tenant, id);
}

absl::StatusOr<v1::ListTicketsResponse> TicketStore::List(const server::CallScope& scope,
                                                          const v1::ListTicketsRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  // $1 tenant, $2/$3 keyset position, filter parameters from $4.
  std::vector<api::FilterField> fields = TicketFilterFields();
  if (absl::StrContains(request.filter(), "custom_fields.")) {
    CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
      for (auto& f : CustomFieldFilters(tx, scope.tenant)) fields.push_back(std::move(f));
      return absl::OkStatus();
    }));
  }
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter, api::CompileFilter(request.filter(), fields, 4));
  std::vector<std::string> params = {scope.tenant, "", ""};
  std::string keyset = "($2 = '' AND $3 = '')";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), request.filter()));
    int64_t micros = 0;
    if (key.size() != 2 || !absl::SimpleAtoi(key[0], &micros)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    params[1] = key[0];
    params[2] = key[1];
    keyset =
        "(t.create_time, t.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', "
        "$3::uuid)";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const std::string sql = absl::StrCat(
      "SELECT ", TicketColumns(), " FROM ticketing.tickets t WHERE t.tenant_id = $1 AND ", keyset,
      " AND ", filter.sql, " ORDER BY t.create_time DESC, t.id DESC LIMIT ",
      db::PageLimit(page_size));
  v1::ListTicketsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    // The best plan is the same for any values (an index on status or
    // requester, or create_time order), so it is made once.
    auto rows = db::ExecDynamic(tx, "ticketing_list_tickets", sql, params,
                                db::Planning::kOncePerConnection);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, request.filter(),
        [&](const pqxx::row& row) { *response.add_tickets() = TicketFromRow(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[11].as<std::string>(), last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<Ticket> TicketStore::Find(const server::CallScope& scope, const std::string& id) {
  Ticket found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_get_ticket", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    found = TicketFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<Ticket> TicketStore::Update(const server::CallScope& scope, const std::string& id,
                                           const Ticket& patch,
                                           const std::vector<std::string>& paths) {
  Ticket updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(Ticket current, LockTicket(tx, scope.tenant, id));
    CRM_RETURN_IF_ERROR(api::CheckEtag(patch.etag(), current.etag(), "ticket"));
    if (current.status() == v1::STATUS_CLOSED) {
      return absl::FailedPreconditionError(
          absl::StrCat(current.name(), " is closed: closed tickets do not change"));
    }
    Ticket next = current;
    ApplyTicketUpdate(patch, paths, &next);
    bool fields = false, followers = false;
    for (const std::string& p : paths) {
      fields = fields || absl::StartsWith(p, "custom_fields");
      followers = followers || p == "followers";
    }
    CRM_RETURN_IF_ERROR(CheckFieldsAndFollowers(tx, scope.tenant, next, fields, followers));
    updated = TicketFromRow(db::Exec(
        tx, "ticketing_update_ticket", scope.tenant, id, next.subject(), next.description(),
        PriorityText(next.priority()), TypeText(next.type()), TagsLiteral(next), next.order(),
        internal::CustomFieldsJson(next),
        db::TextArray({next.followers().begin(), next.followers().end()}), next.language())[0]);
    SlaChange change;
    change.status_before = current.status();
    change.now = Now(updated.update_time());
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, &updated, change));
    events::AppendEvent(tx, kSchema, scope.tenant, "ticket.updated", updated.name(), updated);
    return RunRules(tx, scope.tenant, v1::RULE_TRIGGER_UPDATED, "UpdateTicket", current, &updated);
  }));
  return updated;
}

absl::StatusOr<Ticket> TicketStore::ChangeStatus(const server::CallScope& scope,
                                                 const std::string& id, v1::Status status,
                                                 const std::string& custom_status_id,
                                                 const std::string& etag, const RequestKey& key) {
  Ticket changed;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "ChangeTicketStatus",
                                                            key.id, key.hash, &changed));
    if (replayed) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Ticket current, LockTicket(tx, scope.tenant, id));
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "ticket"));
    if (current.status() == v1::STATUS_CLOSED) {
      return absl::FailedPreconditionError(
          absl::StrCat(current.name(), " is closed: closed tickets do not change"));
    }
    // A custom status brings its category.
    std::string custom_name;
    if (!custom_status_id.empty()) {
      custom_name = absl::StrCat("customStatuses/", custom_status_id);
      auto rows = db::Exec(tx, "ticketing_get_custom_status", scope.tenant, custom_status_id);
      if (rows.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("custom_status: ", custom_name, " does not exist"));
      }
      const v1::Status category = CustomStatusFromRow(rows[0]).category();
      if (status != v1::STATUS_UNSPECIFIED && status != category) {
        return absl::InvalidArgumentError(absl::StrCat("status: ", StatusText(status),
                                                       " is not the category of ", custom_name,
                                                       " (", StatusText(category), ")"));
      }
      status = category;
    }
    if (current.status() == status && current.custom_status() == custom_name) {
      changed = current;
      return absl::OkStatus();
    }
    if (current.status() != status && !CanMove(current.status(), status)) {
      return absl::FailedPreconditionError(
          absl::StrCat("status: a ticket cannot move from ", StatusText(current.status()), " to ",
                       StatusText(status), " (docs/ticketing.md has the table)"));
    }
    changed = TicketFromRow(db::Exec(tx, "ticketing_update_status", scope.tenant, id,
                                     StatusText(status), custom_status_id)[0]);
    SlaChange change;
    change.status_before = current.status();
    change.now = Now(changed.update_time());
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, &changed, change));
    CRM_RETURN_IF_ERROR(AfterStatusChange(tx, scope.tenant, current.status(), &changed));
    events::AppendEvent(tx, kSchema, scope.tenant, "ticket.status_changed", changed.name(),
                        changed);
    CRM_RETURN_IF_ERROR(RunRules(tx, scope.tenant, v1::RULE_TRIGGER_UPDATED, "ChangeTicketStatus",
                                 current, &changed));
    idempotency_.Store(tx, scope.tenant, "ChangeTicketStatus", key.id, key.hash, changed);
    return absl::OkStatus();
  }));
  return changed;
}

absl::StatusOr<v1::CustomStatus> TicketStore::CreateCustomStatus(const server::CallScope& scope,
                                                                 const v1::CustomStatus& status) {
  v1::CustomStatus created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (!db::Exec(tx, "ticketing_find_custom_status_label", scope.tenant, status.label()).empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("custom_status.label: \"", status.label(), "\" already exists"));
    }
    created = CustomStatusFromRow(db::Exec(tx, "ticketing_insert_custom_status", scope.tenant,
                                           status.label(), StatusText(status.category()),
                                           status.description())[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::ListCustomStatusesResponse> TicketStore::ListCustomStatuses(
    const server::CallScope& scope) {
  v1::ListCustomStatusesResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_custom_statuses", scope.tenant)) {
      *response.add_custom_statuses() = CustomStatusFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<Comment> TicketStore::AddComment(const server::CallScope& scope,
                                                const std::string& ticket_id, Comment comment,
                                                const std::string& request_id,
                                                const std::string& request_hash) {
  Comment added;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "AddComment",
                                                            request_id, request_hash, &added));
    if (replayed) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(added, AddCommentInTx(tx, scope.tenant, ticket_id, comment));
    idempotency_.Store(tx, scope.tenant, "AddComment", request_id, request_hash, added);
    return absl::OkStatus();
  }));
  return added;
}

absl::StatusOr<Comment> TicketStore::AddCommentInTx(db::Tx& tx, const std::string& tenant,
                                                    const std::string& ticket_id,
                                                    const Comment& comment) {
  Comment added;
  {
    CRM_ASSIGN_OR_RETURN(Ticket ticket, LockTicket(tx, tenant, ticket_id));
    if (ticket.status() == v1::STATUS_CLOSED) {
      return absl::FailedPreconditionError(
          absl::StrCat(ticket.name(), " is closed: closed tickets take no comments"));
    }
    Comment attachments_only;
    *attachments_only.mutable_attachments() = comment.attachments();
    std::string attachments_json;
    google::protobuf::util::MessageToJsonString(attachments_only, &attachments_json);
    added = CommentFromRow(db::Exec(tx, "ticketing_insert_comment", tenant, ticket_id,
                                    AuthorKindText(comment.author_kind()), comment.author(),
                                    comment.body(), comment.public_(), attachments_json)[0]);
    const bool first_response = comment.public_() && comment.author_kind() == v1::AUTHOR_KIND_AGENT;
    // A customer's public reply reopens a solved ticket.
    const bool reopen = comment.public_() && comment.author_kind() == v1::AUTHOR_KIND_CUSTOMER &&
                        ticket.status() == v1::STATUS_SOLVED;
    Ticket after =
        TicketFromRow(db::Exec(tx, "ticketing_touch_ticket", tenant, ticket_id, first_response,
                               reopen ? StatusText(v1::STATUS_OPEN) : "")[0]);
    if (comment.public_()) {
      SlaChange change;
      change.status_before = ticket.status();
      change.agent_public_reply = first_response;
      change.customer_public_reply = comment.author_kind() == v1::AUTHOR_KIND_CUSTOMER;
      change.now = Now(added.create_time());
      CRM_RETURN_IF_ERROR(sla_.Apply(tx, tenant, &after, change));
    }
    if (reopen) CRM_RETURN_IF_ERROR(AfterStatusChange(tx, tenant, ticket.status(), &after));
    events::AppendEvent(tx, kSchema, tenant, "ticket.comment_added", added.name(), added);
    if (reopen) {
      events::AppendEvent(tx, kSchema, tenant, "ticket.status_changed", after.name(), after);
    }
    if (first_response && !ticket.has_first_response_time()) {
      events::AppendEvent(tx, kSchema, tenant, "ticket.first_replied", after.name(), after);
    }
    CRM_RETURN_IF_ERROR(
        RunRules(tx, tenant, v1::RULE_TRIGGER_UPDATED, "AddComment", ticket, &after, &added));
  }
  return added;
}

absl::StatusOr<v1::SatisfactionRating> TicketStore::Rate(const server::CallScope& scope,
                                                         const std::string& ticket_id,
                                                         v1::SatisfactionRating rating,
                                                         const std::string& request_id,
                                                         const std::string& request_hash) {
  v1::SatisfactionRating stored;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(
        bool replayed, idempotency_.Replay(tx, scope.tenant, "SubmitSatisfactionRating", request_id,
                                           request_hash, &stored));
    if (replayed) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Ticket ticket, LockTicket(tx, scope.tenant, ticket_id));
    if (!ticket.merged_into().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          ticket.name(), " was merged into ", ticket.merged_into(), "; rate that ticket"));
    }
    if (ticket.status() != v1::STATUS_SOLVED && ticket.status() != v1::STATUS_CLOSED) {
      return absl::FailedPreconditionError(absl::StrCat(ticket.name(), " is ",
                                                        StatusText(ticket.status()),
                                                        ": a ticket is rated once it is solved"));
    }
    if (ticket.has_satisfaction()) {
      v1::SatisfactionRating asked = rating;
      asked.set_name(ticket.satisfaction().name());
      *asked.mutable_create_time() = ticket.satisfaction().create_time();
      if (asked.SerializeAsString() != ticket.satisfaction().SerializeAsString()) {
        return absl::AlreadyExistsError(
            absl::StrCat(ticket.name(), " was rated already; a rating is given once"));
      }
      stored = ticket.satisfaction();
      return absl::OkStatus();
    }
    rating.set_name(absl::StrCat(ticket.name(), "/satisfaction"));
    *rating.mutable_create_time() = TimeUtil::GetCurrentTime();
    std::string json;
    google::protobuf::util::MessageToJsonString(rating, &json);
    const bool good =
        rating.rating_case() == v1::SatisfactionRating::kGood ? rating.good() : rating.score() >= 4;
    db::Exec(tx, "ticketing_rate_ticket", scope.tenant, ticket_id, json, good);
    stored = rating;
    idempotency_.Store(tx, scope.tenant, "SubmitSatisfactionRating", request_id, request_hash,
                       stored);
    events::AppendEvent(tx, kSchema, scope.tenant, "csat.submitted", ticket.name(), stored);
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<v1::MergeTicketsResponse> TicketStore::Merge(const server::CallScope& scope,
                                                            const std::string& source_id,
                                                            const std::string& target_id,
                                                            const RequestKey& key) {
  v1::MergeTicketsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "MergeTickets",
                                                            key.id, key.hash, &response));
    if (replayed) return absl::OkStatus();
    // Both locked in id order, so that crossing merges cannot deadlock.
    const bool source_first = source_id < target_id;
    CRM_ASSIGN_OR_RETURN(Ticket first,
                         LockTicket(tx, scope.tenant, source_first ? source_id : target_id));
    CRM_ASSIGN_OR_RETURN(Ticket second,
                         LockTicket(tx, scope.tenant, source_first ? target_id : source_id));
    Ticket& source = source_first ? first : second;
    Ticket& target = source_first ? second : first;
    if (source.merged_into() == target.name()) {  // done before: nothing to do
      *response.mutable_source() = source;
      *response.mutable_target() = target;
      return absl::OkStatus();
    }
    for (const Ticket* t : {&source, &target}) {
      if (t->status() == v1::STATUS_CLOSED) {
        return absl::FailedPreconditionError(
            absl::StrCat(t->name(), " is closed: closed tickets do not merge"));
      }
    }
    const pqxx::result moved =
        db::Exec(tx, "ticketing_move_comments", scope.tenant, source_id, target_id);
    db::Exec(tx, "ticketing_merge_followers", scope.tenant, source_id, target_id);
    response.set_moved_comments(static_cast<int64_t>(moved.affected_rows()));
    auto note = [&](const std::string& ticket_id, const std::string& body) {
      db::Exec(tx, "ticketing_insert_comment", scope.tenant, ticket_id,
               AuthorKindText(v1::AUTHOR_KIND_SYSTEM), "merge", body, false, "{}");
    };
    note(target_id, absl::StrCat(source.name(), " (\"", source.subject(),
                                 "\") was merged into this ticket; its comments are here."));
    note(source_id, absl::StrCat("Merged into ", target.name(), "."));
    *response.mutable_source() = TicketFromRow(
        db::Exec(tx, "ticketing_close_merged", scope.tenant, source_id, target_id)[0]);
    SlaChange change;
    change.status_before = source.status();
    change.now = Now(response.source().update_time());
    CRM_RETURN_IF_ERROR(sla_.Apply(tx, scope.tenant, response.mutable_source(), change));
    CRM_RETURN_IF_ERROR(
        AfterStatusChange(tx, scope.tenant, source.status(), response.mutable_source()));
    *response.mutable_target() = TicketFromRow(
        db::Exec(tx, "ticketing_touch_ticket", scope.tenant, target_id, false, "")[0]);
    events::AppendEvent(tx, kSchema, scope.tenant, "ticket.merged", response.source().name(),
                        response);
    idempotency_.Store(tx, scope.tenant, "MergeTickets", key.id, key.hash, response);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<int64_t> TicketStore::CloseSolved(absl::Duration after, int batch) {
  int64_t closed = 0;
  for (;;) {
    int64_t this_batch = 0;
    const db::TxOptions options = db::HousekeepingTx(absl::Minutes(1));
    CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
      auto rows =
          db::Exec(tx, "ticketing_close_solved_tickets", absl::ToInt64Seconds(after), batch);
      this_batch = static_cast<int64_t>(rows.size());
      // One insert and one notification per tenant, not per ticket.
      std::map<std::string, std::vector<Ticket>> by_tenant;
      for (const auto& row : rows) {
        by_tenant[row[kTicketColumnCount].as<std::string>()].push_back(TicketFromRow(row));
      }
      for (const auto& [tenant, tickets] : by_tenant) {
        std::vector<events::PendingEvent> pending;
        for (const Ticket& t : tickets) {
          pending.push_back({"ticket.status_changed", t.name(), &t});
        }
        events::AppendEvents(tx, kSchema, tenant, pending);
      }
      return absl::OkStatus();
    }));
    closed += this_batch;
    if (this_batch < batch) return closed;
  }
}

absl::StatusOr<v1::ListCommentsResponse> TicketStore::ListComments(
    const server::CallScope& scope, const std::string& ticket_id,
    const v1::ListCommentsRequest& request) {
  CRM_ASSIGN_OR_RETURN(
      int page_size,
      api::EffectivePageSize(request.page_size(), kDefaultCommentPageSize, kMaxPageSize));
  std::string after = "0";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), ticket_id));
    int64_t id = 0;
    if (key.size() != 1 || !absl::SimpleAtoi(key[0], &id)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    after = key[0];
  }
  v1::ListCommentsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    if (db::Exec(tx, "ticketing_get_ticket", scope.tenant, ticket_id).empty()) {
      return NotFound(ticket_id);
    }
    auto rows = db::Exec(tx, "ticketing_list_comments", scope.tenant, ticket_id, after,
                         db::PageLimit(page_size));
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, ticket_id,
        [&](const pqxx::row& row) { *response.add_comments() = CommentFromRow(row); },
        [](const pqxx::row& last) { return std::vector<std::string>{last[1].as<std::string>()}; }));
    return absl::OkStatus();
  }));
  return response;
}

absl::Status TicketStore::Export(
    const server::CallScope& scope, int batch,
    const std::function<bool(const v1::ExportTicketsResponse&)>& emit) {
  using Message = v1::ExportTicketsResponse;
  return server::ExportSnapshot<Message>(
      pool_, scope, batch, emit, [](server::SnapshotPager<Message>& pager) {
        pager.PageThrough(
            "ticketing_export_tickets",
            [](const pqxx::row& row, Message& message) {
              *message.add_tickets() = TicketFromRow(row);
            },
            kTicketColumnCount, 0);
        pager.PageThrough(
            "ticketing_export_sla_outcomes",
            [](const pqxx::row& row, Message& message) {
              const std::string ticket = absl::StrCat("tickets/", row[1].as<std::string>());
              for (absl::string_view one : absl::StrSplit(row[2].as<std::string>(), ';')) {
                const std::vector<absl::string_view> f = absl::StrSplit(one, '|');
                int64_t start = 0, outcome = 0;
                if (f.size() != 4 || !absl::SimpleAtoi(f[1], &start) ||
                    !absl::SimpleAtoi(f[2], &outcome)) {
                  continue;  // written by the trigger: cannot happen
                }
                v1::SlaOutcome* o = message.add_sla_outcomes();
                o->set_ticket(ticket);
                o->set_metric(MetricOf(f[0]));
                *o->mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(start);
                *o->mutable_outcome_time() = TimeUtil::MicrosecondsToTimestamp(outcome);
                o->set_breached(f[3] == "t");
              }
            },
            0, 1);
      });
}

}  // namespace crm::ticketing
