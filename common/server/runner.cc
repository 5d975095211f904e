#include "common/server/runner.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <signal.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/metrics.h"
#include "common/server/rpc_metrics.h"

namespace crm::server {
namespace {

// libgrpc++_reflection adds its plugin to every builder of the process (a
// static initializer does); a server that answers reflection itself drops it.
class WithoutBuiltinReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return p->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

}  // namespace

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ServerRunner::ServerRunner(ServerOptions options) : options_(std::move(options)) {}

ServerRunner::~ServerRunner() { Shutdown(); }

void ServerRunner::AddService(grpc::Service* service) { services_.push_back(service); }

void ServerRunner::SetGenericService(grpc::CallbackGenericService* service) { generic_ = service; }

void ServerRunner::SetReadinessCheck(std::function<absl::Status()> check) {
  readiness_ = std::move(check);
}

absl::Status ServerRunner::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  if (options_.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options_.reflection) builder.SetOption(std::make_unique<WithoutBuiltinReflection>());
  // Without this, a second server on the same port would "start" too.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.AddListeningPort(absl::StrCat(options_.host, ":", options_.grpc_port),
                           grpc::InsecureServerCredentials(), &port_);
  for (auto* s : services_) builder.RegisterService(s);
  if (generic_ != nullptr) builder.RegisterCallbackGenericService(generic_);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewRpcMetricsInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.grpc_port));
  }
  if (options_.metrics_port >= 0) {
    auto exposer = metrics::StartExposer(absl::StrCat(options_.host, ":", options_.metrics_port));
    if (!exposer.ok()) {
      server_->Shutdown();
      server_.reset();
      return exposer.status();
    }
    exposer_ = std::move(exposer).value();
    auto ports = exposer_->GetListeningPorts();
    metrics_port_ = ports.empty() ? options_.metrics_port : ports.front();
  }
  UpdateHealth();
  health_thread_ = std::thread([this] { HealthLoop(); });
  log::Info("server started",
            {{"grpc_port", absl::StrCat(port_)}, {"metrics_port", absl::StrCat(metrics_port_)}});
  return absl::OkStatus();
}

void ServerRunner::UpdateHealth() {
  if (server_ == nullptr) return;
  bool serving = !draining_.load();
  if (serving && readiness_) {
    absl::Status ready = readiness_();
    if (!ready.ok()) {
      serving = false;
      log::Warning("not ready", {{"reason", std::string(ready.message())}});
    }
  }
  auto* health = server_->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(serving);
}

void ServerRunner::HealthLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_health_) {
    cv_.wait_for(lock, absl::ToChronoSeconds(options_.health_interval));
    if (stop_health_) break;
    lock.unlock();
    UpdateHealth();
    lock.lock();
  }
}

namespace {

// crm_server_draining: 1 from the termination signal until the process
// ends, for dashboards and for tests that must see the drain without racing
// the server's refusal of new calls.
prometheus::Gauge& DrainingGauge() {
  static auto& gauge = prometheus::BuildGauge()
                           .Name("crm_server_draining")
                           .Help("1 while the server drains after SIGTERM/SIGINT")
                           .Register(metrics::Registry())
                           .Add({});
  return gauge;
}

}  // namespace

void ServerRunner::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_ || server_ == nullptr) return;
    shut_down_ = true;
  }
  draining_.store(true);
  DrainingGauge().Set(1);
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(false);
  log::Info("draining",
            {{"grace_seconds", absl::StrCat(absl::ToInt64Seconds(options_.shutdown_grace))}});
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_health_ = true;
  }
  cv_.notify_all();
  if (health_thread_.joinable()) health_thread_.join();
  server_->Wait();
  exposer_.reset();
  log::Info("server stopped");
}

void ServerRunner::RunUntilSignal(const std::function<void()>& before_drain) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (auto* health = server_ == nullptr ? nullptr : server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  draining_.store(true);
  DrainingGauge().Set(1);
  if (before_drain) before_drain();
  Shutdown();
}

}  // namespace crm::server
