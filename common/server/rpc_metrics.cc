#include "common/server/rpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <string>

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

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : start_(absl::Now()), type_(TypeName(info->type())) {
    std::string full = info->method() == nullptr ? "" : info->method();
    // "/pkg.Service/Method"
    auto slash = full.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      service_ = full.substr(1, slash - 1);
      method_ = full.substr(slash + 1);
    } else {
      service_ = "unknown";
      method_ = full;
    }
    GetFamilies()
        .started.Add({{"grpc_service", service_}, {"grpc_method", method_}, {"grpc_type", type_}})
        .Increment();
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
      const char* code = CodeName(status.error_code());
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      Families& f = GetFamilies();
      f.handled
          .Add({{"grpc_service", service_},
                {"grpc_method", method_},
                {"grpc_type", type_},
                {"grpc_code", code}})
          .Increment();
      f.seconds
          .Add({{"grpc_service", service_}, {"grpc_method", method_}, {"grpc_type", type_}},
               prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
          .Observe(seconds);
      log::Write(status.ok() ? log::Severity::kDebug : log::Severity::kInfo, "rpc finished",
                 {{"rpc", absl::StrCat(service_, "/", method_)},
                  {"code", code},
                  {"duration_ms", absl::StrCat(seconds * 1000.0)},
                  {"request_id", request_id_},
                  {"tenant", tenant_}});
    }
    methods->Proceed();
  }

 private:
  absl::Time start_;
  std::string type_;
  std::string service_;
  std::string method_;
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
