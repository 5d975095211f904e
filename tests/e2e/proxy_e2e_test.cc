// End to end: the gateway's two proxy paths, unary and streaming.
#include "tests/e2e/customer_suite.h"

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
