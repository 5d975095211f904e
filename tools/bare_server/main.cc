// bare_server: the benchmark's peer for "gRPC alone". A minimal gRPC C++
// callback server that answers crm.customer.v1.CustomerService GetCustomer
// and ListCustomers from customers held in memory, and grpc.health.v1, with
// nothing else: no database, executor, interceptors or metrics. scripts/bench
// drives it with the same tools/loadgen calls as crm-customer, so the ratio
// of the two is the cost of everything the service adds.
//
//   bare_server --port 50999 --customers 1000
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"

ABSL_FLAG(int, port, 50999, "Port on 127.0.0.1");
ABSL_FLAG(int, customers, 1000, "Customers held in memory");

namespace {

using crm::customer::v1::Customer;

// Customers shaped like the benchmark's (scripts/lib/bench_customers.sql).
std::map<std::string, Customer> MakeCustomers(int n) {
  std::map<std::string, Customer> customers;
  for (int i = 1; i <= n; ++i) {
    Customer c;
    c.set_name(absl::StrFormat("customers/00000000-0000-4000-8000-%012d", i));
    c.set_external_id(absl::StrCat("ext-", i));
    c.set_email(absl::StrCat("user", i, "@example.com"));
    if (i % 2 == 0) c.set_phone(absl::StrFormat("+4477%08d", i));
    c.set_given_name("Oliver");
    c.set_family_name("Smith");
    c.set_country("GB");
    (*c.mutable_attributes())["tier"].set_string_value("gold");
    auto* address = c.add_addresses();
    address->mutable_address()->add_lines(absl::StrCat(1 + i % 180, " High Street"));
    address->mutable_address()->set_postal_code(absl::StrCat("P", (i * 7919) % 250000));
    address->mutable_address()->set_country("GB");
    c.mutable_create_time()->set_seconds(1704067200 + i);
    c.mutable_update_time()->set_seconds(1704067200 + i);
    c.set_etag("v1");
    customers.emplace(c.name(), std::move(c));
  }
  return customers;
}

class BareCustomers final : public crm::customer::v1::CustomerService::CallbackService {
 public:
  explicit BareCustomers(std::map<std::string, Customer> customers)
      : customers_(std::move(customers)) {}

  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* ctx,
                                        const crm::customer::v1::GetCustomerRequest* request,
                                        Customer* response) override {
    auto* reactor = ctx->DefaultReactor();
    auto it = customers_.find(request->name());
    if (it == customers_.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, request->name()));
    } else {
      *response = it->second;
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* ListCustomers(
      grpc::CallbackServerContext* ctx, const crm::customer::v1::ListCustomersRequest* request,
      crm::customer::v1::ListCustomersResponse* response) override {
    const int limit = std::max(1, std::min(1000, request->page_size()));
    for (const auto& [name, c] : customers_) {
      if (response->customers_size() >= limit) break;
      *response->add_customers() = c;
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::map<std::string, Customer> customers_;
};

}  // namespace

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  absl::ParseCommandLine(argc, argv);
  BareCustomers service(MakeCustomers(absl::GetFlag(FLAGS_customers)));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot listen on port %d\n", absl::GetFlag(FLAGS_port));
    return 1;
  }
  std::fprintf(stderr, "bare_server listening on 127.0.0.1:%d\n", port);
  int sig = 0;
  sigwait(&set, &sig);
  server->Shutdown();
  return 0;
}
