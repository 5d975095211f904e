// Server reflection for the whole suite at the gateway, the one public
// endpoint: grpc.reflection.v1alpha.ServerReflection lists the gateway's own
// services and every routed service, and describes them, so a generic
// client (grpcurl, Postman, a dynamic Python client) needs only the gateway
// address and an API key. Requests about a routed package are answered by
// that package's backend (its own reflection, so the descriptions always
// match what is deployed); the rest from the gateway's own descriptors.
//
// The reflection messages are read and written by field number (the
// protocol is small and fixed), so no generated code for them is needed.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/support/byte_buffer.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/executor.h"

namespace crm::gateway {

inline constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// Sends one serialized ServerReflectionRequest to a backend's reflection
// service and returns its serialized response. Blocks: run on the executor.
using ReflectionExchange =
    std::function<absl::StatusOr<std::string>(const std::string& request, absl::Time deadline)>;

// The bytes of a message buffer.
std::string BytesOf(const grpc::ByteBuffer& buffer);

// The exchange over a real channel (one short stream per request).
ReflectionExchange ReflectionOver(std::shared_ptr<grpc::Channel> channel);

class ReflectionMerger {
 public:
  struct Backend {
    std::string package;  // "crm.customer.v1"
    ReflectionExchange exchange;
  };

  // `own_services`: full names of the services the gateway serves itself.
  ReflectionMerger(std::vector<std::string> own_services, std::vector<Backend> backends);

  // Answers one serialized ServerReflectionRequest with a serialized
  // ServerReflectionResponse (an error_response when nothing knows the
  // symbol or file, or the request is malformed).
  std::string Answer(const std::string& request, absl::Time deadline) const;

 private:
  const Backend* BackendForSymbol(const std::string& symbol) const;
  const Backend* BackendForFile(const std::string& file) const;

  std::vector<std::string> own_services_;
  std::vector<Backend> backends_;
};

// What kind of call each routed method is, learned from the backends'
// reflection the first time a method of a service is seen (on the
// executor, one question per service), so that unary calls can take the
// proxy's short path. Until known, a method takes the streaming path, which
// carries any kind of call.
class MethodKinds {
 public:
  enum class Kind { kUnknown, kUnary, kStreaming };

  MethodKinds(const ReflectionMerger& reflection, server::Executor& executor);

  // The kind of `path` ("/pkg.Service/Method"); kUnknown starts learning it.
  Kind Get(const std::string& path);
  // Learns the methods of `service` now (blocking; for the executor and tests).
  void Learn(const std::string& service);

 private:
  const ReflectionMerger& reflection_;
  server::Executor& executor_;
  std::mutex mu_;
  std::unordered_map<std::string, Kind> kinds_;
  std::unordered_map<std::string, absl::Time> asked_;  // service → when last asked
};

}  // namespace crm::gateway
