// The one entry point of every service binary: blocks termination signals,
// parses the shared flags (with CRM_* environment fallbacks for containers;
// secrets from files only), applies --log_level, runs --migrate_only or the
// service's own one-shot command, or serves until SIGTERM/SIGINT and drains.
// A service's main.cc is one call:
//
//   int main(int argc, char** argv) {
//     return crm::server::ServiceMain(argc, argv, crm::customer::Definition);
//   }
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/service_runtime.h"

namespace crm::server {

// `define` runs after the flags are parsed, so a service can read its own
// flags into the definition it returns.
int ServiceMain(int argc, char** argv, const std::function<ServiceDefinition()>& define);

// --services: "name=address,..." → name → address; INVALID_ARGUMENT naming
// the entry that is not name=address.
absl::StatusOr<std::map<std::string, std::string>> ParseServiceDirectory(absl::string_view flag);

}  // namespace crm::server
