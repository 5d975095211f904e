#include "common/db/listener.h"

#include <chrono>
#include <exception>
#include <pqxx/connection>
#include <pqxx/notification>

#include "common/base/log.h"

namespace crm::db {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           const std::function<void(const std::string&)>& fn)
      : pqxx::notification_receiver(conn, channel), fn_(fn) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { fn_(payload); }

 private:
  const std::function<void(const std::string&)>& fn_;
};

}  // namespace

Listener::Listener(std::string url, std::string channel, absl::Duration tick,
                   ListenerCallbacks callbacks)
    : url_(std::move(url)),
      channel_(std::move(channel)),
      tick_(tick),
      callbacks_(std::move(callbacks)) {}

Listener::~Listener() { Stop(); }

void Listener::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Listener::Stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void Listener::Loop() {
  const int64_t tick_us = absl::ToInt64Microseconds(tick_);
  while (!stopping_.load()) {
    try {
      pqxx::connection conn(url_);
      Receiver receiver(conn, channel_, callbacks_.notify);
      conn.get_notifs();
      if (callbacks_.connected) callbacks_.connected();
      while (!stopping_.load()) {
        conn.await_notification(tick_us / 1000000, tick_us % 1000000);
        if (callbacks_.tick) callbacks_.tick();
      }
    } catch (const std::exception& e) {
      log::Warning("listener lost its connection; retrying",
                   {{"channel", channel_}, {"error", e.what()}});
      for (int i = 0; i < 10 && !stopping_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

}  // namespace crm::db
