#include "common/server/rpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/metrics.h"

namespace crm::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

struct Families {
  prometheus::Family<prometheus::Counter>& started;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& seconds;
};

Families& GetFamilies() {
  static Families* f = new Families{
      prometheus::BuildCounter()
          .Name("grpc_server_started_total")
          .Help("RPCs started on the server")
          .Register(metrics::Registry()),
      prometheus::BuildCounter()
          .Name("grpc_server_handled_total")
          .Help("RPCs completed on the server, by status code")
          .Register(metrics::Registry()),
      prometheus::BuildHistogram()
          .Name("grpc_server_handling_seconds")
          .Help("Time from receiving an RPC to sending its status")
          .Register(metrics::Registry()),
  };
  return *f;
}

const char* TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case Type::UNARY:
      return "unary";
    case Type::CLIENT_STREAMING:
      return "client_stream";
    case Type::SERVER_STREAMING:
      return "server_stream";
    case Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "Unknown";
}

std::string Lookup(std::multimap<grpc::string_ref, grpc::string_ref>* md, absl::string_view key) {
  if (md == nullptr) return "";
  auto it = md->find(grpc::string_ref(key.data(), key.size()));
  return it == md->end() ? "" : std::string(it->second.data(), it->second.size());
}

constexpr int kCodes = 17;

// The metric children of one method, looked up once: a call then costs a
// hash lookup instead of building label maps three times.
struct MethodMetrics {
  std::string service;
  std::string method;
  prometheus::Counter* started;
  prometheus::Histogram* seconds;
  std::atomic<prometheus::Counter*> handled[kCodes];
};

MethodMetrics& MetricsFor(const char* path, const char* type) {
  static std::mutex mu;
  static auto* by_path = new std::unordered_map<std::string, std::unique_ptr<MethodMetrics>>();
  std::string key = absl::StrCat(path == nullptr ? "" : path, " ", type);
  std::lock_guard<std::mutex> lock(mu);
  auto it = by_path->find(key);
  if (it != by_path->end()) return *it->second;
  auto m = std::make_unique<MethodMetrics>();
  const std::string full = path == nullptr ? "" : path;
  // "/pkg.Service/Method"
  const auto slash = full.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    m->service = full.substr(1, slash - 1);
    m->method = full.substr(slash + 1);
  } else {
    m->service = "unknown";
    m->method = full;
  }
  Families& f = GetFamilies();
  const std::map<std::string, std::string> labels = {
      {"grpc_service", m->service}, {"grpc_method", m->method}, {"grpc_type", type}};
  m->started = &f.started.Add(labels);
  m->seconds = &f.seconds.Add(
      labels, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (auto& h : m->handled) h.store(nullptr);
  MethodMetrics& out = *m;
  by_path->emplace(std::move(key), std::move(m));
  return out;
}

prometheus::Counter& HandledCounter(MethodMetrics& m, const char* type, grpc::StatusCode code) {
  const int i = static_cast<int>(code);
  const int slot = (i >= 0 && i < kCodes) ? i : static_cast<int>(grpc::StatusCode::UNKNOWN);
  prometheus::Counter* c = m.handled[slot].load(std::memory_order_acquire);
  if (c == nullptr) {
    // Family::Add returns the same child for the same labels, so a race
    // here stores the same pointer twice.
    c = &GetFamilies().handled.Add({{"grpc_service", m.service},
                                    {"grpc_method", m.method},
                                    {"grpc_type", type},
                                    {"grpc_code", CodeName(code)}});
    m.handled[slot].store(c, std::memory_order_release);
  }
  return *c;
}

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : start_(absl::Now()),
        type_(TypeName(info->type())),
        metrics_(MetricsFor(info->method(), type_)) {
    metrics_.started->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      tenant_ = Lookup(md, "x-crm-tenant");
      request_id_ = Lookup(md, "x-request-id");
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* md = methods->GetSendInitialMetadata();
      if (md != nullptr) {
        auto it = md->find("x-request-id");
        if (it != md->end()) request_id_ = it->second;
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      HandledCounter(metrics_, type_, status.error_code()).Increment();
      metrics_.seconds->Observe(seconds);
      // Failed calls at INFO, with their request id; successful ones at DEBUG.
      const log::Severity severity = status.ok() ? log::Severity::kDebug : log::Severity::kInfo;
      if (log::Enabled(severity)) {
        log::Write(severity, "rpc finished",
                   {{"rpc", absl::StrCat(metrics_.service, "/", metrics_.method)},
                    {"code", CodeName(status.error_code())},
                    {"duration_ms", absl::StrCat(seconds * 1000.0)},
                    {"request_id", request_id_},
                    {"tenant", tenant_}});
      }
    }
    methods->Proceed();
  }

 private:
  absl::Time start_;
  const char* type_;
  MethodMetrics& metrics_;
  std::string tenant_;
  std::string request_id_;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace crm::server
