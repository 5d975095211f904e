#include "common/server/service_main.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/base/env.h"
#include "common/base/log.h"
#include "common/base/status.h"

// Negative sentinels mean "not given on the command line nor in the
// environment": the service's own default applies.
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
ABSL_FLAG(int, db_read_connections,
          static_cast<int>(crm::EnvOr("CRM_DB_READ_CONNECTIONS", int64_t{2})),
          "Database connections that carry pipelined single-statement reads");
ABSL_FLAG(int, queue_capacity, static_cast<int>(crm::EnvOr("CRM_QUEUE_CAPACITY", int64_t{0})),
          "Requests waiting for a worker before RESOURCE_EXHAUSTED (default: the service's own)");
ABSL_FLAG(std::string, services, crm::EnvOr("CRM_SERVICES", std::string("")),
          "The suite's services this one calls: name=address,... (e.g. "
          "customer=127.0.0.1:50061)");
ABSL_FLAG(std::string, page_token_secret_file,
          crm::EnvOr("CRM_PAGE_TOKEN_SECRET_FILE", std::string("")),
          "File with the page-token HMAC secret (the same on every replica, >= 16 bytes)");
ABSL_FLAG(int, shutdown_grace_seconds,
          static_cast<int>(crm::EnvOr("CRM_SHUTDOWN_GRACE_SECONDS", int64_t{20})),
          "Time in-flight calls get to finish after SIGTERM");
ABSL_FLAG(std::string, log_level, crm::EnvOr("CRM_LOG_LEVEL", std::string("info")),
          "debug (one line per call, with its request id) | info | warning | error");
ABSL_FLAG(int, outbox_retention_hours,
          static_cast<int>(crm::EnvOr("CRM_OUTBOX_RETENTION_HOURS", int64_t{24 * 7})),
          "Events older than this are pruned from the outbox (consumers further behind get "
          "OUT_OF_RANGE)");
ABSL_FLAG(bool, migrate_only, false, "Apply the migrations and exit");
ABSL_FLAG(bool, skip_migrations, false,
          "Do not apply migrations at start (a Job does); stay NOT_SERVING until current");

namespace crm::server {

absl::StatusOr<std::map<std::string, std::string>> ParseServiceDirectory(absl::string_view flag) {
  std::map<std::string, std::string> services;
  for (absl::string_view entry : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    const std::string name(absl::StripAsciiWhitespace(kv.first));
    const std::string address(absl::StripAsciiWhitespace(kv.second));
    if (name.empty() || address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--services: '", entry, "' is not name=address"));
    }
    services[name] = address;
  }
  return services;
}

namespace {

int ExitWithError(absl::string_view what, const absl::Status& status) {
  log::Error(what, {{"error", std::string(status.message())}});
  return EXIT_FAILURE;
}

absl::Status ApplyLogLevel(const std::string& level) {
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
  return absl::OkStatus();
}

absl::StatusOr<RuntimeConfig> ReadSharedFlags(const ServiceDefinition& service) {
  RuntimeConfig config;
  config.db_url = absl::GetFlag(FLAGS_db_url);
  if (!absl::GetFlag(FLAGS_db_url_file).empty()) {
    config.db_url = ReadSecretFile(absl::GetFlag(FLAGS_db_url_file));
    if (config.db_url.empty()) {
      return absl::InvalidArgumentError("--db_url_file: missing or empty file");
    }
  }
  if (config.db_url.empty()) {
    return absl::InvalidArgumentError("no database: set --db_url_file (or --db_url)");
  }
  const int pool = absl::GetFlag(FLAGS_db_pool_size);
  config.db_pool_size = pool > 0 ? pool : service.db_pool_size;
  config.db_read_connections = absl::GetFlag(FLAGS_db_read_connections);
  if (config.db_read_connections < 1) {
    return absl::InvalidArgumentError("--db_read_connections: at least 1");
  }
  const int queue = absl::GetFlag(FLAGS_queue_capacity);
  if (queue < 0) return absl::InvalidArgumentError("--queue_capacity: must be positive");
  config.queue_capacity = queue > 0 ? queue : service.queue_capacity;
  if (!absl::GetFlag(FLAGS_page_token_secret_file).empty()) {
    config.page_token_secret = ReadSecretFile(absl::GetFlag(FLAGS_page_token_secret_file));
    if (config.page_token_secret.size() < 16) {
      return absl::InvalidArgumentError(
          "--page_token_secret_file: missing, or shorter than 16 bytes");
    }
  }
  CRM_ASSIGN_OR_RETURN(config.services, ParseServiceDirectory(absl::GetFlag(FLAGS_services)));
  config.migrate = !absl::GetFlag(FLAGS_skip_migrations);
  if (absl::GetFlag(FLAGS_outbox_retention_hours) < 1) {
    return absl::InvalidArgumentError("--outbox_retention_hours: at least 1");
  }
  config.outbox_retention = absl::Hours(absl::GetFlag(FLAGS_outbox_retention_hours));
  config.server.host = absl::GetFlag(FLAGS_host);
  const int grpc_port = absl::GetFlag(FLAGS_grpc_port);
  config.server.grpc_port = grpc_port >= 0 ? grpc_port : service.grpc_port;
  const int metrics_port = absl::GetFlag(FLAGS_metrics_port);
  config.server.metrics_port = metrics_port >= -1 ? metrics_port : service.metrics_port;
  config.server.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  return config;
}

}  // namespace

int ServiceMain(int argc, char** argv, const std::function<ServiceDefinition()>& define) {
  // Before any thread starts, so that SIGTERM and SIGINT reach
  // RunUntilSignal() instead of killing the process.
  BlockTerminationSignals();
  // gRPC's locks are absl::Mutex; Debian's Abseil checks every acquisition
  // against a lock-order graph, which costs CPU on every call and finds
  // nothing the tests (and TSan in the sanitizer builds) do not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  const ServiceDefinition service = define();
  log::SetServiceName(service.name);
  absl::Status level = ApplyLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return ExitWithError("bad configuration", level);
  auto config = ReadSharedFlags(service);
  if (!config.ok()) return ExitWithError("bad configuration", config.status());
  if (absl::GetFlag(FLAGS_migrate_only)) {
    auto applied = ServiceRuntime::MigrateOnly(config->db_url, service);
    if (!applied.ok()) return ExitWithError("migration failed", applied.status());
    log::Info("migrations applied",
              {{"schema", service.schema}, {"count", absl::StrCat(*applied)}});
    return EXIT_SUCCESS;
  }
  if (service.command) {
    if (std::optional<int> code = service.command(*config)) return *code;
  }
  auto runtime = ServiceRuntime::Start(*config, service);
  if (!runtime.ok()) return ExitWithError("start failed", runtime.status());
  (*runtime)->RunUntilSignal();
  return EXIT_SUCCESS;
}

}  // namespace crm::server
