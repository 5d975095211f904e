// What the kit gives a service that has nothing of its own yet: its kit
// tables under row-level security, idempotency keys that expire after 24
// hours and are pruned, and outbox retention whose gap a consumer is told
// about (OUT_OF_RANGE) instead of skipping it. No customer service here.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "common/db/idempotency.h"
#include "common/events/outbox.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "crm/events/v1/event_feed.pb.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

using crm::events::v1::SubscribeRequest;
using crm::events::v1::SubscribeResponse;

int64_t Count(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<int64_t>();
}

// A service with no migrations of its own, connected as its own role, with
// an event feed (served through the customer's generated feed type: the
// messages are the kit's).
server::ServiceDefinition KitOnly() {
  server::ServiceDefinition d;
  d.name = "kittest";
  d.schema = "kittest";
  d.wire = [](server::ServiceRuntime& rt) -> absl::StatusOr<std::unique_ptr<server::Component>> {
    rt.ServeEventFeed<crm::customer::v1::EventFeedService>();
    return std::make_unique<server::Component>();
  };
  return d;
}

struct KitFixture {
  KitFixture()
      : harness(
            KitOnly(), "kit",
            [this](server::RuntimeConfig& c) {
              admin_url = c.db_url;
              ExecSql(
                  admin_url,
                  "DO $$ BEGIN CREATE ROLE crm_kittest LOGIN; EXCEPTION WHEN duplicate_object OR "
                  "unique_violation THEN NULL; END $$; CREATE SCHEMA kittest AUTHORIZATION "
                  "crm_kittest;");
              c.db_url = WithParam(c.db_url, "user", "crm_kittest");
              c.housekeeping_interval = absl::ZeroDuration();  // rounds run by the tests
              c.outbox_retention = absl::Hours(1);
            }),
        pool(db::PoolOptions{WithParam(admin_url, "user", "crm_kittest"), 2, "kit-test"}) {}

  // Appends an event for `tenant` as the service would.
  void Append(const std::string& tenant, const std::string& subject) {
    db::TxOptions options;
    options.tenant = tenant;
    absl::Status s = db::RunInTransaction(pool, options, [&](db::Tx& tx) {
      crm::events::v1::Event payload;
      payload.set_subject(subject);
      events::AppendEvent(tx, "kittest", tenant, "thing.happened", subject, payload);
      return absl::OkStatus();
    });
    REQUIRE(s.ok());
  }

  std::vector<std::string> Subjects(const std::string& tenant, const std::string& after,
                                    grpc::Status* status) {
    auto stub = harness.Stub<crm::customer::v1::EventFeedService>();
    auto ctx = ServiceHarness::Ctx(tenant);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(800)));
    SubscribeRequest request;
    request.set_after_cursor(after);
    auto reader = stub->Subscribe(ctx.get(), request);
    std::vector<std::string> subjects;
    SubscribeResponse response;
    while (reader->Read(&response)) {
      subjects.push_back(response.event().subject());
      last_cursor = response.event().cursor();
    }
    *status = reader->Finish();
    return subjects;
  }

  std::string admin_url;
  ServiceHarness harness;
  db::Pool pool;
  std::string last_cursor;
};

TEST_CASE("the kit makes its tables for a service with none of its own", "[integration][kit]") {
  KitFixture f;
  for (const char* table : {"outbox", "outbox_pruned", "idempotency_keys", "consumer_cursors"}) {
    INFO(table);
    CHECK(Count(f.admin_url, absl::StrCat("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                          "'kittest' AND tablename = '",
                                          table, "' AND rowsecurity")) == 1);
  }
  // Applied once: a second start finds them current.
  auto again = server::ServiceRuntime::MigrateOnly(f.admin_url, KitOnly());
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("idempotency keys replay for 24 hours, then are forgotten and pruned",
          "[integration][kit]") {
  KitFixture f;
  db::Idempotency idempotency(f.pool, "kittest");
  auto call = [&](const std::string& tenant, const std::string& hash, const std::string& answer,
                  std::string* got) {
    db::TxOptions options;
    options.tenant = tenant;
    return db::RunInTransaction(f.pool, options, [&](db::Tx& tx) -> absl::Status {
      crm::events::v1::Event response;
      auto replayed = idempotency.Replay(tx, tenant, "CreateThing", "req-1", hash, &response);
      if (!replayed.ok()) return replayed.status();
      if (*replayed) {
        *got = response.subject();
        return absl::OkStatus();
      }
      response.set_subject(answer);
      idempotency.Store(tx, tenant, "CreateThing", "req-1", hash, response);
      *got = answer;
      return absl::OkStatus();
    });
  };
  std::string got;
  REQUIRE(call("a", "h1", "first", &got).ok());
  CHECK(got == "first");
  REQUIRE(call("a", "h1", "second", &got).ok());
  CHECK(got == "first");  // replayed
  CHECK(call("a", "h2", "other", &got).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(call("b", "h1", "b's own", &got).ok());  // another tenant's key is its own
  CHECK(got == "b's own");

  // 25 hours later the key is forgotten: the same retry is a new request.
  ExecSql(f.admin_url,
          "UPDATE kittest.idempotency_keys SET create_time = now() - interval '25 hours' "
          "WHERE tenant_id = 'a'");
  REQUIRE(call("a", "h2", "after a day", &got).ok());
  CHECK(got == "after a day");

  // Pruning removes expired keys of every tenant and keeps fresh ones.
  ExecSql(f.admin_url,
          "UPDATE kittest.idempotency_keys SET create_time = now() - interval '25 hours' "
          "WHERE tenant_id = 'b'; INSERT INTO kittest.idempotency_keys (tenant_id, method, "
          "request_id, request_hash, response, create_time) SELECT 'c', 'M', 'r' || g, 'h', "
          "'', now() - interval '2 days' FROM generate_series(1, 2500) g");
  auto pruned = db::PruneIdempotencyKeys(f.pool, "kittest", db::kIdempotencyWindow, 1000);
  REQUIRE(pruned.ok());
  CHECK(*pruned == 2501);
  CHECK(Count(f.admin_url, "SELECT count(*) FROM kittest.idempotency_keys") == 1);
}

TEST_CASE("outbox retention prunes old events and tells a consumer it is behind",
          "[integration][kit]") {
  KitFixture f;
  for (int i = 0; i < 3; ++i) f.Append("a", absl::StrCat("old-", i));
  f.Append("b", "b-old");
  grpc::Status status;
  CHECK(f.Subjects("a", "", &status).size() == 3);
  const std::string after_first = [&] {
    auto stub = f.harness.Stub<crm::customer::v1::EventFeedService>();
    auto ctx = ServiceHarness::Ctx("a");
    auto reader = stub->Subscribe(ctx.get(), SubscribeRequest());
    SubscribeResponse r;
    REQUIRE(reader->Read(&r));
    ctx->TryCancel();
    reader->Finish();
    return r.event().cursor();
  }();
  for (int i = 0; i < 2; ++i) f.Append("a", absl::StrCat("new-", i));
  ExecSql(f.admin_url,
          "UPDATE kittest.outbox SET create_time = now() - interval '2 hours' WHERE subject "
          "LIKE '%old%'");

  // A round of housekeeping, as the runtime's thread runs it.
  REQUIRE(f.harness.runtime().Housekeep().ok());
  CHECK(Count(f.admin_url, "SELECT count(*) FROM kittest.outbox") == 2);
  CHECK(Count(f.admin_url, "SELECT count(*) FROM kittest.outbox_pruned") == 2);

  // Behind the pruned events: OUT_OF_RANGE, never a silent gap.
  CHECK(f.Subjects("a", after_first, &status).empty());
  CHECK(status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  // From the start: what is retained.
  CHECK(f.Subjects("a", "", &status) == std::vector<std::string>{"new-0", "new-1"});
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  // From the last cursor: nothing new, and no error.
  CHECK(f.Subjects("a", f.last_cursor, &status).empty());
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  // Tenant b lost its only event: from the start it has none and no error.
  CHECK(f.Subjects("b", "", &status).empty());
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace crm::testing
