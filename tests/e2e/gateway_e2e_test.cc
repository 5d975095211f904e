// End to end: the real crm-customer and crm-gateway binaries on loopback,
// called through the gateway with real API keys, as a backend system would.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/server/health_client.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/gateway/v1/api_key_service.grpc.pb.h"
#include "tests/testing/net.h"
#include "tests/testing/process.h"
#include "tests/testing/suite.h"
#include "tests/testing/test_db.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::CustomerService;
using crm::customer::v1::DeleteCustomerRequest;
using crm::customer::v1::GetCustomerRequest;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using crm::customer::v1::UpdateCustomerRequest;

// The suite's admin token (tests/testing/suite.cc).
constexpr char kAdminToken[] = "e2e-admin-token-0123456789";

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
}

// Polls `condition` until it holds or `within` passes; true if it held.
bool Eventually(const std::function<bool()>& condition, absl::Duration within) {
  const absl::Time until = absl::Now() + within;
  while (absl::Now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

// Whether a statement of the customer service waits for a row lock.
bool CustomerWaitsForLock(const std::string& db_url) {
  pqxx::connection watch(db_url);
  pqxx::nontransaction q(watch);
  return q.exec(
              "SELECT count(*) FROM pg_stat_activity WHERE usename = 'crm_customer' AND "
              "wait_event_type = 'Lock'")[0][0]
             .as<int>() > 0;
}

// The suite (tests/testing/suite.h) with the customer service's stub and
// the names these tests use.
class Suite : public E2eSuite {
 public:
  explicit Suite(std::vector<std::string> extra_gateway_args = {})
      : E2eSuite(std::move(extra_gateway_args)), stub_(CustomerService::NewStub(channel())) {}

  CustomerService::Stub& stub() { return *stub_; }
  ChildProcess& customer() { return process("customer"); }
  ChildProcess& gateway() { return process("gateway"); }
  int customer_port() const { return port("customer"); }
  int customer_metrics() const { return metrics_port("customer"); }
  int gateway_port() const { return port("gateway"); }
  int gateway_metrics() const { return metrics_port("gateway"); }

 private:
  std::unique_ptr<CustomerService::Stub> stub_;
};

Customer Create(Suite& s, const std::string& key, const std::string& email) {
  CreateCustomerRequest req;
  req.mutable_customer()->set_email(email);
  req.mutable_customer()->set_country("GB");
  Customer out;
  grpc::Status st = s.stub().CreateCustomer(Suite::Ctx(key).get(), req, &out);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return out;
}

TEST_CASE("customers through the gateway: CRUD, auth, tenancy, health, metrics", "[e2e]") {
  Suite s;
  const std::string key_a = s.CreateKey("tenant-a", "*");
  const std::string key_b = s.CreateKey("tenant-b", "customer.read,customer.write");
  const std::string key_a_read = s.CreateKey("tenant-a", "customer.read");

  // Create, with our own request id echoed back.
  CreateCustomerRequest create;
  create.mutable_customer()->set_email("ann@example.com");
  create.mutable_customer()->set_given_name("Ann");
  create.mutable_customer()->add_tags("vip");
  create.set_request_id("e2e-create-1");
  Customer ann;
  {
    auto ctx = Suite::Ctx(key_a);
    ctx->AddMetadata("x-request-id", "trace-123");
    grpc::Status st = s.stub().CreateCustomer(ctx.get(), create, &ann);
    INFO(st.error_message());
    REQUIRE(st.ok());
    auto md = ctx->GetServerInitialMetadata();
    auto it = md.find("x-request-id");
    REQUIRE(it != md.end());
    CHECK(std::string(it->second.data(), it->second.size()) == "trace-123");
  }
  int creates_ok = 1;
  // Retried create: same customer.
  Customer retry;
  REQUIRE(s.stub().CreateCustomer(Suite::Ctx(key_a).get(), create, &retry).ok());
  ++creates_ok;
  CHECK(retry.name() == ann.name());

  GetCustomerRequest get;
  get.set_name(ann.name());
  Customer got;
  REQUIRE(s.stub().GetCustomer(Suite::Ctx(key_a).get(), get, &got).ok());
  CHECK(got.email() == "ann@example.com");

  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(ann.name());
  update.mutable_customer()->set_family_name("Lee");
  update.mutable_update_mask()->add_paths("family_name");
  update.set_etag(got.etag());
  Customer updated;
  REQUIRE(s.stub().UpdateCustomer(Suite::Ctx(key_a).get(), update, &updated).ok());
  CHECK(updated.family_name() == "Lee");
  // Stale etag through the gateway: ABORTED passes back unchanged.
  CHECK(s.stub().UpdateCustomer(Suite::Ctx(key_a).get(), update, &updated).error_code() ==
        grpc::StatusCode::ABORTED);

  Create(s, key_a, "bob@example.com");
  ++creates_ok;
  ListCustomersRequest list;
  list.set_filter("tags:\"vip\"");
  ListCustomersResponse page;
  REQUIRE(s.stub().ListCustomers(Suite::Ctx(key_a).get(), list, &page).ok());
  REQUIRE(page.customers_size() == 1);
  CHECK(page.customers(0).name() == ann.name());

  // The audit history names the API key that made each change.
  {
    crm::customer::v1::ListCustomerHistoryRequest history;
    history.set_name(ann.name());
    crm::customer::v1::ListCustomerHistoryResponse entries;
    REQUIRE(s.stub().ListCustomerHistory(Suite::Ctx(key_a).get(), history, &entries).ok());
    REQUIRE(entries.entries_size() == 2);  // created, updated
    CHECK(entries.entries(1).action() == "created");
    CHECK(entries.entries(1).actor().rfind("apiKeys/", 0) == 0);
    CHECK(entries.entries(1).request_id() == "trace-123");
  }

  // Tenant B cannot see tenant A's customer. The caller's request id reaches
  // the backend, whose log line for the failed call carries it.
  {
    auto ctx = Suite::Ctx(key_b);
    ctx->AddMetadata("x-request-id", "trace-tenant-b-404");
    CHECK(s.stub().GetCustomer(ctx.get(), get, &got).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  list.clear_filter();
  REQUIRE(s.stub().ListCustomers(Suite::Ctx(key_b).get(), list, &page).ok());
  CHECK(page.customers_size() == 0);

  // Keys: unknown, missing, malformed → UNAUTHENTICATED; read-only → PERMISSION_DENIED.
  CHECK(s.stub().GetCustomer(Suite::Ctx("crm_not-a-real-key").get(), get, &got).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(s.stub().GetCustomer(Suite::Ctx("").get(), get, &got).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(s.stub().GetCustomer(Suite::Ctx(key_a_read).get(), get, &got).ok());
  // Asking about consent is a read: the read-only key may, and gets an answer.
  crm::customer::v1::CheckConsentRequest check;
  check.set_name(ann.name());
  check.set_channel(crm::customer::v1::CONSENT_CHANNEL_EMAIL);
  check.set_purpose(crm::customer::v1::CONSENT_PURPOSE_MARKETING);
  crm::customer::v1::CheckConsentResponse verdict;
  REQUIRE(s.stub().CheckConsent(Suite::Ctx(key_a_read).get(), check, &verdict).ok());
  CHECK_FALSE(verdict.allowed());
  crm::customer::v1::RecordConsentRequest consent;
  consent.set_name(ann.name());
  consent.mutable_consent()->set_channel(crm::customer::v1::CONSENT_CHANNEL_EMAIL);
  consent.mutable_consent()->set_purpose(crm::customer::v1::CONSENT_PURPOSE_MARKETING);
  consent.mutable_consent()->set_status(crm::customer::v1::CONSENT_STATUS_GRANTED);
  consent.mutable_consent()->set_source("signup-form");
  consent.mutable_consent()->set_text_version("v1");
  crm::customer::v1::Consent recorded;
  CHECK(s.stub().RecordConsent(Suite::Ctx(key_a_read).get(), consent, &recorded).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(s.stub().RecordConsent(Suite::Ctx(key_a).get(), consent, &recorded).ok());
  REQUIRE(s.stub().CheckConsent(Suite::Ctx(key_a_read).get(), check, &verdict).ok());
  CHECK(verdict.allowed());
  CHECK(s.stub().CreateCustomer(Suite::Ctx(key_a_read).get(), create, &got).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Validation errors pass through with the field named.
  CreateCustomerRequest bad;
  bad.mutable_customer()->set_phone("12345");
  grpc::Status st = s.stub().CreateCustomer(Suite::Ctx(key_a).get(), bad, &got);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().rfind("customer.phone:", 0) == 0);

  DeleteCustomerRequest del;
  del.set_name(ann.name());
  Customer deleted;
  REQUIRE(s.stub().DeleteCustomer(Suite::Ctx(key_a).get(), del, &deleted).ok());
  CHECK(deleted.has_delete_time());
  st = s.stub().ListCustomers(Suite::Ctx(key_a).get(), list, &page);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(page.customers_size() == 1);

  // Health of both processes.
  auto gw_health = server::CheckHealth(s.channel());
  REQUIRE(gw_health.ok());
  CHECK(*gw_health == server::HealthState::kServing);
  auto customer_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.customer_port()),
                                              grpc::InsecureChannelCredentials());
  CHECK(*server::CheckHealth(customer_channel) == server::HealthState::kServing);

  {
    const std::string log = s.customer().Log();
    const size_t at = log.find("trace-tenant-b-404");
    REQUIRE(at != std::string::npos);
    const std::string line =
        log.substr(log.rfind('\n', at) + 1, log.find('\n', at) - log.rfind('\n', at));
    CHECK(line.find("\"tenant\":\"tenant-b\"") != std::string::npos);
    CHECK(line.find("\"code\":\"NotFound\"") != std::string::npos);
  }

  // /metrics counted exactly the calls made.
  const std::string gw_metrics = HttpGet(s.gateway_metrics(), "/metrics");
  CHECK(MetricSum(gw_metrics, "grpc_server_handled_total",
                  {"grpc_method=\"CreateCustomer\"", "grpc_code=\"OK\""}) == creates_ok);
  CHECK(MetricSum(gw_metrics, "grpc_server_handled_total",
                  {"grpc_method=\"GetCustomer\"", "grpc_code=\"Unauthenticated\""}) == 2);
  CHECK(MetricSum(gw_metrics, "grpc_server_handled_total",
                  {"grpc_method=\"CreateCustomer\"", "grpc_code=\"PermissionDenied\""}) == 1);
  const std::string customer_metrics = HttpGet(s.customer_metrics(), "/metrics");
  CHECK(MetricSum(customer_metrics, "grpc_server_handled_total",
                  {"grpc_method=\"CreateCustomer\"", "grpc_code=\"OK\""}) == creates_ok);
  CHECK(MetricSum(customer_metrics, "grpc_server_handled_total",
                  {"grpc_method=\"GetCustomer\"", "grpc_code=\"NotFound\""}) == 1);
  CHECK(MetricSum(customer_metrics, "crm_db_query_duration_seconds_count",
                  {"query=\"customer_insert_customer\""}) == 2);
}

TEST_CASE("key administration: admin token, revoke takes effect", "[e2e]") {
  Suite s;
  auto admin = crm::gateway::v1::ApiKeyService::NewStub(s.channel());
  crm::gateway::v1::CreateApiKeyRequest req;
  req.mutable_api_key()->set_tenant("tenant-c");
  req.mutable_api_key()->add_scopes("customer.*");
  crm::gateway::v1::CreateApiKeyResponse created;
  CHECK(admin->CreateApiKey(Suite::Ctx("wrong-admin-token").get(), req, &created).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(admin->CreateApiKey(Suite::Ctx(kAdminToken).get(), req, &created).ok());
  CHECK(created.key().rfind("crm_", 0) == 0);
  CHECK(created.api_key().prefix() == created.key().substr(0, 12));
  req.mutable_api_key()->set_tenant("Bad Tenant");
  crm::gateway::v1::CreateApiKeyResponse rejected;
  grpc::Status st = admin->CreateApiKey(Suite::Ctx(kAdminToken).get(), req, &rejected);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().rfind("api_key.tenant:", 0) == 0);

  Customer c = Create(s, created.key(), "carol@example.com");
  // The stored hash is not the key.
  {
    pqxx::connection conn(s.db_url());
    pqxx::nontransaction tx(conn);
    auto rows =
        tx.exec_params("SELECT count(*) FROM gateway.api_keys WHERE key_hash = $1", created.key());
    CHECK(rows[0][0].as<int>() == 0);
  }
  crm::gateway::v1::RevokeApiKeyRequest revoke;
  revoke.set_name(created.api_key().name());
  crm::gateway::v1::ApiKey revoked;
  REQUIRE(admin->RevokeApiKey(Suite::Ctx(kAdminToken).get(), revoke, &revoked).ok());
  CHECK(revoked.has_revoke_time());
  // Refused once the key cache (TTL 200 ms here) has forgotten the key.
  GetCustomerRequest get;
  get.set_name(c.name());
  Customer out;
  CHECK(Eventually(
      [&] {
        return s.stub().GetCustomer(Suite::Ctx(created.key()).get(), get, &out).error_code() ==
               grpc::StatusCode::UNAUTHENTICATED;
      },
      absl::Seconds(5)));
  crm::gateway::v1::ListApiKeysRequest list_req;
  list_req.set_tenant("tenant-c");
  crm::gateway::v1::ListApiKeysResponse keys;
  REQUIRE(admin->ListApiKeys(Suite::Ctx(kAdminToken).get(), list_req, &keys).ok());
  CHECK(keys.api_keys_size() == 1);
}

TEST_CASE(
    "SIGTERM lets the in-flight call finish and exits 0 and the gateway then answers UNAVAILABLE",
    "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-a", "*");
  Customer c = Create(s, key, "slow@example.com");
  const std::string id = c.name().substr(std::string("customers/").size());

  // Hold the row lock so the update blocks inside the service.
  pqxx::connection conn(s.db_url());
  pqxx::work lock(conn);
  lock.exec_params("SELECT 1 FROM customer.customers WHERE id = $1::uuid FOR UPDATE", id);

  grpc::Status update_status;
  Customer updated;
  std::thread caller([&] {
    UpdateCustomerRequest update;
    update.mutable_customer()->set_name(c.name());
    update.mutable_customer()->set_given_name("Finished");
    update.mutable_update_mask()->add_paths("given_name");
    update_status = s.stub().UpdateCustomer(Suite::Ctx(key, 30).get(), update, &updated);
  });
  // An event-feed subscriber (directly on the service, as consumers are):
  // it must not hold up the drain.
  auto feed_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.customer_port()),
                                          grpc::InsecureChannelCredentials());
  auto feed = crm::customer::v1::EventFeedService::NewStub(feed_channel);
  grpc::ClientContext feed_ctx;
  feed_ctx.AddMetadata("x-crm-tenant", "tenant-a");
  crm::events::v1::SubscribeRequest sub;
  auto reader = feed->Subscribe(&feed_ctx, sub);
  crm::events::v1::SubscribeResponse event;
  REQUIRE(reader->Read(&event));  // the backlog: customer.created
  CHECK(event.event().type() == "customer.created");
  grpc::Status feed_status;
  std::thread subscriber([&] {
    while (reader->Read(&event)) {
    }
    feed_status = reader->Finish();
  });

  // The update is inside the service, waiting for the row lock.
  auto waiting_for_lock = [&] { return CustomerWaitsForLock(s.db_url()); };
  REQUIRE(Eventually(waiting_for_lock, absl::Seconds(10)));
  s.customer().Signal(SIGTERM);
  // Draining: health says NOT_SERVING while the process waits for the call.
  CHECK(Eventually(
      [&] {
        auto state = server::CheckHealth(feed_channel, "", absl::Milliseconds(500));
        return state.ok() && *state == server::HealthState::kNotServing;
      },
      absl::Seconds(5)));
  CHECK(s.customer().running());
  CHECK(waiting_for_lock());
  lock.commit();
  caller.join();
  subscriber.join();
  CHECK(feed_status.error_code() == grpc::StatusCode::UNAVAILABLE);
  INFO(update_status.error_message());
  CHECK(update_status.ok());
  CHECK(updated.given_name() == "Finished");
  // Exits 0 once the call has finished, not at the end of the 15 s grace
  // period (which would log that in-flight calls were cut off).
  const int code = s.customer().Wait(20000);
  INFO(s.customer().Log());
  CHECK(code == 0);

  // The backend is gone: the gateway answers UNAVAILABLE.
  GetCustomerRequest get;
  get.set_name(c.name());
  Customer out;
  CHECK(s.stub().GetCustomer(Suite::Ctx(key).get(), get, &out).error_code() ==
        grpc::StatusCode::UNAVAILABLE);

  s.gateway().Signal(SIGTERM);
  CHECK(s.gateway().Wait(20000) == 0);
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("unary calls take the gateway's short path once the backend described them", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-a", "*");
  Customer c = Create(s, key, "unary@example.com");
  GetCustomerRequest get;
  get.set_name(c.name());
  Customer got;
  auto unary_calls = [&] {
    return MetricSum(HttpGet(s.gateway_metrics(), "/metrics"), "crm_gateway_proxied_calls_total",
                     {"path=\"unary\""});
  };
  // The first call of a service's method asks its reflection; later calls
  // of its unary methods are proxied as unary calls.
  REQUIRE(Eventually(
      [&] {
        REQUIRE(s.stub().GetCustomer(Suite::Ctx(key).get(), get, &got).ok());
        return unary_calls() > 0;
      },
      absl::Seconds(10)));
  const double before = unary_calls();

  // On the short path: the answer, the request id echoed, errors with their
  // message, metadata both ways, a deadline, another tenant's NOT_FOUND.
  auto ctx = Suite::Ctx(key);
  ctx->AddMetadata("x-request-id", "unary-trace-1");
  REQUIRE(s.stub().GetCustomer(ctx.get(), get, &got).ok());
  CHECK(got.email() == "unary@example.com");
  auto md = ctx->GetServerInitialMetadata();
  auto it = md.find("x-request-id");
  REQUIRE(it != md.end());
  CHECK(std::string(it->second.data(), it->second.size()) == "unary-trace-1");
  GetCustomerRequest bad;
  bad.set_name("customers/not-a-uuid");
  grpc::Status st = s.stub().GetCustomer(Suite::Ctx(key).get(), bad, &got);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_FALSE(st.error_message().empty());
  const std::string other = s.CreateKey("tenant-b", "*");
  CHECK(s.stub().GetCustomer(Suite::Ctx(other).get(), get, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  auto expired = Suite::Ctx(key);
  expired->set_deadline(absl::ToChronoTime(absl::Now() - absl::Seconds(1)));
  CHECK(s.stub().GetCustomer(expired.get(), get, &got).error_code() ==
        grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(unary_calls() >= before + 3);
}

TEST_CASE("the gateway propagates deadlines and cancellation to the backend", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-a", "*");
  Customer c = Create(s, key, "blocked@example.com");
  const std::string id = c.name().substr(std::string("customers/").size());
  pqxx::connection conn(s.db_url());
  pqxx::work lock(conn);
  lock.exec_params("SELECT 1 FROM customer.customers WHERE id = $1::uuid FOR UPDATE", id);

  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(c.name());
  update.mutable_update_mask()->add_paths("given_name");
  Customer out;
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + key);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(600)));
  grpc::Status st = s.stub().UpdateCustomer(ctx.get(), update, &out);
  CHECK(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);

  // The backend gave up too: its statement ran under a statement_timeout
  // derived from the same deadline, so the row lock wait ended there while
  // the lock is still held.
  std::string metrics;
  CHECK(Eventually(
      [&] {
        metrics = HttpGet(s.customer_metrics(), "/metrics");
        return MetricSum(metrics, "grpc_server_handled_total",
                         {"grpc_method=\"UpdateCustomer\""}) == 1;
      },
      absl::Seconds(10)));
  CHECK(MetricSum(metrics, "grpc_server_handled_total",
                  {"grpc_method=\"UpdateCustomer\"", "grpc_code=\"OK\""}) == 0);
  lock.abort();

  // A client that cancels mid-call: the gateway answers CANCELLED and stays healthy.
  pqxx::work lock2(conn);
  lock2.exec_params("SELECT 1 FROM customer.customers WHERE id = $1::uuid FOR UPDATE", id);
  grpc::ClientContext cancel_ctx;
  cancel_ctx.AddMetadata("authorization", "Bearer " + key);
  // Cancelled once the call waits inside the service.
  std::thread canceller([&] {
    Eventually([&] { return CustomerWaitsForLock(s.db_url()); }, absl::Seconds(10));
    cancel_ctx.TryCancel();
  });
  st = s.stub().UpdateCustomer(&cancel_ctx, update, &out);
  canceller.join();
  CHECK(st.error_code() == grpc::StatusCode::CANCELLED);
  lock2.abort();
  GetCustomerRequest get;
  get.set_name(c.name());
  CHECK(s.stub().GetCustomer(Suite::Ctx(key).get(), get, &out).ok());
}

TEST_CASE("many concurrent calls through the gateway all complete correctly", "[e2e]") {
  Suite s;
  const std::string key_a = s.CreateKey("tenant-a", "*");
  const std::string key_b = s.CreateKey("tenant-b", "*");
  std::atomic<int> failures{0};
  std::atomic<int> leaks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string& key = t % 2 == 0 ? key_a : key_b;
      const std::string& other = t % 2 == 0 ? key_b : key_a;
      for (int i = 0; i < 60; ++i) {
        CreateCustomerRequest req;
        req.mutable_customer()->set_external_id(absl::StrCat("c-", t, "-", i));
        Customer created;
        if (!s.stub().CreateCustomer(Suite::Ctx(key).get(), req, &created).ok()) {
          ++failures;
          continue;
        }
        GetCustomerRequest get;
        get.set_name(created.name());
        Customer got;
        if (!s.stub().GetCustomer(Suite::Ctx(key).get(), get, &got).ok() ||
            got.external_id() != req.customer().external_id()) {
          ++failures;
        }
        if (s.stub().GetCustomer(Suite::Ctx(other).get(), get, &got).error_code() !=
            grpc::StatusCode::NOT_FOUND) {
          ++leaks;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(leaks.load() == 0);
  ListCustomersRequest list;
  list.set_page_size(1000);
  ListCustomersResponse page;
  REQUIRE(s.stub().ListCustomers(Suite::Ctx(key_a).get(), list, &page).ok());
  CHECK(page.customers_size() == 240);
  CHECK(s.gateway().running());
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("a reflection client with no compiled-in protos calls the suite via the gateway",
          "[e2e][reflection]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-reflect", "customer.*");
  int code = -1;
  const std::string out = RunCapture("/usr/bin/python3",
                                     {CRM_REFLECTION_CLIENT, CRM_REFLECTION_STUBS,
                                      absl::StrCat("127.0.0.1:", s.gateway_port()), key},
                                     &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("reflection client: ok") != std::string::npos);
}

TEST_CASE("a Python client generated from protos/ works through the gateway", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-py", "customer.*");
  int code = -1;
  // Debian's interpreter, which has python3-grpcio; not whatever is first on PATH.
  const std::string out = RunCapture(
      "/usr/bin/python3",
      {CRM_PYTHON_CLIENT, CRM_PYTHON_STUBS, absl::StrCat("127.0.0.1:", s.gateway_port()), key},
      &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("python client: ok") != std::string::npos);
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("each API key is rate-limited on its own", "[e2e]") {
  // A rate so low nothing refills during the test: the counts are exact
  // (refill is tested in tests/unit/gateway/rate_limiter_test.cc).
  Suite s({"--rate_limit_qps=0.01", "--rate_limit_burst=5"});
  const std::string key_a = s.CreateKey("tenant-a", "*");
  const std::string key_b = s.CreateKey("tenant-a", "*");
  ListCustomersRequest list;
  ListCustomersResponse page;
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    auto ctx = Suite::Ctx(key_a);
    grpc::Status st = s.stub().ListCustomers(ctx.get(), list, &page);
    if (st.ok()) {
      ++ok;
    } else if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++limited;
      auto trailers = ctx->GetServerTrailingMetadata();
      auto it = trailers.find("x-crm-retry-after-ms");
      if (it != trailers.end()) retry_after.assign(it->second.data(), it->second.size());
    }
  }
  CHECK(ok == 5);
  CHECK(limited == 7);
  // Retry after the next token: 100 s at 0.01 per second.
  int64_t retry_ms = 0;
  CHECK(absl::SimpleAtoi(retry_after, &retry_ms));
  CHECK(retry_ms > 1000);
  // Another key is not affected.
  CHECK(s.stub().ListCustomers(Suite::Ctx(key_b).get(), list, &page).ok());
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("crmctl drives the suite through the gateway", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-cli", "*");
  const std::vector<std::string> base = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                         "--key=" + key};
  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out = crmctl(
      {"customers", "create", "--email=cli@example.com", "--country=NL", "--tags=cli"}, &code);
  REQUIRE(code == 0);
  const size_t at = out.find("customers/");
  REQUIRE(at != std::string::npos);
  const std::string name = out.substr(at, std::string("customers/").size() + 36);

  out = crmctl({"customers", "get", name}, &code);
  CHECK(code == 0);
  CHECK(out.find("cli@example.com") != std::string::npos);
  out = crmctl({"customers", "update", name, "--given_name=Cleo"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"given_name\": \"Cleo\"") != std::string::npos);
  out = crmctl({"customers", "list", "--filter=tags:\"cli\""}, &code);
  CHECK(code == 0);
  CHECK(out.find(name) != std::string::npos);

  // Import: good rows are created, bad rows are reported and make the exit non-zero.
  const std::string csv = absl::StrCat("/tmp/crm-e2e-import-", getpid(), ".csv");
  WriteFile(csv,
            "external_id,email,given_name,family_name,country,phone,tags\n"
            "imp-1,one@example.com,One,,GB,,a;b\n"
            "imp-2,not-an-email,Two,,GB,,\n"
            "imp-3,three@example.com,Three,,FR,+33612345678,\n");
  out = crmctl({"customers", "import", "--csv=" + csv}, &code);
  CHECK(code == 1);
  out = crmctl({"customers", "list", "--filter=external_id = \"imp*\"", "--all"}, &code);
  CHECK(code == 0);
  CHECK(out.find("imp-1") != std::string::npos);
  CHECK(out.find("imp-2") == std::string::npos);
  CHECK(out.find("imp-3") != std::string::npos);
  // Importing again creates nothing new (idempotent by external_id).
  crmctl({"customers", "import", "--csv=" + csv}, &code);
  out = crmctl({"customers", "list", "--filter=external_id = \"imp*\"", "--all"}, &code);
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
  std::remove(csv.c_str());

  // Orders import: the lines of one order make one order; an unknown
  // customer is reported and makes the exit non-zero.
  const std::string orders = absl::StrCat("/tmp/crm-e2e-orders-", getpid(), ".csv");
  WriteFile(orders,
            "order_id,customer_external_id,order_time,status,currency_code,refunded_minor,"
            "sales_channel,sku,product_name,category,quantity,unit_price_minor\n"
            "o-1,imp-1,2024-05-01T10:00:00Z,paid,GBP,0,web,MUG,\"Mug, large\",home,2,450\n"
            "o-1,imp-1,2024-05-01T10:00:00Z,paid,GBP,0,web,TEA,Tea,food,1,300\n"
            "o-2,nobody,2024-05-02T10:00:00Z,paid,GBP,0,web,MUG,Mug,home,1,450\n");
  out = crmctl({"orders", "import", "--csv=" + orders}, &code);
  CHECK(code == 1);
  std::remove(orders.c_str());
  out = crmctl({"customers", "list", "--filter=facts.total_spent_minor = 1200"}, &code);
  CHECK(code == 0);
  CHECK(out.find("imp-1") != std::string::npos);

  // Duplicates and a merge preview through the gateway.
  out = crmctl({"customers", "create", "--email=CLI@example.com", "--given_name=Cleo"}, &code);
  REQUIRE(code == 0);
  const std::string twin =
      out.substr(out.find("customers/"), std::string("customers/").size() + 36);
  out = crmctl({"customers", "duplicates"}, &code);
  CHECK(code == 0);
  CHECK(out.find(twin) != std::string::npos);
  out = crmctl({"customers", "merge", name, "--merged=" + twin, "--validate_only"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"merged\": \"" + twin) != std::string::npos);
  out = crmctl({"customers", "get", twin}, &code);
  CHECK(out.find("delete_time") == std::string::npos);  // only a preview

  out = crmctl({"consent", "record", name, "--channel=email", "--purpose=marketing",
                "--status=granted", "--source=cli", "--text_version=v1"},
               &code);
  CHECK(code == 0);
  out = crmctl({"consent", "check", name, "--channel=email", "--purpose=marketing"}, &code);
  CHECK(code == 0);
  CHECK(out.find("\"allowed\": true") != std::string::npos);

  out = crmctl({"customers", "delete", name}, &code);
  CHECK(code == 0);
  CHECK(out.find("delete_time") != std::string::npos);
  crmctl({"customers", "get", "customers/not-a-uuid"}, &code);
  CHECK(code == 1);
  out = RunCapture(CRM_CRMCTL_BIN, {base[0], "health"}, &code);
  CHECK(code == 0);
  CHECK(out == "SERVING\n");
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("a server-streaming call passes through the gateway proxy", "[e2e]") {
  Suite s;
  const std::string key_a = s.CreateKey("tenant-a", "*");
  const std::string key_b = s.CreateKey("tenant-b", "*");
  auto feed = crm::customer::v1::EventFeedService::NewStub(s.channel());
  Create(s, key_a, "first@example.com");

  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + key_a);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  crm::events::v1::SubscribeRequest req;
  req.add_types("customer.created");
  auto reader = feed->Subscribe(&ctx, req);
  std::vector<std::string> emails;
  std::string second_cursor;
  // Written while the stream is open (assertions stay on this thread).
  std::atomic<int> produced{0};
  std::thread producer([&] {
    for (const char* email : {"second@example.com", "third@example.com"}) {
      CreateCustomerRequest create;
      create.mutable_customer()->set_email(email);
      Customer out;
      if (s.stub().CreateCustomer(Suite::Ctx(key_a).get(), create, &out).ok()) ++produced;
    }
  });
  crm::events::v1::SubscribeResponse resp;
  while (emails.size() < 3 && reader->Read(&resp)) {
    Customer c;
    REQUIRE(resp.event().payload().UnpackTo(&c));
    CHECK(resp.event().tenant() == "tenant-a");
    emails.push_back(c.email());
    if (emails.size() == 2) second_cursor = resp.event().cursor();
  }
  producer.join();
  CHECK(produced.load() == 2);
  ctx.TryCancel();  // cancellation travels through the proxy to the service
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(emails ==
        std::vector<std::string>{"first@example.com", "second@example.com", "third@example.com"});

  // Resuming after the second event yields exactly the third.
  grpc::ClientContext resume_ctx;
  resume_ctx.AddMetadata("authorization", "Bearer " + key_a);
  resume_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  req.set_after_cursor(second_cursor);
  auto resumed = feed->Subscribe(&resume_ctx, req);
  std::vector<std::string> after;
  while (resumed->Read(&resp)) {
    Customer c;
    REQUIRE(resp.event().payload().UnpackTo(&c));
    after.push_back(c.email());
  }
  CHECK(resumed->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(after == std::vector<std::string>{"third@example.com"});

  // The feed needs events.read: a key with only customer.read is refused.
  const std::string reader_key = s.CreateKey("tenant-a", "customer.read");
  grpc::ClientContext scope_ctx;
  scope_ctx.AddMetadata("authorization", "Bearer " + reader_key);
  scope_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto refused = feed->Subscribe(&scope_ctx, crm::events::v1::SubscribeRequest());
  CHECK_FALSE(refused->Read(&resp));
  grpc::Status refused_status = refused->Finish();
  CHECK(refused_status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(refused_status.error_message() == "API key lacks scope events.read");

  // Another tenant's key sees none of it.
  grpc::ClientContext b_ctx;
  b_ctx.AddMetadata("authorization", "Bearer " + key_b);
  b_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  auto other = feed->Subscribe(&b_ctx, crm::events::v1::SubscribeRequest());
  CHECK_FALSE(other->Read(&resp));
  CHECK(other->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace crm::testing
