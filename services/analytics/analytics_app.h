// The analytics service as the runtime runs it: its name, schema, default
// ports, migrations, and the wiring of the fact store, the handlers, the
// feeds it follows and its own event feed. main.cc hands it to
// server::ServiceMain; tests start it in-process.
#pragma once

#include <vector>

#include "common/server/service_runtime.h"

namespace crm::analytics {

// The embedded migrations (generated from migrations/*.sql).
std::vector<db::MigrationFile> EmbeddedMigrations();

server::ServiceDefinition Definition();

}  // namespace crm::analytics
