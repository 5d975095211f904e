// A dedicated Postgres connection that LISTENs on one channel, on its own
// thread, for the parts of a service that push to open streams (the event
// feed, live chat): nothing polls per stream. When the connection is lost
// it reconnects; notifications sent meanwhile are lost, so after every
// (re)connection `on_connected` runs and callers re-read what they serve.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace crm::db {

struct ListenerCallbacks {
  // Each notification's payload, in the order Postgres delivers them.
  std::function<void(const std::string& payload)> notify;
  // After each connection is made (and LISTEN is in place).
  std::function<void()> connected;
  // Every `tick` while connected (work that could not be queued is
  // retried from here).
  std::function<void()> tick;
};

class Listener {
 public:
  Listener(std::string url, std::string channel, absl::Duration tick, ListenerCallbacks callbacks);
  ~Listener();  // Stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void Start();
  // Joins the thread (within about one tick). Idempotent.
  void Stop();

 private:
  void Loop();

  const std::string url_;
  const std::string channel_;
  const absl::Duration tick_;
  const ListenerCallbacks callbacks_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace crm::db
