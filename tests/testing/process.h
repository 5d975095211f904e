// Runs a real binary of the suite as a child process for e2e tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace crm::testing {

class ChildProcess {
 public:
  // Starts `path` with `args`; stdout and stderr go to `log_path`.
  ChildProcess(const std::string& path, const std::vector<std::string>& args,
               const std::string& log_path);
  ~ChildProcess();  // SIGKILL if still running

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout_ms`; returns the exit code, or -1 on timeout or
  // death by signal.
  int Wait(int timeout_ms);
  bool running();
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// Runs a command to completion and returns its stdout (stderr is dropped);
// its stdin is the file `stdin_path`, or /dev/null when empty.
std::string RunCapture(const std::string& path, const std::vector<std::string>& args,
                       int* exit_code, const std::string& stdin_path = "");

}  // namespace crm::testing
