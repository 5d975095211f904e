#include "tests/testing/imap_sink.h"

#include <signal.h>
#include <sys/time.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/testing/net.h"  // FreePort

namespace crm::testing {
namespace {

// Writes `path` modified at `at`; the server never sees half a file.
void WriteFile(const std::string& path, const std::string& content, absl::Time at) {
  const std::string part = path + ".part";
  std::ofstream(part, std::ios::binary) << content;
  const timeval when = absl::ToTimeval(at);
  const timeval times[2] = {when, when};
  utimes(part.c_str(), times);
  std::rename(part.c_str(), path.c_str());
}

}  // namespace

ImapSink::ImapSink(ImapSinkOptions options) {
  port_ = FreePort();
  char dir_template[] = "/tmp/crm-imap-sink-XXXXXX";
  dir_ = mkdtemp(dir_template);
  std::vector<std::string> args = {CRM_IMAP_SINK,
                                   absl::StrCat("--port=", port_),
                                   absl::StrCat("--dir=", dir_),
                                   "--user=" + options.user,
                                   "--password=" + options.password,
                                   "--mailbox=" + options.mailbox,
                                   absl::StrCat("--drop_first=", options.drop_first)};
  process_ = std::make_unique<ChildProcess>("/usr/bin/python3", args, dir_ + ".log");
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  // Ready once it says so (a probing connection would count as one).
  while (!absl::StrContains(process_->Log(), "imap sink on")) {
    if (absl::Now() > deadline || !process_->running()) {
      FAIL("the IMAP sink did not start: " << process_->Log());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

ImapSink::~ImapSink() {
  if (process_ != nullptr && process_->running()) {
    process_->Signal(SIGTERM);
    process_->Wait(5000);
  }
  const std::string cmd =
      absl::StrCat("rm -rf '", dir_, "' '", dir_, ".log' '", dir_, ".commands'");
  (void)std::system(cmd.c_str());
}

void ImapSink::Add(int uid, const std::string& raw, absl::Duration age) {
  WriteFile(absl::StrCat(dir_, "/", uid, ".eml"),
            absl::StrReplaceAll(absl::StrReplaceAll(raw, {{"\r\n", "\n"}}), {{"\n", "\r\n"}}),
            absl::Now() - age);
}

void ImapSink::SetUidValidity(int64_t value) {
  WriteFile(dir_ + "/UIDVALIDITY", absl::StrCat(value, "\n"), absl::Now());
}

std::string ImapSink::Commands() const {
  std::ifstream in(dir_ + ".commands");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace crm::testing
