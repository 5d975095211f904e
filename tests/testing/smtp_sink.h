// A real SMTP server for tests (tools/smtp_sink/smtp_sink.py on Debian's
// python3-aiosmtpd) as a child process: what it accepted, as files, and
// ways to misbehave (temporary failures, refused recipients, slowness).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/testing/process.h"

namespace crm::testing {

struct SmtpSinkOptions {
  int fail_first = 0;       // answer 451 to this many DATA commands first
  std::string reject_rcpt;  // answer 550 to recipients containing this
  int delay_ms = 0;         // wait this long before accepting DATA
};

class SmtpSink {
 public:
  explicit SmtpSink(SmtpSinkOptions options = {});
  ~SmtpSink();

  int port() const { return port_; }
  // Every message accepted so far, oldest first, as received (with
  // X-Envelope-From / X-Envelope-To lines in front).
  std::vector<std::string> Messages() const;
  // Polls until at least `count` messages arrived or `within` passed.
  std::vector<std::string> AwaitMessages(size_t count, absl::Duration within) const;
  void Stop();

 private:
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace crm::testing
