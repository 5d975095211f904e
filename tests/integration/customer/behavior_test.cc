// Behavioural events: bulk, idempotent by event id, per-event rejections.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::BehaviorEvent;
using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::TrackEventsRequest;
using crm::customer::v1::TrackEventsResponse;
namespace v1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

BehaviorEvent Event(const std::string& id, const Customer& c, v1::BehaviorEventType type,
                    int64_t seconds_ago) {
  BehaviorEvent e;
  e.set_event_id(id);
  e.set_customer(c.name());
  e.set_type(type);
  (*e.mutable_properties())["sku"].set_string_value("MUG-1");
  *e.mutable_event_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - seconds_ago);
  return e;
}

TEST_CASE("events are stored in bulk, once, with per-event rejections", "[integration][behavior]") {
  CustomerHarness h("behavior");
  CreateCustomerRequest create;
  create.mutable_customer()->set_email("ann@example.com");
  Customer ann, bob;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &ann).ok());
  create.mutable_customer()->set_email("bob@example.com");
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &bob).ok());

  TrackEventsRequest req;
  for (int i = 0; i < 300; ++i) {
    *req.add_events() = Event("ev-" + std::to_string(i), i % 3 == 0 ? bob : ann,
                              v1::BEHAVIOR_EVENT_TYPE_PRODUCT_VIEW, 600 - i);
  }
  req.mutable_events(5)->clear_type();                          // invalid
  req.mutable_events(7)->set_customer("customers/not-a-uuid");  // invalid
  req.mutable_events(9)->set_customer("customers/00000000-0000-4000-8000-000000000000");
  req.mutable_events(11)->set_type(v1::BEHAVIOR_EVENT_TYPE_CUSTOM);  // needs custom_name
  TrackEventsResponse resp;
  REQUIRE(h.stub().TrackEvents(CustomerHarness::Ctx().get(), req, &resp).ok());
  CHECK(resp.accepted() == 296);
  CHECK(resp.duplicates() == 0);
  REQUIRE(resp.rejected_size() == 4);
  std::map<int, std::string> rejected;
  for (const auto& r : resp.rejected()) rejected[r.index()] = r.reason();
  CHECK(rejected[5] == "events[5].type: required");
  CHECK(rejected[7].rfind("events[7].customer:", 0) == 0);
  CHECK(rejected[9].find("not found") != std::string::npos);
  CHECK(rejected[11].rfind("events[11].custom_name:", 0) == 0);

  // Sending the batch again stores nothing new.
  TrackEventsResponse again;
  REQUIRE(h.stub().TrackEvents(CustomerHarness::Ctx().get(), req, &again).ok());
  CHECK(again.accepted() == 0);
  CHECK(again.duplicates() == 296);

  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.behavior_events")[0][0].as<int>() == 296);
  // One summary per customer for the first call, none for the duplicate call.
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = "
                "'customer.behavior_tracked'")[0][0]
            .as<int>() == 2);
  // last_seen follows the newest event.
  v1::GetCustomerRequest get;
  get.set_name(ann.name());
  Customer got;
  REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &got).ok());
  CHECK(got.facts().last_seen_time().seconds() >= absl::ToUnixSeconds(absl::Now()) - 310);

  // Limits and tenancy.
  TrackEventsRequest empty;
  CHECK(h.stub().TrackEvents(CustomerHarness::Ctx().get(), empty, &resp).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  TrackEventsRequest foreign;
  *foreign.add_events() = Event("x-1", ann, v1::BEHAVIOR_EVENT_TYPE_SEARCH, 0);
  TrackEventsResponse foreign_resp;
  REQUIRE(h.stub().TrackEvents(CustomerHarness::Ctx("other").get(), foreign, &foreign_resp).ok());
  CHECK(foreign_resp.accepted() == 0);
  CHECK(foreign_resp.rejected_size() == 1);
}

}  // namespace
}  // namespace crm::testing
