// Outbox atomicity and the event feed, with the customer service as the
// producer and a FeedConsumer with its own cursor table as the consumer.
#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/db/transaction.h"
#include "common/events/consumer.h"
#include "common/events/outbox.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;

int64_t Count(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<int64_t>();
}

grpc::Status Create(CustomerHarness& h, const std::string& external_id,
                    const std::string& tenant = "acme") {
  CreateCustomerRequest req;
  req.mutable_customer()->set_external_id(external_id);
  Customer out;
  return h.stub().CreateCustomer(CustomerHarness::Ctx(tenant).get(), req, &out);
}

TEST_CASE("an event is committed with its change and never without it", "[integration][outbox]") {
  CustomerHarness h;
  REQUIRE(Create(h, "e-1").ok());
  CHECK(Count(h.db_url(),
              "SELECT count(*) FROM customer.outbox WHERE type = "
              "'customer.created'") == 1);
  // A failed change (duplicate external_id) leaves no event behind.
  CHECK(Create(h, "e-1").error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM customer.outbox") == 1);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM customer.customers") == 1);

  // A rolled-back transaction takes its event with it.
  db::Pool pool(db::PoolOptions{h.db_url(), 1, "t"});
  db::TxOptions options;
  options.tenant = "acme";
  absl::Status status = db::RunInTransaction(pool, options, [](db::Tx& tx) {
    Customer c;
    c.set_name("customers/x");
    events::AppendEvent(tx, "customer", "acme", "customer.updated", c.name(), c);
    return absl::InternalError("fail after writing");
  });
  CHECK(status.code() == absl::StatusCode::kInternal);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM customer.outbox") == 1);
}

TEST_CASE("a consumer that reconnects gets every later event once", "[integration][events]") {
  CustomerHarness h;
  ExecSql(h.db_url(),
          "CREATE SCHEMA feedtest; CREATE TABLE feedtest.consumer_cursors (tenant_id text NOT "
          "NULL, consumer text NOT NULL, cursor text NOT NULL, update_time timestamptz NOT "
          "NULL DEFAULT now(), PRIMARY KEY (tenant_id, consumer)); CREATE TABLE "
          "feedtest.applied (event_id text PRIMARY KEY, subject text NOT NULL);");
  db::Pool pool(db::PoolOptions{h.db_url(), 2, "consumer"});
  events::ConsumerOptions options{
      "feedtest", "test.projection", "acme", {"customer.created"}, nullptr};
  auto apply = [](db::Tx& tx, const crm::events::v1::Event& e) {
    // A plain INSERT: a second delivery of one event would violate the key.
    tx.exec_params("INSERT INTO feedtest.applied (event_id, subject) VALUES ($1, $2)", e.id(),
                   e.subject());
    return absl::OkStatus();
  };
  events::FeedConsumer consumer(events::FeedOf<crm::customer::v1::EventFeedService>(h.channel()),
                                pool, options, apply);

  for (int i = 0; i < 5; ++i) REQUIRE(Create(h, "a-" + std::to_string(i)).ok());
  REQUIRE(Create(h, "other", "other-tenant").ok());  // not this tenant's feed
  auto first = consumer.RunOnce(3, absl::Seconds(5));
  REQUIRE(first.ok());
  CHECK(*first == 3);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM feedtest.applied") == 3);

  for (int i = 0; i < 4; ++i) REQUIRE(Create(h, "b-" + std::to_string(i)).ok());
  // Reconnect from the stored cursor: the 2 left over and the 4 new ones.
  auto second = consumer.RunOnce(6, absl::Seconds(5));
  REQUIRE(second.ok());
  CHECK(*second == 6);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM feedtest.applied") == 9);

  // Live: a consumer already connected receives events as they commit.
  // (Assertions stay on this thread: the producer only counts.)
  std::atomic<int> produced{0};
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (int i = 0; i < 3; ++i) produced += Create(h, "live-" + std::to_string(i)).ok() ? 1 : 0;
  });
  auto live = consumer.RunOnce(3, absl::Seconds(5));
  producer.join();
  REQUIRE(produced.load() == 3);
  REQUIRE(live.ok());
  CHECK(*live == 3);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM feedtest.applied") == 12);

  // Nothing more: a reconnect within a short window applies nothing.
  auto idle = consumer.RunOnce(1, absl::Milliseconds(500));
  REQUIRE(idle.ok());
  CHECK(*idle == 0);
  CHECK(Count(h.db_url(),
              "SELECT count(*) FROM feedtest.applied WHERE subject LIKE "
              "'customers/%'") == 12);
}

TEST_CASE("a consumer of every tenant applies each event once, as its tenant",
          "[integration][events]") {
  CustomerHarness h;
  ExecSql(h.db_url(),
          "CREATE SCHEMA feedall; CREATE TABLE feedall.consumer_cursors (tenant_id text NOT "
          "NULL, consumer text NOT NULL, cursor text NOT NULL, update_time timestamptz NOT "
          "NULL DEFAULT now(), PRIMARY KEY (tenant_id, consumer)); CREATE TABLE "
          "feedall.applied (event_id text PRIMARY KEY, event_tenant text NOT NULL, as_tenant "
          "text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY);");
  db::Pool pool(db::PoolOptions{h.db_url(), 2, "consumer"});
  events::ConsumerOptions options{
      "feedall", "test.all", server::kAllTenants, {"customer.created"}, nullptr};
  auto apply = [](db::Tx& tx, const crm::events::v1::Event& e) {
    tx.exec_params(
        "INSERT INTO feedall.applied (event_id, event_tenant, as_tenant) VALUES ($1, $2, "
        "current_setting('app.tenant_id'))",
        e.id(), e.tenant());
    return absl::OkStatus();
  };
  events::FeedConsumer consumer(events::FeedOf<crm::customer::v1::EventFeedService>(h.channel()),
                                pool, options, apply);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Create(h, "a-" + std::to_string(i), "acme").ok());
    REQUIRE(Create(h, "g-" + std::to_string(i), "globex").ok());
  }
  auto first = consumer.RunOnce(4, absl::Seconds(5));
  REQUIRE(first.ok());
  CHECK(*first == 4);
  REQUIRE(Create(h, "late", "initech").ok());
  auto second = consumer.RunOnce(10, absl::Seconds(1));
  REQUIRE(second.ok());
  CHECK(*second == 3);
  CHECK(Count(h.db_url(), "SELECT count(*) FROM feedall.applied") == 7);
  CHECK(Count(h.db_url(),
              "SELECT count(*) FROM feedall.applied WHERE event_tenant <> "
              "as_tenant") == 0);
  CHECK(Count(h.db_url(), "SELECT count(DISTINCT event_tenant) FROM feedall.applied") == 3);
  // In commit order across tenants, alternating as they were written.
  CHECK(Count(h.db_url(),
              "SELECT count(*) FROM feedall.applied a JOIN feedall.applied b ON "
              "b.seq = a.seq + 1 WHERE a.seq < 6 AND a.event_tenant = "
              "b.event_tenant") == 0);
  CHECK(Count(h.db_url(),
              "SELECT count(*) FROM feedall.consumer_cursors WHERE tenant_id = "
              "'*'") == 1);

  // Asking for every tenant while naming one gets that one only.
  auto stub = h.Stub<crm::customer::v1::EventFeedService>();
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-crm-tenant", "globex");
  ctx.AddMetadata(server::kAllTenantsHeader, "1");
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(800)));
  auto reader = stub->Subscribe(&ctx, crm::events::v1::SubscribeRequest());
  crm::events::v1::SubscribeResponse resp;
  std::set<std::string> tenants;
  while (reader->Read(&resp)) tenants.insert(resp.event().tenant());
  reader->Finish();
  CHECK(tenants == std::set<std::string>{"globex"});
}

TEST_CASE("events come in transaction order when the ids differ in length",
          "[integration][events]") {
  CustomerHarness h;
  // Transaction 10 and 9 (text order would put "10" first).
  ExecSql(h.db_url(),
          "INSERT INTO customer.outbox (tenant_id, tx_id, type, subject, payload) VALUES "
          "('acme', '10', 'test.ten', 's/10', ''), ('acme', '9', 'test.nine', 's/9', '')");
  db::Pool pool(db::PoolOptions{h.db_url(), 1, "t"});
  db::TxOptions options;
  options.tenant = "acme";
  std::vector<std::string> types;
  REQUIRE(db::RunInTransaction(pool, options, [&](db::Tx& tx) {
            types.clear();
            for (const auto& e : events::ReadEvents(tx, "customer", "acme", {}, 10).events) {
              types.push_back(e.type());
            }
            return absl::OkStatus();
          }).ok());
  CHECK(types == std::vector<std::string>{"test.nine", "test.ten"});
}

TEST_CASE("the feed never skips an event that commits late", "[integration][events]") {
  CustomerHarness h;
  // Hold a transaction open that has written an event (older xid), then
  // commit a newer one: the feed must deliver both, the older first.
  pqxx::connection slow_conn(h.db_url());
  pqxx::work slow(slow_conn);
  slow.exec("SELECT set_config('app.tenant_id', 'acme', true)");
  Customer c;
  c.set_name("customers/slow");
  events::AppendEvent(slow, "customer", "acme", "customer.updated", c.name(), c);
  REQUIRE(Create(h, "fast").ok());

  auto stub = h.Stub<crm::customer::v1::EventFeedService>();
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-crm-tenant", "acme");
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  crm::events::v1::SubscribeRequest req;
  auto reader = stub->Subscribe(&ctx, req);
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    slow.commit();
  });
  std::vector<std::string> subjects;
  crm::events::v1::SubscribeResponse resp;
  while (subjects.size() < 2 && reader->Read(&resp)) subjects.push_back(resp.event().subject());
  committer.join();
  ctx.TryCancel();
  reader->Finish();
  REQUIRE(subjects.size() == 2);
  CHECK(subjects[0] == "customers/slow");

  // Malformed cursor.
  grpc::ClientContext bad_ctx;
  bad_ctx.AddMetadata("x-crm-tenant", "acme");
  req.set_after_cursor("garbage");
  auto bad = stub->Subscribe(&bad_ctx, req);
  CHECK_FALSE(bad->Read(&resp));
  CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace crm::testing
