// The whole suite as real binaries for e2e tests: every service of
// deploy/services.tsv over one fresh database (each connecting as its own
// role, set up by scripts/lib/service_database.sql as scripts/up does), the
// gateway last with routes to the others, API keys made with the gateway's
// CLI, and contexts that carry them.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testing/process.h"

namespace crm::testing {

// One row of deploy/services.tsv.
struct ServiceRow {
  std::string name;
  int grpc_port = 0;
  int metrics_port = 0;
  std::string schema;
  std::vector<std::string> routes;      // proto packages the gateway sends here
  std::vector<std::string> extensions;  // Postgres extensions it needs
};

// Parses the table; INVALID_ARGUMENT naming the line that does not fit.
absl::StatusOr<std::vector<ServiceRow>> ParseServiceTable(const std::string& text);

// Role, schema and extensions of `service`, as scripts/lib/service_database.sql
// makes them (the file's psql variables filled in).
std::string ServiceDatabaseSql(const std::string& sql_template, const ServiceRow& service);

class E2eSuite {
 public:
  // `extra_gateway_args` are appended to the gateway's command line.
  explicit E2eSuite(std::vector<std::string> extra_gateway_args = {});
  ~E2eSuite();

  // Creates a key with the gateway's CLI, the way an operator would.
  std::string CreateKey(const std::string& tenant, const std::string& scopes);
  // A context with `key` (none when empty) and a deadline.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& key, int seconds = 10);

  // The gateway's channel.
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  ChildProcess& process(const std::string& service);
  int port(const std::string& service) const;
  int metrics_port(const std::string& service) const;
  // The superuser's connection string of the suite's database.
  const std::string& db_url() const { return db_url_; }
  // A service's own connection string (its role).
  std::string db_url_of(const std::string& service) const;
  const std::vector<ServiceRow>& services() const { return services_; }
  const std::string& dir() const { return dir_; }
  // Puts secret `name` in the directory the services read channel secrets
  // from (CRM_CHANNEL_SECRETS_DIR).
  void WriteChannelSecret(const std::string& name, const std::string& value);

 private:
  void Start(const ServiceRow& service, std::vector<std::string> extra_args);

  std::vector<ServiceRow> services_;
  std::string db_url_;
  std::string dir_;
  std::map<std::string, int> ports_;
  std::map<std::string, int> metrics_ports_;
  std::map<std::string, std::unique_ptr<ChildProcess>> processes_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace crm::testing
