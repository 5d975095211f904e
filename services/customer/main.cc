// crm-customer: composition root. Flags (with CRM_* environment fallbacks)
// → config → App. Secrets come from files, never from the command line.
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/base/crypto.h"
#include "common/base/env.h"
#include "common/base/log.h"
#include "common/server/process_flags.h"
#include "services/customer/customer_app.h"

ABSL_FLAG(int, queue_capacity, static_cast<int>(crm::EnvOr("CRM_QUEUE_CAPACITY", int64_t{256})),
          "Requests waiting for a worker before RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, page_token_secret_file,
          crm::EnvOr("CRM_PAGE_TOKEN_SECRET_FILE", std::string("")),
          "File with the page-token HMAC secret (the same on every replica)");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  crm::log::SetServiceName("customer");
  auto flags = crm::server::ReadProcessFlags({50061, 9461, 8});
  if (!flags.ok()) return crm::server::ExitWithError("bad configuration", flags.status());
  const crm::server::RuntimeConfig& rt = flags->runtime;
  if (flags->migrate_only) {
    auto applied = crm::customer::MigrateOnly(rt.db_url);
    if (!applied.ok()) return crm::server::ExitWithError("migration failed", applied.status());
    crm::log::Info("migrations applied", {{"count", std::to_string(*applied)}});
    return EXIT_SUCCESS;
  }
  crm::customer::AppConfig config;
  config.db_url = rt.db_url;
  config.db_pool_size = rt.db_pool_size;
  config.migrate = rt.migrate;
  config.server = rt.server;
  config.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  config.page_token_secret = crm::ReadSecretFile(absl::GetFlag(FLAGS_page_token_secret_file));
  if (config.page_token_secret.empty()) {
    crm::log::Warning(
        "no --page_token_secret_file: using a per-process secret; page tokens will not "
        "survive a restart or cross replicas");
    config.page_token_secret = crm::crypto::RandomToken(32);
  }
  auto app = crm::customer::App::Start(config);
  if (!app.ok()) return crm::server::ExitWithError("start failed", app.status());
  (*app)->RunUntilSignal();
  return EXIT_SUCCESS;
}
