#include "tests/testing/smtp_sink.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/net.h"

namespace crm::testing {

SmtpSink::SmtpSink(SmtpSinkOptions options) {
  port_ = FreePort();
  char dir_template[] = "/tmp/crm-smtp-sink-XXXXXX";
  dir_ = mkdtemp(dir_template);
  std::vector<std::string> args = {CRM_SMTP_SINK, absl::StrCat("--port=", port_),
                                   absl::StrCat("--dir=", dir_),
                                   absl::StrCat("--fail_first=", options.fail_first),
                                   absl::StrCat("--delay_ms=", options.delay_ms)};
  if (!options.reject_rcpt.empty()) args.push_back("--reject_rcpt=" + options.reject_rcpt);
  process_ = std::make_unique<ChildProcess>("/usr/bin/python3", args, dir_ + ".log");
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (!Accepts(port_)) {
    if (absl::Now() > deadline || !process_->running()) {
      FAIL("the SMTP sink did not start: " << process_->Log());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

SmtpSink::~SmtpSink() {
  Stop();
  const std::string cmd = absl::StrCat("rm -rf '", dir_, "' '", dir_, ".log'");
  (void)std::system(cmd.c_str());
}

void SmtpSink::Stop() {
  if (process_ != nullptr && process_->running()) {
    process_->Signal(SIGTERM);
    process_->Wait(5000);
  }
}

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir_.c_str())) {
    while (dirent* e = readdir(d)) {
      if (absl::EndsWith(e->d_name, ".eml")) names.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> messages;
  for (const std::string& n : names) {
    std::ifstream in(dir_ + "/" + n, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    messages.push_back(content.str());
  }
  return messages;
}

std::vector<std::string> SmtpSink::AwaitMessages(size_t count, absl::Duration within) const {
  const absl::Time deadline = absl::Now() + within;
  std::vector<std::string> messages = Messages();
  while (messages.size() < count && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(25));
    messages = Messages();
  }
  return messages;
}

}  // namespace crm::testing
