// crm-interaction: the interaction service binary (flags: docs/operations.md).
#include "common/server/service_main.h"
#include "services/interaction/interaction_app.h"

int main(int argc, char** argv) {
  return crm::server::ServiceMain(argc, argv, crm::interaction::Definition);
}
