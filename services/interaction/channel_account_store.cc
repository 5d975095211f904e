#include "services/interaction/channel_account_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/events/outbox.h"
#include "services/interaction/conversation_domain.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;
using v1::ChannelAccount;

constexpr char kColumns[] =
    "a.id::text, a.channel, a.is_default, a.settings::text, "
    "(EXTRACT(EPOCH FROM a.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM a.update_time) * 1000000)::bigint, a.version";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"interaction_insert_channel_account",
       absl::StrCat("INSERT INTO interaction.channel_accounts AS a (tenant_id, channel, "
                    "is_default, settings) VALUES ($1, $2, $3 OR NOT EXISTS (SELECT 1 FROM "
                    "interaction.channel_accounts d WHERE d.tenant_id = $1 AND d.channel = $2), "
                    "$4::jsonb) RETURNING ",
                    kColumns)},
      {"interaction_count_channel_accounts",
       "SELECT count(*) FROM interaction.channel_accounts WHERE tenant_id = $1"},
      // $2 channel, $3 the account that keeps (or takes) the default.
      {"interaction_clear_default_accounts",
       "UPDATE interaction.channel_accounts SET is_default = false, update_time = now(), version "
       "= version + 1 WHERE tenant_id = $1 AND channel = $2 AND is_default AND id <> "
       "COALESCE(NULLIF($3, '')::uuid, '00000000-0000-0000-0000-000000000000')"},
      {"interaction_get_channel_account",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.channel_accounts a WHERE a.tenant_id = $1 AND a.id = "
                    "$2::uuid")},
      {"interaction_lock_channel_account",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.channel_accounts a WHERE a.tenant_id = $1 AND a.id = "
                    "$2::uuid FOR UPDATE")},
      {"interaction_default_channel_account",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.channel_accounts a WHERE a.tenant_id = $1 AND a.channel = "
                    "$2 AND a.is_default")},
      {"interaction_list_channel_accounts",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.channel_accounts a WHERE a.tenant_id = $1 ORDER BY "
                    "a.channel, a.settings->>'displayName', a.id")},
      // $2 one account's uuid, or '' for all of the tenant's.
      {"interaction_mailbox_status",
       "SELECT account_id::text, (EXTRACT(EPOCH FROM last_poll_time) * 1000000)::bigint, "
       "last_error, received, skipped, (EXTRACT(EPOCH FROM next_poll_time) * 1000000)::bigint "
       "FROM interaction.mailboxes WHERE tenant_id = $1 AND last_poll_time IS NOT NULL AND "
       "($2 = '' OR account_id = NULLIF($2, '')::uuid)"},
      {"interaction_update_channel_account",
       absl::StrCat("UPDATE interaction.channel_accounts a SET is_default = $3, settings = "
                    "$4::jsonb, update_time = now(), version = a.version + 1 WHERE a.tenant_id = "
                    "$1 AND a.id = $2::uuid RETURNING ",
                    kColumns)},
      {"interaction_delete_channel_account",
       "DELETE FROM interaction.channel_accounts WHERE tenant_id = $1 AND id = $2::uuid"},
      // The account's queued messages fail: their deliveries go, their
      // status and history say why.
      {"interaction_fail_account_deliveries",
       "WITH gone AS (DELETE FROM interaction.deliveries d USING interaction.messages m WHERE "
       "d.tenant_id = $1 AND m.tenant_id = d.tenant_id AND m.id = d.message_id AND "
       "m.channel_account = $2 RETURNING d.message_id) UPDATE interaction.messages m SET "
       "delivery_status = 'FAILED', delivery_reason = 'channel account deleted', "
       "delivery_history = jsonb_set(m.delivery_history, '{deliveryHistory}', "
       "COALESCE(m.delivery_history->'deliveryHistory', '[]'::jsonb) || "
       "jsonb_build_array(jsonb_build_object('status', 'DELIVERY_STATUS_FAILED', 'reason', "
       "'channel account deleted', 'time', to_char(clock_timestamp() AT TIME ZONE 'UTC', "
       "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))) FROM gone WHERE m.tenant_id = $1 AND m.id = "
       "gone.message_id RETURNING m.id::text"},
  };
  return *statements;
}

template <typename Row>
ChannelAccount AccountFromRow(const Row& row) {
  ChannelAccount a;
  (void)api::MergeJson(row[3].c_str(), &a);  // written by this store
  a.set_name(absl::StrCat("channelAccounts/", row[0].c_str()));
  a.set_channel(api::EnumOf<v1::Channel>(row[1].c_str()));
  a.set_is_default(row[2].template as<bool>());
  *a.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[4].template as<int64_t>());
  *a.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[5].template as<int64_t>());
  a.set_etag(api::EtagOf(row[6].template as<int64_t>()));
  return a;
}

// What the settings column keeps: the account without what has columns.
std::string SettingsJson(ChannelAccount a) {
  a.clear_name();
  a.clear_channel();
  a.clear_is_default();
  a.clear_create_time();
  a.clear_update_time();
  a.clear_etag();
  a.clear_mailbox_status();
  return api::ToJson(a);
}

// Fills the mailbox status of those of `accounts` (all of one tenant's,
// or the one `id`; "" for all) polled at least once.
void AddMailboxStatus(db::Tx& tx, const std::string& tenant, const std::string& id,
                      std::vector<ChannelAccount*> accounts) {
  std::map<std::string, ChannelAccount*> by_id;
  for (ChannelAccount* a : accounts) {
    if (a->inbound().has_imap()) by_id[api::LastSegment(a->name())] = a;
  }
  if (by_id.empty()) return;
  for (const auto& row : db::Exec(tx, "interaction_mailbox_status", tenant, id)) {
    const auto found = by_id.find(row[0].as<std::string>());
    if (found == by_id.end()) continue;
    v1::MailboxStatus* status = found->second->mutable_mailbox_status();
    *status->mutable_last_poll_time() = TimeUtil::MicrosecondsToTimestamp(row[1].as<int64_t>());
    status->set_last_error(row[2].as<std::string>());
    status->set_received_messages(row[3].as<int64_t>());
    status->set_skipped_messages(row[4].as<int64_t>());
    *status->mutable_next_poll_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  }
}

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("channelAccounts/", id, " not found"));
}

}  // namespace

ChannelAccountStore::ChannelAccountStore(db::Pool& pool) : pool_(pool) {
  pool_.Prepare(Statements());
}

absl::StatusOr<ChannelAccount> ChannelAccountStore::Create(const server::CallScope& scope,
                                                           const ChannelAccount& account) {
  ChannelAccount created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    const auto count = db::Exec(tx, "interaction_count_channel_accounts", scope.tenant);
    if (count[0][0].as<int64_t>() >= kMaxChannelAccounts) {
      return absl::FailedPreconditionError(
          absl::StrCat("the tenant has ", kMaxChannelAccounts, " channel accounts, the most"));
    }
    const std::string channel = api::EnumText(account.channel());
    if (account.is_default()) {
      db::Exec(tx, "interaction_clear_default_accounts", scope.tenant, channel, "");
    }
    created = AccountFromRow(db::Exec(tx, "interaction_insert_channel_account", scope.tenant,
                                      channel, account.is_default(), SettingsJson(account))[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<ChannelAccount> ChannelAccountStore::Get(const server::CallScope& scope,
                                                        const std::string& id) {
  ChannelAccount found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_get_channel_account", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    found = AccountFromRow(rows[0]);
    AddMailboxStatus(tx, scope.tenant, id, {&found});
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListChannelAccountsResponse> ChannelAccountStore::List(
    const server::CallScope& scope) {
  v1::ListChannelAccountsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "interaction_list_channel_accounts", scope.tenant)) {
      *response.add_accounts() = AccountFromRow(row);
    }
    std::vector<ChannelAccount*> accounts;
    for (ChannelAccount& a : *response.mutable_accounts()) accounts.push_back(&a);
    AddMailboxStatus(tx, scope.tenant, "", std::move(accounts));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<ChannelAccount> ChannelAccountStore::Update(const server::CallScope& scope,
                                                           const std::string& id,
                                                           const ChannelAccount& patch,
                                                           const std::vector<std::string>& paths) {
  ChannelAccount updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_lock_channel_account", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    const ChannelAccount current = AccountFromRow(rows[0]);
    CRM_RETURN_IF_ERROR(api::CheckEtag(patch.etag(), current.etag(), "account"));
    ChannelAccount next = current;
    for (const std::string& p : paths) {
      if (p == "display_name") next.set_display_name(patch.display_name());
      if (p == "sender") next.set_sender(patch.sender());
      if (p == "sender_name") next.set_sender_name(patch.sender_name());
      if (p == "is_default") next.set_is_default(patch.is_default());
      if (p == "smtp") *next.mutable_smtp() = patch.smtp();
      if (p == "inbound") *next.mutable_inbound() = patch.inbound();
      if (p == "provider") *next.mutable_provider() = patch.provider();
    }
    CRM_RETURN_IF_ERROR(ValidateChannelAccount(next, "account"));
    if (next.is_default() && !current.is_default()) {
      db::Exec(tx, "interaction_clear_default_accounts", scope.tenant,
               api::EnumText(current.channel()), id);
    }
    updated = AccountFromRow(db::Exec(tx, "interaction_update_channel_account", scope.tenant, id,
                                      next.is_default(), SettingsJson(next))[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<v1::DeleteChannelAccountResponse> ChannelAccountStore::Delete(
    const server::CallScope& scope, const std::string& id, const std::string& etag) {
  v1::DeleteChannelAccountResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    const auto rows = db::Exec(tx, "interaction_lock_channel_account", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    const ChannelAccount current = AccountFromRow(rows[0]);
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "account"));
    const auto failed =
        db::Exec(tx, "interaction_fail_account_deliveries", scope.tenant, current.name());
    response.set_failed_messages(static_cast<int64_t>(failed.size()));
    db::Exec(tx, "interaction_delete_channel_account", scope.tenant, id);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<ChannelAccount> ChannelAccountStore::Resolve(db::Tx& tx, const std::string& tenant,
                                                            v1::Channel channel,
                                                            const std::string& name,
                                                            const std::string& field) {
  if (!name.empty()) {
    const auto rows =
        db::Exec(tx, "interaction_get_channel_account", tenant, api::LastSegment(name));
    if (rows.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", name, " does not exist"));
    }
    ChannelAccount account = AccountFromRow(rows[0]);
    if (account.channel() != channel) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", name, " is an account for ",
                                                        api::EnumText(account.channel()), ", not ",
                                                        api::EnumText(channel)));
    }
    return account;
  }
  const auto rows =
      db::Exec(tx, "interaction_default_channel_account", tenant, api::EnumText(channel));
  if (rows.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": the tenant has no ", api::EnumText(channel),
                     " account to send with; create one (CreateChannelAccount)"));
  }
  return AccountFromRow(rows[0]);
}

}  // namespace crm::interaction
