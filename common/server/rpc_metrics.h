// A server interceptor that records the usual gRPC server metrics
// (grpc_server_started_total, grpc_server_handled_total,
// grpc_server_handling_seconds) and logs one line per finished call with
// its request id and tenant. Works for generated and generic services alike.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace crm::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory();

}  // namespace crm::server
