#include "services/interaction/delivery_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/filter.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/page.h"
#include "common/events/outbox.h"
#include "services/interaction/channel_account_store.h"
#include "services/interaction/conversation_domain.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

constexpr char kSuppressionColumns[] =
    "s.kind, s.address, s.reason, s.source, "
    "(EXTRACT(EPOCH FROM s.create_time) * 1000000)::bigint";

// A step appended to a message's delivery history: $status (text),
// $reason.
std::string AppendStep(const std::string& status, const std::string& reason) {
  return absl::StrCat(
      "jsonb_set(m.delivery_history, '{deliveryHistory}', "
      "COALESCE(m.delivery_history->'deliveryHistory', '[]'::jsonb) || "
      "jsonb_build_array(jsonb_build_object('status', 'DELIVERY_STATUS_' || ",
      status, ", 'reason', ", reason,
      ", 'time', to_char(clock_timestamp() AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))))");
}

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"interaction_find_suppression",
       "SELECT reason FROM interaction.suppressions WHERE tenant_id = $1 AND kind = $2 AND "
       "address = $3"},
      // The latest reason stands.
      {"interaction_upsert_suppression",
       absl::StrCat("INSERT INTO interaction.suppressions AS s (tenant_id, kind, address, "
                    "reason, source) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, kind, "
                    "address) DO UPDATE SET reason = EXCLUDED.reason, source = EXCLUDED.source "
                    "RETURNING ",
                    kSuppressionColumns)},
      {"interaction_delete_suppression",
       "DELETE FROM interaction.suppressions WHERE tenant_id = $1 AND kind = $2 AND address = "
       "$3"},
      // A one-click unsubscribe: $2 the message; a hard bounce stays one.
      {"interaction_find_unsubscribed_message",
       "SELECT customer, channel, to_address, direction FROM interaction.messages WHERE "
       "tenant_id = $1 AND id = $2::uuid"},
      // The first unsubscribe through the message's link is the one kept.
      {"interaction_mark_unsubscribed",
       "UPDATE interaction.messages SET unsubscribe_time = COALESCE(unsubscribe_time, now()) "
       "WHERE tenant_id = $1 AND id = $2::uuid RETURNING (EXTRACT(EPOCH FROM unsubscribe_time) * "
       "1000000)::bigint"},
      {"interaction_suppress_unsubscribed",
       "INSERT INTO interaction.suppressions AS s (tenant_id, kind, address, reason, source) "
       "VALUES ($1, $2, $3, 'UNSUBSCRIBED', $4) ON CONFLICT (tenant_id, kind, address) DO UPDATE "
       "SET reason = CASE WHEN s.reason = 'HARD_BOUNCE' THEN s.reason ELSE EXCLUDED.reason END, "
       "source = CASE WHEN s.reason = 'HARD_BOUNCE' THEN s.source ELSE EXCLUDED.source END"},
      {"interaction_insert_pending_denial",
       "INSERT INTO interaction.pending_consent_denials (tenant_id, message_id, customer, "
       "channel) VALUES ($1, $2::uuid, $3, $4) ON CONFLICT DO NOTHING"},
      {"interaction_delete_pending_denial",
       "DELETE FROM interaction.pending_consent_denials WHERE tenant_id = $1 AND message_id = "
       "$2::uuid"},
      // Across tenants, oldest first; each one counted as tried.
      {"interaction_take_pending_denials",
       "UPDATE interaction.pending_consent_denials p SET attempts = p.attempts + 1 FROM (SELECT "
       "tenant_id, message_id FROM interaction.pending_consent_denials ORDER BY create_time "
       "LIMIT $1::int FOR UPDATE SKIP LOCKED) due WHERE p.tenant_id = due.tenant_id AND "
       "p.message_id = due.message_id RETURNING p.tenant_id, p.message_id::text, p.customer, "
       "p.channel"},
      // $1 batch, $2 lease in milliseconds.
      {"interaction_claim_deliveries",
       absl::StrCat(
           "WITH due AS (SELECT tenant_id, message_id FROM interaction.deliveries WHERE "
           "next_attempt_time <= now() AND (lease_until IS NULL OR lease_until < now()) ORDER BY "
           "next_attempt_time LIMIT $1::int FOR UPDATE SKIP LOCKED), claimed AS (UPDATE "
           "interaction.deliveries d SET lease_until = now() + $2::bigint * interval '1 "
           "millisecond' FROM due WHERE d.tenant_id = due.tenant_id AND d.message_id = "
           "due.message_id RETURNING d.tenant_id, d.message_id), m AS (UPDATE "
           "interaction.messages x SET attempts = x.attempts + 1 FROM claimed WHERE x.tenant_id "
           "= claimed.tenant_id AND x.id = claimed.message_id RETURNING x.*) SELECT m.tenant_id, ",
           internal::MessageSelectColumns(), " FROM m")},
      // A provider's report: $2 channel, $3 its message id.
      {"interaction_find_by_external_id",
       "SELECT id::text, delivery_status, to_address FROM interaction.messages WHERE tenant_id = "
       "$1 AND channel = $2 AND external_id = $3 FOR UPDATE"},
      {"interaction_next_delivery",
       "SELECT (EXTRACT(EPOCH FROM min(GREATEST(next_attempt_time, COALESCE(lease_until, "
       "next_attempt_time)))) * 1000000)::bigint FROM interaction.deliveries"},
      {"interaction_finish_delivery",
       "DELETE FROM interaction.deliveries WHERE tenant_id = $1 AND message_id = $2::uuid"},
      // $3 when to try again (microseconds), $4 why the attempt failed.
      {"interaction_retry_delivery",
       "UPDATE interaction.deliveries SET next_attempt_time = 'epoch'::timestamptz + $3::bigint "
       "* interval '1 microsecond', lease_until = NULL, last_error = $4 WHERE tenant_id = $1 AND "
       "message_id = $2::uuid"},
      // $3 the status reached, $4 why, $5 the channel's id of the message
      // ('' to keep it): the message's status and history.
      {"interaction_record_delivery",
       absl::StrCat("UPDATE interaction.messages m SET delivery_status = $3, delivery_reason = "
                    "$4, external_id = COALESCE(NULLIF($5, ''), m.external_id), "
                    "delivery_history = ",
                    AppendStep("$3::text", "$4::text"),
                    " WHERE m.tenant_id = $1 AND m.id = $2::uuid RETURNING ",
                    internal::MessageSelectColumns())},
  };
  return *statements;
}

template <typename Row>
v1::Suppression SuppressionFromRow(const Row& row) {
  v1::Suppression s;
  s.set_name(absl::StrCat("suppressions/", row[0].c_str(), ":", row[1].c_str()));
  s.set_address(row[1].c_str());
  s.set_reason(api::EnumOf<v1::SuppressionReason>(row[2].c_str()));
  s.set_source(row[3].c_str());
  *s.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[4].template as<int64_t>());
  return s;
}

}  // namespace

std::optional<v1::SuppressionReason> SuppressionOf(db::Tx& tx, const std::string& tenant,
                                                   const std::string& kind,
                                                   const std::string& address) {
  const auto rows = db::Exec(tx, "interaction_find_suppression", tenant, kind, address);
  if (rows.empty()) return std::nullopt;
  return api::EnumOf<v1::SuppressionReason>(rows[0][0].c_str());
}

DeliveryStore::DeliveryStore(db::Pool& pool, api::PageTokenCodec tokens)
    : pool_(pool), tokens_(std::move(tokens)) {
  pool_.Prepare(Statements());
}

absl::StatusOr<v1::ListSuppressionsResponse> DeliveryStore::ListSuppressions(
    const server::CallScope& scope, const v1::ListSuppressionsRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  const std::vector<api::FilterField> fields = {
      {"address", "s.address"},
      {"reason", "s.reason"},
      {"create_time", "s.create_time", api::FieldType::kTimestamp},
  };
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter, api::CompileFilter(request.filter(), fields, 5));
  std::vector<std::string> params = {scope.tenant, "", "", ""};
  std::string keyset = "($2 = '' AND $3 = '' AND $4 = '')";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), request.filter()));
    int64_t micros = 0;
    if (key.size() != 3 || !absl::SimpleAtoi(key[0], &micros)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    params[1] = key[0];
    params[2] = key[1];
    params[3] = key[2];
    keyset =
        "(s.create_time, s.kind, s.address) < ('epoch'::timestamptz + $2::bigint * interval '1 "
        "microsecond', $3, $4)";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const std::string sql = absl::StrCat(
      "SELECT ", kSuppressionColumns,
      " FROM interaction.suppressions s WHERE s.tenant_id = $1 AND ", keyset, " AND ", filter.sql,
      " ORDER BY s.create_time DESC, s.kind DESC, s.address DESC LIMIT ", db::PageLimit(page_size));
  v1::ListSuppressionsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "interaction_list_suppressions", sql, params);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, request.filter(),
        [&](const pqxx::row& row) { *response.add_suppressions() = SuppressionFromRow(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[4].as<std::string>(), last[0].as<std::string>(),
                                          last[1].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Suppression> DeliveryStore::AddSuppression(const server::CallScope& scope,
                                                              const v1::Suppression& suppression) {
  const v1::Channel channel =
      suppression.address().find('@') == std::string::npos ? v1::CHANNEL_SMS : v1::CHANNEL_EMAIL;
  CRM_ASSIGN_OR_RETURN(ContactAddress contact,
                       ContactOf(channel, suppression.address(), "suppression.address"));
  v1::Suppression added;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    added = SuppressionFromRow(
        db::Exec(tx, "interaction_upsert_suppression", scope.tenant, contact.kind, contact.address,
                 api::EnumText(suppression.reason()), suppression.source())[0]);
    return absl::OkStatus();
  }));
  return added;
}

absl::Status DeliveryStore::DeleteSuppression(const server::CallScope& scope,
                                              const std::string& kind, const std::string& address) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "interaction_delete_suppression", scope.tenant, kind, address)
            .affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("suppressions/", kind, ":", address, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Unsubscribe> DeliveryStore::RecordUnsubscribe(const std::string& tenant,
                                                                 const std::string& message_name) {
  v1::Unsubscribe unsubscribe;
  db::TxOptions options;
  options.tenant = tenant;
  options.deadline = absl::Now() + absl::Seconds(10);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    const std::string id = api::LastSegment(message_name);
    const auto rows = db::Exec(tx, "interaction_find_unsubscribed_message", tenant, id);
    if (rows.empty() || std::string(rows[0][3].c_str()) != "OUTBOUND" ||
        *rows[0][2].c_str() == '\0') {
      return absl::NotFoundError("the message of this link no longer exists");
    }
    unsubscribe.set_customer(rows[0][0].c_str());
    unsubscribe.set_channel(api::EnumOf<v1::Channel>(rows[0][1].c_str()));
    unsubscribe.set_address(rows[0][2].c_str());
    unsubscribe.set_message(message_name);
    unsubscribe.set_source("list-unsubscribe");
    const std::string kind = unsubscribe.channel() == v1::CHANNEL_EMAIL ? "EMAIL" : "PHONE";
    *unsubscribe.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(
        db::Exec(tx, "interaction_mark_unsubscribed", tenant, id)[0][0].as<int64_t>());
    db::Exec(tx, "interaction_suppress_unsubscribed", tenant, kind, unsubscribe.address(),
             message_name);
    db::Exec(tx, "interaction_insert_pending_denial", tenant, id, unsubscribe.customer(),
             api::EnumText(unsubscribe.channel()));
    events::AppendEvent(tx, kSchema, tenant, "unsubscribe.recorded", message_name, unsubscribe);
    return absl::OkStatus();
  }));
  return unsubscribe;
}

absl::Status DeliveryStore::ConfirmConsentDenied(const std::string& tenant,
                                                 const std::string& message_name) {
  db::TxOptions options;
  options.tenant = tenant;
  options.deadline = absl::Now() + absl::Seconds(10);
  return db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    db::Exec(tx, "interaction_delete_pending_denial", tenant, api::LastSegment(message_name));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Unsubscribe>> DeliveryStore::PendingConsentDenials(
    int limit, std::vector<std::string>* tenants) {
  std::vector<v1::Unsubscribe> pending;
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
        pending.clear();
        tenants->clear();
        for (const auto& row : db::Exec(tx, "interaction_take_pending_denials", limit)) {
          tenants->push_back(row[0].as<std::string>());
          v1::Unsubscribe u;
          u.set_message(absl::StrCat("messages/", row[1].c_str()));
          u.set_customer(row[2].c_str());
          u.set_channel(api::EnumOf<v1::Channel>(row[3].c_str()));
          pending.push_back(std::move(u));
        }
        return absl::OkStatus();
      }));
  return pending;
}

absl::StatusOr<std::vector<Claimed>> DeliveryStore::Claim(int batch, absl::Duration lease) {
  std::vector<Claimed> claimed;
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
        claimed.clear();
        for (const auto& row : db::Exec(tx, "interaction_claim_deliveries", batch,
                                        absl::ToInt64Milliseconds(lease))) {
          claimed.push_back({row[0].as<std::string>(), internal::MessageOf(row, 1), {}, ""});
        }
        for (Claimed& c : claimed) {
          auto account = ChannelAccountStore::Resolve(
              tx, c.tenant, c.message.channel(), c.message.channel_account(), "channel_account");
          if (account.ok()) {
            c.account = *std::move(account);
          } else {
            c.account_error = "channel account deleted";
          }
        }
        return absl::OkStatus();
      }));
  return claimed;
}

absl::Status DeliveryStore::Record(const std::vector<Attempt>& attempts) {
  if (attempts.empty()) return absl::OkStatus();
  return db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
    std::map<std::string, std::vector<v1::Message>> changed;  // by tenant
    std::map<std::string, std::vector<std::string>> types;
    for (const Attempt& a : attempts) {
      const std::string& tenant = a.claimed.tenant;
      const std::string id = api::LastSegment(a.claimed.message.name());
      if (a.status == v1::DELIVERY_STATUS_QUEUED) {
        db::Exec(tx, "interaction_retry_delivery", tenant, id, absl::ToUnixMicros(a.retry_at),
                 a.reason);
        db::Exec(tx, "interaction_record_delivery", tenant, id, "QUEUED", a.reason, "");
        continue;
      }
      db::Exec(tx, "interaction_finish_delivery", tenant, id);
      const auto rows = db::Exec(tx, "interaction_record_delivery", tenant, id,
                                 api::EnumText(a.status), a.reason, a.external_id);
      if (rows.empty()) continue;  // erased or gone meanwhile
      changed[tenant].push_back(internal::MessageOf(rows[0]));
      types[tenant].push_back(a.status == v1::DELIVERY_STATUS_SENT ? "message.sent"
                                                                   : "message.delivery_changed");
      if (!a.suppress.empty()) {
        db::Exec(tx, "interaction_upsert_suppression", tenant,
                 a.claimed.message.channel() == v1::CHANNEL_EMAIL ? "EMAIL" : "PHONE", a.suppress,
                 "HARD_BOUNCE", a.claimed.message.name());
      }
    }
    for (const auto& [tenant, messages] : changed) {
      std::vector<events::PendingEvent> pending;
      for (size_t i = 0; i < messages.size(); ++i) {
        pending.push_back({types[tenant][i], messages[i].name(), &messages[i]});
      }
      events::AppendEvents(tx, kSchema, tenant, pending);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> DeliveryStore::RecordStatus(const std::string& tenant, v1::Channel channel,
                                                 const std::string& external_id,
                                                 v1::DeliveryStatus status,
                                                 const std::string& reason, bool suppress) {
  bool applied = false;
  db::TxOptions options;
  options.tenant = tenant;
  options.deadline = absl::Now() + absl::Seconds(10);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    applied = false;
    const auto found = db::Exec(tx, "interaction_find_by_external_id", tenant,
                                api::EnumText(channel), external_id);
    if (found.empty()) {
      return absl::NotFoundError(absl::StrCat("no message ", external_id));
    }
    const auto current = api::EnumOf<v1::DeliveryStatus>(found[0][1].c_str());
    if (!MovesForward(current, status)) return absl::OkStatus();
    const std::string id = found[0][0].c_str();
    const auto rows =
        db::Exec(tx, "interaction_record_delivery", tenant, id, api::EnumText(status), reason, "");
    const v1::Message message = internal::MessageOf(rows[0]);
    if (suppress && *found[0][2].c_str() != '\0') {
      db::Exec(tx, "interaction_upsert_suppression", tenant,
               channel == v1::CHANNEL_EMAIL ? "EMAIL" : "PHONE", found[0][2].c_str(),
               status == v1::DELIVERY_STATUS_COMPLAINED ? "COMPLAINED" : "HARD_BOUNCE",
               message.name());
    }
    events::AppendEvent(tx, kSchema, tenant, "message.delivery_changed", message.name(), message);
    applied = true;
    return absl::OkStatus();
  }));
  return applied;
}

absl::StatusOr<std::optional<absl::Time>> DeliveryStore::NextDue() {
  std::optional<absl::Time> next;
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
        const auto rows = db::Exec(tx, "interaction_next_delivery");
        next.reset();
        if (!rows[0][0].is_null()) next = absl::FromUnixMicros(rows[0][0].as<int64_t>());
        return absl::OkStatus();
      }));
  return next;
}

}  // namespace crm::interaction
