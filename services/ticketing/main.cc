// crm-ticketing: the ticketing service binary (flags: docs/operations.md).
#include "common/server/service_main.h"
#include "services/ticketing/ticketing_app.h"

int main(int argc, char** argv) {
  return crm::server::ServiceMain(argc, argv, crm::ticketing::Definition);
}
