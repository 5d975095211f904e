#include "common/events/outbox.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/time_util.h>

#include <limits>
#include <pqxx/binarystring>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/server/call.h"

namespace crm::events {

std::string FormatCursor(const Cursor& c) { return absl::StrCat(c.tx, ".", c.seq); }

absl::StatusOr<Cursor> ParseCursor(absl::string_view text) {
  Cursor c;
  if (text.empty()) return c;
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &c.tx) ||
      !absl::SimpleAtoi(parts[1], &c.seq) || c.seq < 0) {
    return absl::InvalidArgumentError("after_cursor: malformed cursor");
  }
  return c;
}

Cursor SnapshotCursor(db::Tx& tx) {
  // Below xmin every transaction has ended, and the feed releases only
  // events below its own xmin: so the last position before xmin.
  auto rows = tx.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  uint64_t xmin = 0;
  absl::SimpleAtoi(rows[0][0].as<std::string>(), &xmin);
  return Cursor{xmin - 1, std::numeric_limits<int64_t>::max()};
}

std::string NotifyChannel(absl::string_view schema) { return absl::StrCat("crm_events_", schema); }

void AppendEvent(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                 absl::string_view type, absl::string_view subject,
                 const google::protobuf::Message& payload) {
  google::protobuf::Any any;
  any.PackFrom(payload);
  std::string bytes = any.SerializeAsString();
  tx.exec_params(absl::StrCat("INSERT INTO ", schema,
                              ".outbox (tenant_id, type, subject, payload) "
                              "VALUES ($1, $2, $3, $4)"),
                 std::string(tenant), std::string(type), std::string(subject),
                 pqxx::binarystring(bytes.data(), bytes.size()));
  tx.exec_params("SELECT pg_notify($1, $2)", NotifyChannel(schema), std::string(tenant));
}

// The name AppendEvents reports its time under (crm_db_query_duration_seconds).
const std::string kAppendEventsQuery = "outbox_append_events";

void AppendEvents(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                  const std::vector<PendingEvent>& events) {
  if (events.empty()) return;
  // One array per column: one statement text however many events.
  std::vector<std::string> types, subjects, payloads;
  for (const auto& event : events) {
    google::protobuf::Any any;
    any.PackFrom(*event.payload);
    types.push_back(event.type);
    subjects.push_back(event.subject);
    payloads.push_back(absl::Base64Escape(any.SerializeAsString()));
  }
  db::QueryTimer timer(kAppendEventsQuery);
  tx.exec_params(absl::StrCat("INSERT INTO ", schema,
                              ".outbox (tenant_id, type, subject, payload) SELECT $1, u.type, "
                              "u.subject, decode(u.payload, 'base64') FROM unnest($2::text[], "
                              "$3::text[], $4::text[]) AS u(type, subject, payload)"),
                 std::string(tenant), db::TextArray(types), db::TextArray(subjects),
                 db::TextArray(payloads));
  tx.exec_params("SELECT pg_notify($1, $2)", NotifyChannel(schema), std::string(tenant));
}

ReadResult ReadEvents(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                      const Cursor& after, int limit) {
  ReadResult out;
  const std::string tx_text = absl::StrCat(after.tx);
  // Every tenant's events (server::kAllTenants): through the housekeeping
  // policy, in (tx_id, seq) order across tenants.
  const bool all = tenant == server::kAllTenants;
  if (all) tx.exec("SELECT set_config('app.housekeeping', 'on', true)");
  const std::string which = all ? "($1 = $1)" : "tenant_id = $1";
  if (!(after == Cursor{})) {
    auto pruned =
        tx.exec_params(absl::StrCat("SELECT 1 FROM ", schema, ".outbox_pruned WHERE ", which,
                                    " AND (tx_id, seq) > ($2::xid8, $3::bigint) LIMIT 1"),
                       std::string(tenant), tx_text, after.seq);
    if (!pruned.empty()) {
      out.pruned = true;
      return out;
    }
  }
  auto rows = tx.exec_params(
      // The text of tx_id gets its own name: ORDER BY tx_id must sort by the
      // xid8 column, not by the text output column of the same name ("20602"
      // before "4793"), which delivered later transactions first once ids
      // differed in length, and consumers then skipped the earlier ones.
      absl::StrCat("SELECT tx_id::text AS tx_text, seq, id::text, type, subject, payload, "
                   "(EXTRACT(EPOCH FROM create_time) * 1000000)::bigint, "
                   "tx_id < pg_snapshot_xmin(pg_current_snapshot()) AS released, tenant_id "
                   "FROM ",
                   schema, ".outbox WHERE ", which,
                   " AND (tx_id, seq) > ($2::xid8, $3::bigint) ORDER BY tx_id, seq LIMIT $4"),
      std::string(tenant), tx_text, after.seq, limit);
  for (const auto& row : rows) {
    if (!row[7].as<bool>()) {
      out.held_back = true;
      break;
    }
    crm::events::v1::Event e;
    Cursor c;
    absl::SimpleAtoi(row[0].as<std::string>(), &c.tx);
    c.seq = row[1].as<int64_t>();
    e.set_cursor(FormatCursor(c));
    e.set_id(row[2].as<std::string>());
    e.set_type(row[3].as<std::string>());
    e.set_tenant(row[8].as<std::string>());
    e.set_subject(row[4].as<std::string>());
    pqxx::binarystring payload(row[5]);
    e.mutable_payload()->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
    *e.mutable_create_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
    out.events.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<int64_t> PruneOutbox(db::Pool& pool, const std::string& schema,
                                    absl::Duration retention, int batch) {
  const std::string sql = absl::StrCat(
      "WITH doomed AS (SELECT tenant_id, tx_id, seq FROM ", schema,
      ".outbox WHERE create_time < now() - $1::interval ORDER BY create_time LIMIT $2), "
      "deleted AS (DELETE FROM ",
      schema,
      ".outbox o USING doomed d WHERE o.tenant_id = d.tenant_id AND o.tx_id = d.tx_id AND "
      "o.seq = d.seq RETURNING o.tenant_id, o.tx_id, o.seq), "
      "newest AS (SELECT DISTINCT ON (tenant_id) tenant_id, tx_id, seq FROM deleted "
      "ORDER BY tenant_id, tx_id DESC, seq DESC), "
      "marked AS (INSERT INTO ",
      schema,
      ".outbox_pruned AS p (tenant_id, tx_id, seq) SELECT tenant_id, tx_id, seq FROM newest "
      "ON CONFLICT (tenant_id) DO UPDATE SET tx_id = EXCLUDED.tx_id, seq = EXCLUDED.seq, "
      "update_time = now() WHERE (p.tx_id, p.seq) < (EXCLUDED.tx_id, EXCLUDED.seq) RETURNING 1) "
      "SELECT (SELECT count(*) FROM deleted), (SELECT count(*) FROM marked)");
  int64_t total = 0;
  for (;;) {
    int64_t deleted = 0;
    const db::TxOptions options = db::HousekeepingTx(absl::Minutes(1));
    absl::Status status = db::RunInTransaction(pool, options, [&](db::Tx& tx) {
      auto rows = db::ExecDynamic(
          tx, schema + "_prune_outbox", sql,
          {absl::StrCat(absl::ToInt64Seconds(retention), " seconds"), absl::StrCat(batch)});
      deleted = rows[0][0].as<int64_t>();
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    total += deleted;
    if (deleted < batch) return total;
  }
}

}  // namespace crm::events
