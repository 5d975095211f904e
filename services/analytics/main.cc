// crm-analytics: the analytics service binary (flags: docs/operations.md).
#include "common/server/service_main.h"
#include "services/analytics/analytics_app.h"

int main(int argc, char** argv) {
  return crm::server::ServiceMain(argc, argv, crm::analytics::Definition);
}
