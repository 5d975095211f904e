// An IMAP server for tests (tools/imap_sink/imap_sink.py) as a child
// process, over one mailbox whose messages are files the test writes: add
// mail, renumber the mailbox (a new UIDVALIDITY), read the commands a
// client sent, and refuse the first connections.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "tests/testing/process.h"

namespace crm::testing {

struct ImapSinkOptions {
  std::string user = "support@shop.example";
  std::string password = "imap-pass";
  std::string mailbox = "INBOX";
  int drop_first = 0;  // close this many connections right after the greeting
};

class ImapSink {
 public:
  explicit ImapSink(ImapSinkOptions options = {});
  ~ImapSink();

  int port() const { return port_; }
  // Puts `raw` (LF line ends become CRLF) in the mailbox as message `uid`,
  // received `age` ago.
  void Add(int uid, const std::string& raw, absl::Duration age = absl::ZeroDuration());
  void SetUidValidity(int64_t value);
  // Every command received so far, one per line (LOGIN's arguments masked).
  std::string Commands() const;

 private:
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace crm::testing
