// End to end through the gateway: customers CRUD, keys and tenancy, health and
// metrics, and many concurrent callers.
#include "tests/e2e/customer_suite.h"

namespace crm::testing {
namespace {

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
