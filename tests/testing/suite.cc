#include "tests/testing/suite.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/server/health_client.h"
#include "tests/testing/net.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

constexpr char kAdminToken[] = "e2e-admin-token-0123456789";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
}

std::vector<std::string> List(absl::string_view column) {
  if (column == "-") return {};
  return absl::StrSplit(column, ',', absl::SkipEmpty());
}

bool WaitServing(int port, absl::Duration within) {
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  const absl::Time until = absl::Now() + within;
  while (absl::Now() < until) {
    auto state = server::CheckHealth(channel, "", absl::Milliseconds(500));
    if (state.ok() && *state == server::HealthState::kServing) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<ServiceRow>> ParseServiceTable(const std::string& text) {
  std::vector<ServiceRow> rows;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> cols =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    ServiceRow row;
    if (cols.size() != 6 || !absl::SimpleAtoi(cols[1], &row.grpc_port) ||
        !absl::SimpleAtoi(cols[2], &row.metrics_port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("services table line ", line_number,
                       ": expected name grpc_port metrics_port schema routes extensions"));
    }
    row.name = std::string(cols[0]);
    row.schema = std::string(cols[3]);
    row.routes = List(cols[4]);
    row.extensions = List(cols[5]);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ServiceDatabaseSql(const std::string& sql_template, const ServiceRow& service) {
  auto literal = [](const std::string& s) { return absl::StrCat("'", s, "'"); };
  return absl::StrReplaceAll(
      sql_template,
      {{":'svc'", literal(service.name)},
       {":'schema'", literal(service.schema)},
       {":'extensions'",
        literal(service.extensions.empty() ? "-" : absl::StrJoin(service.extensions, ","))}});
}

E2eSuite::E2eSuite(std::vector<std::string> extra_gateway_args) {
  auto table = ParseServiceTable(ReadFile(CRM_SERVICE_TABLE));
  if (!table.ok()) FAIL(table.status().message());
  services_ = *std::move(table);
  db_url_ = CreateDatabase("e2e");
  const std::string sql = ReadFile(CRM_SERVICE_DATABASE_SQL);
  for (const auto& s : services_) ExecSql(db_url_, ServiceDatabaseSql(sql, s));
  dir_ = absl::StrCat("/tmp/crm-e2e-", getpid());
  ::mkdir(dir_.c_str(), 0700);
  WriteFile(dir_ + "/admin_token", kAdminToken);
  WriteFile(dir_ + "/page_secret", "e2e-page-token-secret-0123456789");
  // The services' channel secrets (SMTP, IMAP, provider tokens), as
  // scripts/up passes them to the interaction service.
  ::mkdir((dir_ + "/channel-secrets").c_str(), 0700);
  ::setenv("CRM_CHANNEL_SECRETS_DIR", (dir_ + "/channel-secrets").c_str(), 1);
  for (const auto& s : services_) {
    ports_[s.name] = FreePort();
    metrics_ports_[s.name] = FreePort();
  }
  // Every backend may call the others (--services), as in scripts/up.
  std::vector<std::string> directory;
  for (const auto& s : services_) {
    if (!s.routes.empty()) directory.push_back(absl::StrCat(s.name, "=127.0.0.1:", ports_[s.name]));
  }
  std::vector<std::string> routes;
  for (const auto& s : services_) {
    if (s.name != "gateway") Start(s, {"--services=" + absl::StrJoin(directory, ",")});
    for (const auto& package : s.routes) {
      routes.push_back(absl::StrCat(package, "=127.0.0.1:", ports_[s.name]));
    }
  }
  extra_gateway_args.push_back("--routes=" + absl::StrJoin(routes, ","));
  extra_gateway_args.push_back("--admin_token_file=" + dir_ + "/admin_token");
  extra_gateway_args.push_back("--key_cache_ttl_ms=200");
  for (const auto& s : services_) {
    if (s.name == "gateway") Start(s, extra_gateway_args);
  }
  for (const auto& s : services_) {
    bool serving = WaitServing(ports_[s.name], absl::Seconds(20));
    // A metrics port FreePort chose may have been taken meanwhile (e.g. as
    // another process's outgoing port): start again on another.
    if (!serving && !processes_[s.name]->running() &&
        absl::StrContains(processes_[s.name]->Log(), "cannot serve metrics")) {
      metrics_ports_[s.name] = FreePort();
      Start(s, s.name == "gateway"
                   ? extra_gateway_args
                   : std::vector<std::string>{"--services=" + absl::StrJoin(directory, ",")});
      serving = WaitServing(ports_[s.name], absl::Seconds(20));
    }
    if (!serving) FAIL(s.name << " not serving:\n" << processes_[s.name]->Log());
  }
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", ports_["gateway"]),
                                 grpc::InsecureChannelCredentials());
}

E2eSuite::~E2eSuite() = default;

void E2eSuite::Start(const ServiceRow& service, std::vector<std::string> extra_args) {
  std::vector<std::string> args = {
      "--db_url=" + db_url_of(service.name), absl::StrCat("--grpc_port=", ports_[service.name]),
      absl::StrCat("--metrics_port=", metrics_ports_[service.name]),
      "--page_token_secret_file=" + dir_ + "/page_secret", "--shutdown_grace_seconds=15"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  processes_[service.name] = std::make_unique<ChildProcess>(
      absl::StrCat(CRM_SERVICES_BIN_DIR, "/", service.name, "/crm-", service.name), args,
      absl::StrCat(dir_, "/", service.name, ".log"));
}

void E2eSuite::WriteChannelSecret(const std::string& name, const std::string& value) {
  WriteFile(absl::StrCat(dir_, "/channel-secrets/", name), value);
}

std::string E2eSuite::CreateKey(const std::string& tenant, const std::string& scopes) {
  int code = 0;
  std::string out = RunCapture(absl::StrCat(CRM_SERVICES_BIN_DIR, "/gateway/crm-gateway"),
                               {"--db_url=" + db_url_of("gateway"), "--create_api_key",
                                "--tenant=" + tenant, "--scopes=" + scopes},
                               &code);
  REQUIRE(code == 0);
  return std::string(absl::StripAsciiWhitespace(out));
}

std::unique_ptr<grpc::ClientContext> E2eSuite::Ctx(const std::string& key, int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!key.empty()) ctx->AddMetadata("authorization", "Bearer " + key);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(seconds)));
  return ctx;
}

ChildProcess& E2eSuite::process(const std::string& service) { return *processes_.at(service); }
int E2eSuite::port(const std::string& service) const { return ports_.at(service); }
int E2eSuite::metrics_port(const std::string& service) const { return metrics_ports_.at(service); }
std::string E2eSuite::db_url_of(const std::string& service) const {
  return WithParam(db_url_, "user", "crm_" + service);
}

}  // namespace crm::testing
