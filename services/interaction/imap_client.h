// Reading a mailbox over IMAP with libcurl (IMAPS, STARTTLS, LOGIN/SASL):
// the mailbox's UIDVALIDITY, UID searches and whole messages by UID. One
// client per polling thread; libcurl keeps its connection open between
// calls to the same server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/interaction/v1/channel_account.pb.h"

namespace crm::interaction {

// The untagged "* SEARCH 3 7 9" lines of a UID SEARCH answer: the UIDs,
// ascending.
std::vector<int64_t> ParseImapSearch(const std::string& answer);
// Item `item` (UIDVALIDITY, UIDNEXT) of an untagged
// "* STATUS box (UIDVALIDITY n UIDNEXT m)" line; 0 when there is none.
int64_t ParseImapStatusItem(const std::string& answer, absl::string_view item);

struct ImapMailboxStatus {
  int64_t uid_validity = 0;
  int64_t uid_next = 0;  // the UID the next message will get
};
// `mailbox` (a valid ImapSettings.mailbox) as a URL path.
std::string ImapMailboxPath(const std::string& mailbox);

class ImapClient {
 public:
  ImapClient();
  ~ImapClient();
  ImapClient(const ImapClient&) = delete;
  ImapClient& operator=(const ImapClient&) = delete;

  // Each call: UNAVAILABLE when the server cannot be reached or drops the
  // connection, FAILED_PRECONDITION when it refuses the login, TLS or the
  // command, NOT_FOUND when the mailbox (or, for Fetch, that UIDVALIDITY)
  // is not there. Messages name the server, never the password.
  void Configure(const v1::ImapSettings& imap, std::string password, absl::Duration timeout);
  absl::StatusOr<ImapMailboxStatus> Status();
  // UIDs matching `criteria` (e.g. "UID 41:*", "SINCE 1-Dec-2026").
  absl::StatusOr<std::vector<int64_t>> Search(const std::string& criteria);
  // The whole message `uid` (marking it \Seen), while the mailbox's
  // UIDVALIDITY is `uid_validity`; OUT_OF_RANGE when it is larger than
  // `max_bytes`.
  absl::StatusOr<std::string> Fetch(int64_t uid_validity, int64_t uid, size_t max_bytes);

 private:
  absl::StatusOr<std::string> Perform(const std::string& path, const std::string& command,
                                      size_t max_bytes = 1 << 20);

  void* curl_;  // CURL*
  v1::ImapSettings imap_;
  std::string password_;
  absl::Duration timeout_ = absl::Seconds(30);
};

}  // namespace crm::interaction
