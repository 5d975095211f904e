// The interaction service as the runtime runs it: its name, schema, default
// ports, migrations, and the wiring of the store, the handlers and the
// event feed. main.cc hands it to server::ServiceMain; tests start it
// in-process.
#pragma once

#include <vector>

#include "common/server/service_runtime.h"

namespace crm::interaction {

// The embedded migrations (generated from migrations/*.sql).
std::vector<db::MigrationFile> EmbeddedMigrations();

server::ServiceDefinition Definition();

}  // namespace crm::interaction
