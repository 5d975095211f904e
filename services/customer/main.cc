// crm-customer: the customer service binary (flags: docs/operations.md).
#include "common/server/service_main.h"
#include "services/customer/customer_app.h"

int main(int argc, char** argv) {
  return crm::server::ServiceMain(argc, argv, crm::customer::Definition);
}
