// Builds and runs a gRPC server the way every process of the suite does:
// callback services, health (SERVING only while the readiness check passes
// and the server is not draining), reflection, no SO_REUSEPORT, RPC metrics,
// an optional /metrics endpoint, and graceful shutdown on SIGTERM/SIGINT.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace grpc {
class CallbackGenericService;
}
namespace prometheus {
class Exposer;
}

namespace crm::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int grpc_port = 0;      // 0 picks a free port (see port())
  int metrics_port = -1;  // -1: no /metrics endpoint
  absl::Duration shutdown_grace = absl::Seconds(20);
  absl::Duration health_interval = absl::Seconds(2);
  int max_receive_message_bytes = 16 * 1024 * 1024;
  // gRPC's reflection of this server's own services (the gateway answers
  // reflection for the whole suite itself).
  bool reflection = true;
};

// Call first thing in main(), before any thread starts, so that SIGTERM and
// SIGINT are delivered to RunUntilSignal() rather than killing the process.
void BlockTerminationSignals();

class ServerRunner {
 public:
  explicit ServerRunner(ServerOptions options);
  ~ServerRunner();

  void AddService(grpc::Service* service);
  void SetGenericService(grpc::CallbackGenericService* service);
  // Health is SERVING only while this returns OK (checked every interval).
  void SetReadinessCheck(std::function<absl::Status()> check);

  absl::Status Start();
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }

  // NOT_SERVING, stop accepting, let in-flight calls finish within the grace
  // period, then stop. Idempotent.
  void Shutdown();
  // Waits for SIGTERM or SIGINT (see BlockTerminationSignals), runs
  // `before_drain` (e.g. to end long-lived streams), then Shutdown().
  void RunUntilSignal(const std::function<void()>& before_drain = nullptr);

 private:
  void HealthLoop();
  void UpdateHealth();

  ServerOptions options_;
  std::vector<grpc::Service*> services_;
  grpc::CallbackGenericService* generic_ = nullptr;
  std::function<absl::Status()> readiness_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  int metrics_port_ = -1;
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_health_ = false;
  bool shut_down_ = false;
  std::thread health_thread_;
};

}  // namespace crm::server
