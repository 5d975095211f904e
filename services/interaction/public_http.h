// The service's public HTTP endpoints, for those who speak no gRPC: the
// one-click unsubscribe links of marketing mail (RFC 8058: POST unsubscribes,
// GET shows a page with a button, so that link scanners that fetch every
// URL unsubscribe nobody), and channel providers' webhooks (inbound
// messages, delivery reports; services/interaction/webhooks.h). Served with
// cpp-httplib on its own port and
// threads; off when the port is negative.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "services/interaction/unsubscribe.h"
#include "services/interaction/webhooks.h"

namespace httplib {
class Server;
}

namespace crm::interaction {

class PublicHttp {
 public:
  PublicHttp(Unsubscriber& unsubscriber, Webhooks& webhooks);
  ~PublicHttp();  // stops serving

  // Binds `host`:`port` (0: any free port) and serves on a thread of its own.
  absl::Status Start(const std::string& host, int port);
  int port() const { return port_; }

 private:
  Unsubscriber& unsubscriber_;
  Webhooks& webhooks_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace crm::interaction
