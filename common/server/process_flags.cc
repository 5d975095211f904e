#include "common/server/process_flags.h"

#include "absl/flags/flag.h"
#include "common/base/env.h"
#include "common/base/log.h"

// Sentinels: "not given on the command line nor in the environment".
ABSL_FLAG(std::string, host, crm::EnvOr("CRM_HOST", std::string("127.0.0.1")),
          "Address to listen on (0.0.0.0 in containers)");
ABSL_FLAG(int, grpc_port, static_cast<int>(crm::EnvOr("CRM_GRPC_PORT", int64_t{-1})),
          "gRPC port (default: the service's own)");
ABSL_FLAG(int, metrics_port, static_cast<int>(crm::EnvOr("CRM_METRICS_PORT", int64_t{-2})),
          "Prometheus /metrics port; -1 disables (default: the service's own)");
ABSL_FLAG(std::string, db_url, crm::EnvOr("CRM_DB_URL", std::string("")),
          "libpq connection string (prefer --db_url_file when it holds a password)");
ABSL_FLAG(std::string, db_url_file, crm::EnvOr("CRM_DB_URL_FILE", std::string("")),
          "File holding the libpq connection string");
ABSL_FLAG(int, db_pool_size, static_cast<int>(crm::EnvOr("CRM_DB_POOL_SIZE", int64_t{0})),
          "Database connections, also the worker threads (default: the service's own)");
ABSL_FLAG(int, shutdown_grace_seconds,
          static_cast<int>(crm::EnvOr("CRM_SHUTDOWN_GRACE_SECONDS", int64_t{20})),
          "Time in-flight calls get to finish after SIGTERM");
ABSL_FLAG(std::string, log_level, crm::EnvOr("CRM_LOG_LEVEL", std::string("info")),
          "debug (one line per call, with its request id) | info | warning | error");
ABSL_FLAG(bool, migrate_only, false, "Apply the migrations and exit");
ABSL_FLAG(bool, skip_migrations, false,
          "Do not apply migrations at start (a Job does); stay NOT_SERVING until current");

namespace crm::server {

absl::StatusOr<ProcessFlags> ReadProcessFlags(const ProcessDefaults& defaults) {
  ProcessFlags flags;
  RuntimeConfig& rt = flags.runtime;
  const std::string level = absl::GetFlag(FLAGS_log_level);
  if (level == "debug") {
    log::SetMinSeverity(log::Severity::kDebug);
  } else if (level == "info") {
    log::SetMinSeverity(log::Severity::kInfo);
  } else if (level == "warning") {
    log::SetMinSeverity(log::Severity::kWarning);
  } else if (level == "error") {
    log::SetMinSeverity(log::Severity::kError);
  } else {
    return absl::InvalidArgumentError("--log_level: must be debug, info, warning or error");
  }
  rt.db_url = absl::GetFlag(FLAGS_db_url);
  if (!absl::GetFlag(FLAGS_db_url_file).empty()) {
    rt.db_url = ReadSecretFile(absl::GetFlag(FLAGS_db_url_file));
    if (rt.db_url.empty()) {
      return absl::InvalidArgumentError("--db_url_file: missing or empty file");
    }
  }
  if (rt.db_url.empty()) {
    return absl::InvalidArgumentError("no database: set --db_url_file (or --db_url)");
  }
  const int pool = absl::GetFlag(FLAGS_db_pool_size);
  rt.db_pool_size = pool > 0 ? pool : defaults.db_pool_size;
  rt.migrate = !absl::GetFlag(FLAGS_skip_migrations);
  rt.server.host = absl::GetFlag(FLAGS_host);
  const int grpc_port = absl::GetFlag(FLAGS_grpc_port);
  rt.server.grpc_port = grpc_port >= 0 ? grpc_port : defaults.grpc_port;
  const int metrics_port = absl::GetFlag(FLAGS_metrics_port);
  rt.server.metrics_port = metrics_port >= -1 ? metrics_port : defaults.metrics_port;
  rt.server.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  flags.migrate_only = absl::GetFlag(FLAGS_migrate_only);
  return flags;
}

int ExitWithError(absl::string_view what, const absl::Status& status) {
  log::Error(what, {{"error", std::string(status.message())}});
  return 1;
}

}  // namespace crm::server
