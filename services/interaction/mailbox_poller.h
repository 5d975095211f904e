// Inbound e-mail from IMAP mailboxes: each e-mail account with
// `inbound.imap` is polled every `poll_interval_seconds` by one replica at
// a time (a lease in `interaction.mailboxes`), and every message past the
// last UID taken is received as ReceiveMessage with `raw_email` receives
// it. The cursor moves after each message, so a crash repeats at most one
// message, which the Message-ID makes a replay.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "services/interaction/conversation_service.h"
#include "services/interaction/imap_client.h"
#include "services/interaction/secret_files.h"

namespace crm::interaction {

struct MailboxOptions {
  // How long a poller owns a mailbox without progress before another may
  // take it (the poller died).
  absl::Duration lease = absl::Minutes(5);
  // The wait when no mailbox is due.
  absl::Duration idle = absl::Seconds(1);
  // Messages taken per poll; the rest on the next, right after.
  int batch = 100;
  // The first poll of a mailbox (or after a new UIDVALIDITY) takes the mail
  // of this many days.
  int first_days = 7;
  absl::Duration timeout = absl::Seconds(60);
};

// What one poll did, for tests and the log.
struct MailboxPoll {
  std::string tenant;
  std::string account;  // channelAccounts/{uuid}
  int64_t received = 0;
  int64_t skipped = 0;  // not messages the service can take (logged)
  std::string error;    // "" when the poll went through
};

class MailboxPoller {
 public:
  MailboxPoller(db::Pool& pool, const SecretFiles& secrets, ConversationServiceImpl& inbox,
                MailboxOptions options = {});

  // Polls one due mailbox, if any: returns how long to wait before the next
  // step (zero after a poll, `idle` when none was due).
  absl::StatusOr<absl::Duration> Step();
  // Polls one due mailbox: nullopt when none is due.
  absl::StatusOr<std::optional<MailboxPoll>> PollOne();

 private:
  db::Pool& pool_;
  const SecretFiles& secrets_;
  ConversationServiceImpl& inbox_;
  MailboxOptions options_;
  std::string owner_;  // this poller, for the lease
  ImapClient imap_;
};

}  // namespace crm::interaction
