// End to end: draining on SIGTERM, deadlines and cancellation through the gateway.
#include "tests/e2e/customer_suite.h"

namespace crm::testing {
namespace {

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
  // Draining while the process waits for the call: the metrics endpoint
  // says so (the gRPC port may already refuse new calls, so a health check
  // there would race the drain).
  CHECK(Eventually(
      [&] {
        return MetricSum(HttpGet(s.customer_metrics(), "/metrics"), "crm_server_draining", {}) == 1;
      },
      absl::Seconds(10)));
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

}  // namespace
}  // namespace crm::testing
