// End to end: API key administration and per-key rate limits.
#include "tests/e2e/customer_suite.h"

namespace crm::testing {
namespace {

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
