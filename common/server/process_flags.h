// The command-line flags every service binary shares (with CRM_* environment
// fallbacks for containers), read into plain config once in main().
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/server/service_runtime.h"

namespace crm::server {

struct ProcessDefaults {
  int grpc_port = 0;
  int metrics_port = -1;
  int db_pool_size = 8;
};

struct ProcessFlags {
  RuntimeConfig runtime;  // name/schema/queue_capacity are the caller's to set
  bool migrate_only = false;
};

// Reads --host, --grpc_port, --metrics_port, --db_url / --db_url_file,
// --db_pool_size, --shutdown_grace_seconds, --log_level, --migrate_only,
// --skip_migrations (and applies the log level). INVALID_ARGUMENT when no
// database is configured or a value is malformed.
absl::StatusOr<ProcessFlags> ReadProcessFlags(const ProcessDefaults& defaults);

// For main(): logs `status` as the reason the process stops; returns 1.
int ExitWithError(absl::string_view what, const absl::Status& status);

}  // namespace crm::server
