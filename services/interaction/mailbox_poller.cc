#include "services/interaction/mailbox_poller.h"

#include <prometheus/counter.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/metrics.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "services/interaction/channel_account_store.h"
#include "services/interaction/email_parser.h"

namespace crm::interaction {
namespace {

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $1 owner, $2 lease (ms): the most overdue mailbox nobody polls, its
      // cursor row made on its first poll.
      {"interaction_claim_mailbox",
       "INSERT INTO interaction.mailboxes AS c (tenant_id, account_id, lease_owner, lease_until) "
       "SELECT a.tenant_id, a.id, $1, clock_timestamp() + $2 * interval '1 millisecond' "
       "FROM interaction.channel_accounts a LEFT JOIN interaction.mailboxes m "
       "ON m.tenant_id = a.tenant_id AND m.account_id = a.id "
       "WHERE a.channel = 'EMAIL' AND a.settings->'inbound'->'imap' IS NOT NULL "
       "AND (m.account_id IS NULL OR (m.next_poll_time <= now() AND m.lease_until <= now())) "
       "ORDER BY m.next_poll_time NULLS FIRST LIMIT 1 "
       "ON CONFLICT (tenant_id, account_id) DO UPDATE SET lease_owner = excluded.lease_owner, "
       "lease_until = excluded.lease_until "
       "WHERE c.next_poll_time <= now() AND c.lease_until <= now() "
       "RETURNING c.tenant_id, c.account_id::text, c.mailbox_key, c.uid_validity, c.last_uid"},
      // $1 tenant, $2 account, $3 owner, $4 key, $5 UIDVALIDITY, $6 last
      // UID, $7 received, $8 skipped, $9 lease (ms).
      {"interaction_advance_mailbox",
       "UPDATE interaction.mailboxes SET mailbox_key = $4, uid_validity = $5, last_uid = $6, "
       "received = received + $7, skipped = skipped + $8, "
       "lease_until = clock_timestamp() + $9 * interval '1 millisecond' "
       "WHERE tenant_id = $1 AND account_id = $2::uuid AND lease_owner = $3"},
      // $1 tenant, $2 account, $3 owner, $4 next poll in (ms), $5 error.
      {"interaction_release_mailbox",
       "UPDATE interaction.mailboxes SET lease_owner = '', lease_until = '-infinity', "
       "next_poll_time = clock_timestamp() + $4 * interval '1 millisecond', "
       "last_poll_time = clock_timestamp(), last_error = $5 "
       "WHERE tenant_id = $1 AND account_id = $2::uuid AND lease_owner = $3"},
  };
  return *statements;
}

prometheus::Family<prometheus::Counter>& MailboxMessages() {
  static auto& family = prometheus::BuildCounter()
                            .Name("crm_interaction_mailbox_messages_total")
                            .Help(
                                "Messages taken from IMAP mailboxes, by result "
                                "(received, skipped: not a message the service can take)")
                            .Register(metrics::Registry());
  return family;
}

prometheus::Family<prometheus::Counter>& MailboxPolls() {
  static auto& family = prometheus::BuildCounter()
                            .Name("crm_interaction_mailbox_polls_total")
                            .Help("Polls of IMAP mailboxes, by result (ok, error)")
                            .Register(metrics::Registry());
  return family;
}

// The cursor a poller holds while it reads a mailbox.
struct Cursor {
  std::string tenant;
  std::string account_id;
  std::string key;
  int64_t uid_validity = 0;
  int64_t last_uid = 0;
};

std::string MailboxKey(const v1::ImapSettings& imap) {
  return absl::StrCat(imap.host(), ":", imap.port(), "/", imap.username(), "/",
                      imap.mailbox().empty() ? "INBOX" : imap.mailbox());
}

}  // namespace

MailboxPoller::MailboxPoller(db::Pool& pool, const SecretFiles& secrets,
                             ConversationServiceImpl& inbox, MailboxOptions options)
    : pool_(pool), secrets_(secrets), inbox_(inbox), options_(options), owner_(crypto::NewUuid()) {
  pool_.Prepare(Statements());
}

absl::StatusOr<absl::Duration> MailboxPoller::Step() {
  CRM_ASSIGN_OR_RETURN(std::optional<MailboxPoll> poll, PollOne());
  return poll ? absl::ZeroDuration() : options_.idle;
}

absl::StatusOr<std::optional<MailboxPoll>> MailboxPoller::PollOne() {
  std::optional<Cursor> cursor;
  v1::ChannelAccount account;
  absl::Status resolved;
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
        cursor.reset();
        const auto rows = db::Exec(tx, "interaction_claim_mailbox", owner_,
                                   absl::ToInt64Milliseconds(options_.lease));
        if (rows.empty()) return absl::OkStatus();
        cursor = Cursor{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                        rows[0][2].as<std::string>(), rows[0][3].as<int64_t>(),
                        rows[0][4].as<int64_t>()};
        auto found =
            ChannelAccountStore::Resolve(tx, cursor->tenant, v1::CHANNEL_EMAIL,
                                         "channelAccounts/" + cursor->account_id, "account");
        resolved = found.status();
        if (found.ok()) account = *std::move(found);
        return absl::OkStatus();
      }));
  if (!cursor) return std::nullopt;
  MailboxPoll poll;
  poll.tenant = cursor->tenant;
  poll.account = "channelAccounts/" + cursor->account_id;
  const v1::ImapSettings& imap = account.inbound().imap();
  const int interval = imap.poll_interval_seconds() == 0 ? 60 : imap.poll_interval_seconds();
  absl::Duration next = absl::Seconds(interval);

  const auto save = [&](const Cursor& c, int64_t received, int64_t skipped) {
    return db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
      db::Exec(tx, "interaction_advance_mailbox", c.tenant, c.account_id, owner_, c.key,
               c.uid_validity, c.last_uid, received, skipped,
               absl::ToInt64Milliseconds(options_.lease));
      return absl::OkStatus();
    });
  };
  // Reads the mailbox past the cursor; an error stops the poll where it is.
  const auto read = [&]() -> absl::Status {
    CRM_RETURN_IF_ERROR(resolved);
    CRM_ASSIGN_OR_RETURN(std::string password,
                         secrets_.Read(imap.password_secret(), "inbound.imap.password_secret"));
    imap_.Configure(imap, std::move(password), options_.timeout);
    CRM_ASSIGN_OR_RETURN(ImapMailboxStatus status, imap_.Status());
    Cursor c = *cursor;
    const bool fresh = c.key != MailboxKey(imap) || c.uid_validity != status.uid_validity;
    std::vector<int64_t> uids;
    if (fresh) {
      c.key = MailboxKey(imap);
      c.uid_validity = status.uid_validity;
      c.last_uid = 0;
      const absl::Time since = absl::Now() - absl::Hours(24 * options_.first_days);
      CRM_ASSIGN_OR_RETURN(
          uids, imap_.Search("SINCE " + absl::FormatTime("%d-%b-%Y", since, absl::UTCTimeZone())));
    } else {
      CRM_ASSIGN_OR_RETURN(uids, imap_.Search(absl::StrCat("UID ", c.last_uid + 1, ":*")));
    }
    std::vector<int64_t> pending;
    for (int64_t uid : uids) {
      if (uid > c.last_uid) pending.push_back(uid);
    }
    const bool more = pending.size() > static_cast<size_t>(options_.batch);
    if (more) {
      pending.resize(options_.batch);
      next = absl::ZeroDuration();
    }
    for (int64_t uid : pending) {
      absl::StatusOr<std::string> raw = imap_.Fetch(c.uid_validity, uid, kMaxRawEmailBytes);
      absl::Status taken = raw.status();
      if (raw.ok()) {
        server::CallScope scope;
        scope.tenant = c.tenant;
        scope.request_id = crypto::NewUuid();
        scope.actor = "imap";
        scope.deadline = absl::Now() + absl::Seconds(30);
        v1::ReceiveMessageRequest request;
        request.set_channel(v1::CHANNEL_EMAIL);
        request.set_channel_account(account.name());
        request.set_raw_email(*std::move(raw));
        v1::ReceiveMessageResponse response;
        taken = inbox_.Receive(scope, std::move(request), &response);
      }
      // A message the service refuses for what it is would be refused on
      // every poll: it is skipped (and logged); anything else stops here.
      const bool refused = absl::IsInvalidArgument(taken) || absl::IsFailedPrecondition(taken) ||
                           absl::IsOutOfRange(taken);
      if (!taken.ok() && !refused) return taken;
      if (refused) {
        log::Warning("mailbox message skipped", {{"tenant", c.tenant},
                                                 {"account", poll.account},
                                                 {"uid", std::to_string(uid)},
                                                 {"error", std::string(taken.message())}});
      }
      c.last_uid = uid;
      (refused ? poll.skipped : poll.received) += 1;
      MailboxMessages().Add({{"result", refused ? "skipped" : "received"}}).Increment();
      CRM_RETURN_IF_ERROR(save(c, refused ? 0 : 1, refused ? 1 : 0));
    }
    // Nothing older than the first poll's window is taken later.
    if (fresh && !more) c.last_uid = std::max(c.last_uid, status.uid_next - 1);
    return save(c, 0, 0);
  };
  const absl::Status done = read();
  if (!done.ok()) {
    poll.error = std::string(done.message());
    log::Warning("mailbox poll failed",
                 {{"tenant", poll.tenant}, {"account", poll.account}, {"error", poll.error}});
  } else if (poll.received + poll.skipped > 0) {
    log::Info("mailbox polled", {{"tenant", poll.tenant},
                                 {"account", poll.account},
                                 {"received", std::to_string(poll.received)},
                                 {"skipped", std::to_string(poll.skipped)}});
  }
  MailboxPolls().Add({{"result", done.ok() ? "ok" : "error"}}).Increment();
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(30)), [&](db::Tx& tx) {
        db::Exec(tx, "interaction_release_mailbox", cursor->tenant, cursor->account_id, owner_,
                 absl::ToInt64Milliseconds(next), poll.error.substr(0, 500));
        return absl::OkStatus();
      }));
  return poll;
}

}  // namespace crm::interaction
