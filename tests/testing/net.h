// Loopback helpers: free ports and a tiny HTTP GET for /metrics.
#pragma once

#include <string>
#include <vector>

namespace crm::testing {

// A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's
// range of outgoing ports (so no client connection takes it meanwhile),
// never the same twice in one process.
int FreePort();
// Whether something accepts TCP connections on 127.0.0.1:<port>.
bool Accepts(int port);
// GET http://127.0.0.1:<port><path>; returns the body or "" on failure.
std::string HttpGet(int port, const std::string& path);
// Sums every sample of `metric` whose label set contains every `labels`
// fragment (e.g. {"grpc_method=\"GetCustomer\"", "grpc_code=\"OK\""}).
double MetricSum(const std::string& exposition, const std::string& metric,
                 const std::vector<std::string>& labels);

}  // namespace crm::testing
