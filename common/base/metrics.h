// The process-wide Prometheus registry and the exposer that serves it.
#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
}

namespace crm::metrics {

prometheus::Registry& Registry();
std::shared_ptr<prometheus::Registry> SharedRegistry();

// Serves /metrics on `address` (host:port). The exposer stops when destroyed.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(const std::string& address);

}  // namespace crm::metrics
