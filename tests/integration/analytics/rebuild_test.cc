// Snapshot-then-stream: an analytics service that was down while the
// customer service pruned its events rebuilds its facts from ExportOrders
// and goes on with the feed, ending with the figures of one that never
// stopped; the export itself is a consistent snapshot with its cursor.
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <memory>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/events/outbox.h"
#include "common/server/call.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "crm/customer/v1/event_feed_service.grpc.pb.h"
#include "services/analytics/analytics_app.h"
#include "services/analytics/value_reports.h"
#include "tests/integration/analytics/same_figures.h"
#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

const absl::Time kDay = absl::FromCivil(absl::CivilDay(2026, 2, 2), absl::UTCTimeZone());

// An analytics service following `customers`, over a fresh database or
// `db_url`'s.
std::unique_ptr<ServiceHarness> StartAnalytics(CustomerHarness& customers,
                                               const std::string& db_url = "") {
  const std::string address = absl::StrCat("127.0.0.1:", customers.runtime().port());
  return std::make_unique<ServiceHarness>(analytics::Definition(), "analytics_rebuild",
                                          [address, db_url](server::RuntimeConfig& c) {
                                            c.services["customer"] = address;
                                            if (!db_url.empty()) c.db_url = db_url;
                                          });
}

void RecordOrder(CustomerHarness& customers, const std::string& tenant, const std::string& customer,
                 const std::string& id, int day, int64_t total, bool discounted = false) {
  cv1::RecordOrderRequest req;
  cv1::Order& o = *req.mutable_order();
  o.set_customer(customer);
  o.set_order_id(id);
  o.set_status(cv1::ORDER_STATUS_PAID);
  o.set_currency_code("GBP");
  o.set_total_minor(total);
  if (discounted) o.add_discount_codes("SPRING");
  cv1::LineItem* line = o.add_line_items();
  line->set_sku(absl::StrCat("SKU-", day % 3));
  line->set_category(day % 2 == 0 ? "mugs" : "tea");
  line->set_quantity(2);
  line->set_unit_price_minor(total / 2);
  line->set_unit_cost_minor(total / 5);
  *o.mutable_order_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(kDay + absl::Hours(24 * day + 9)));
  cv1::Order out;
  grpc::Status s = customers.stub().RecordOrder(ServiceHarness::Ctx(tenant).get(), req, &out);
  if (!s.ok()) FAIL("RecordOrder: " << s.error_message());
}

// What the customer facts give a tenant's reports, without freshness (when
// events were applied differs between services).
std::string Figures(ServiceHarness& analytics, const std::string& tenant) {
  auto value = analytics.Stub<av1::ValueService>();
  auto reports = analytics.Stub<av1::ReportService>();
  av1::RfmSummary rfm;
  av1::CohortReport cohorts;
  av1::PricingReport pricing;
  av1::GetCohortReportRequest cohort_request;
  cohort_request.set_end_month("2026-06");
  if (!value->GetRfmSummary(ServiceHarness::Ctx(tenant).get(), {}, &rfm).ok() ||
      !reports->GetCohortReport(ServiceHarness::Ctx(tenant).get(), cohort_request, &cohorts).ok() ||
      !reports->GetPricingReport(ServiceHarness::Ctx(tenant).get(), {}, &pricing).ok()) {
    return "";
  }
  rfm.clear_freshness();
  cohorts.clear_freshness();
  pricing.clear_freshness();
  return absl::StrCat(rfm.DebugString(), cohorts.DebugString(), pricing.DebugString());
}

// Polls until `analytics` gives `tenant` the figures `reference` gives it
// and `ready` holds of them.
std::string AwaitSameFigures(ServiceHarness& analytics, ServiceHarness& reference,
                             const std::string& tenant,
                             const std::function<bool(const std::string&)>& ready) {
  return testing::AwaitSameFigures(Figures, analytics, reference, tenant, ready);
}

int64_t Customers(ServiceHarness& analytics, const std::string& tenant) {
  av1::RfmSummary rfm;
  auto value = analytics.Stub<av1::ValueService>();
  if (!value->GetRfmSummary(ServiceHarness::Ctx(tenant).get(), {}, &rfm).ok()) return -1;
  return rfm.customers();
}

}  // namespace

TEST_CASE(
    "after a crash and pruned events, a snapshot rebuild gives the figures of a consumer "
    "that never stopped",
    "[integration][analytics]") {
  CustomerHarness customers("analytics_rebuild_customers");
  // The reference follows the feed from the start and never stops.
  std::unique_ptr<ServiceHarness> reference = StartAnalytics(customers);
  std::unique_ptr<ServiceHarness> crashing = StartAnalytics(customers);

  std::vector<std::string> acme, globex;
  for (int c = 0; c < 6; ++c) {
    acme.push_back(customers.NewCustomer(absl::StrCat("r", c, "@example.com"), "acme").name());
  }
  globex.push_back(customers.NewCustomer("g0@example.com", "globex").name());
  int order = 0;
  for (int c = 0; c < 6; ++c) {
    for (int k = 0; k <= c; ++k, ++order) {
      RecordOrder(customers, "acme", acme[c], absl::StrCat("o", order), 10 * k + c,
                  1000 + 100 * c + 10 * k, k % 2 == 1);
    }
  }
  RecordOrder(customers, "globex", globex[0], "g1", 3, 4000);
  RecordOrder(customers, "acme", acme[0], "same-day", 0, 700);  // a second order on day 0
  // A refund, a merge (acme[2] into acme[1]) and an erasure (acme[3]).
  cv1::UpdateOrderStatusRequest refund;
  {
    cv1::ListOrdersRequest list;
    list.set_parent(acme[5]);
    cv1::ListOrdersResponse orders;
    REQUIRE(customers.stub().ListOrders(ServiceHarness::Ctx().get(), list, &orders).ok());
    REQUIRE(orders.orders_size() == 6);
    refund.set_name(orders.orders(0).name());
  }
  refund.set_status(cv1::ORDER_STATUS_REFUNDED);
  refund.set_refunded_minor(1550);
  cv1::Order refunded;
  REQUIRE(customers.stub().UpdateOrderStatus(ServiceHarness::Ctx().get(), refund, &refunded).ok());
  cv1::MergeCustomersRequest merge;
  merge.set_survivor(acme[1]);
  merge.set_merged(acme[2]);
  cv1::MergeCustomersResponse merged;
  REQUIRE(customers.stub().MergeCustomers(ServiceHarness::Ctx().get(), merge, &merged).ok());
  cv1::EraseCustomerRequest erase;
  erase.set_name(acme[3]);
  cv1::EraseCustomerResponse erased;
  REQUIRE(customers.stub().EraseCustomer(ServiceHarness::Ctx().get(), erase, &erased).ok());

  // Both caught up: acme's six customers are five after the merge.
  AwaitSameFigures(*crashing, *reference, "acme",
                   [&](const std::string&) { return Customers(*reference, "acme") == 5; });

  // The crash: the service goes away; meanwhile orders, an erasure, and the
  // customer service prunes every event it has.
  const std::string crashed_db = crashing->db_url();
  crashing.reset();
  cv1::EraseCustomerRequest erase_later;
  erase_later.set_name(acme[4]);
  REQUIRE(customers.stub().EraseCustomer(ServiceHarness::Ctx().get(), erase_later, &erased).ok());
  RecordOrder(customers, "acme", acme[0], "late-1", 70, 2500, true);
  RecordOrder(customers, "globex", globex[0], "late-2", 71, 3000);  // the last event
  const std::string before_prune = Figures(*reference, "acme");
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  // The reference has all of it before the events go.
  while (absl::Now() < deadline &&
         Figures(*reference, "globex").find("7000") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  auto pruned = events::PruneOutbox(customers.runtime().pool(), "customer", absl::ZeroDuration());
  REQUIRE(pruned.ok());
  CHECK(*pruned > 0);

  // Back up on its old database: its cursor is behind what was pruned, so
  // it rebuilds from the snapshot and goes on from the snapshot's cursor.
  std::unique_ptr<ServiceHarness> restarted = StartAnalytics(customers, crashed_db);
  AwaitSameFigures(*restarted, *reference, "globex", [](const std::string& figures) {
    return figures.find("7000") != std::string::npos;
  });
  AwaitSameFigures(*restarted, *reference, "acme", [](const std::string&) { return true; });

  // After the rebuild the feed goes on: an unmerge moves acme[2]'s orders
  // back (the snapshot held the merge's moves), and a new order counts.
  cv1::UnmergeCustomerRequest unmerge;
  unmerge.set_name(merged.merge().name());
  cv1::UnmergeCustomerResponse unmerged;
  REQUIRE(customers.stub().UnmergeCustomer(ServiceHarness::Ctx().get(), unmerge, &unmerged).ok());
  RecordOrder(customers, "acme", acme[5], "after-1", 72, 900);
  AwaitSameFigures(*restarted, *reference, "acme", [&](const std::string& figures) {
    return Customers(*reference, "acme") == 6 && figures != before_prune;
  });
  CHECK(Customers(*restarted, "acme") == 6);

  // The kept summaries (maintained by the feed after a rebuild's bulk
  // summary) are what the orders give, computed here the slow way.
  pqxx::connection conn(restarted->db_url());
  pqxx::work tx(conn);
  tx.exec("SELECT set_config('app.tenant_id', 'acme', true)");
  std::vector<analytics::OrderPoint> points;
  for (const auto& row :
       tx.exec("SELECT customer, (EXTRACT(EPOCH FROM order_time) * 1000000)::bigint, total_minor - "
               "refunded_minor FROM analytics.orders WHERE currency_code = 'GBP' AND status NOT IN "
               "('CANCELLED', 'REFUNDED')")) {
    points.push_back({row[0].as<std::string>(), absl::FromUnixMicros(row[1].as<int64_t>()),
                      row[2].as<int64_t>()});
  }
  const std::vector<analytics::CustomerOrders> expected = analytics::SummariesOf(points);
  const auto kept = tx.exec(
      "SELECT customer, orders, spent_minor, purchase_days, first_day, last_day, first_day_minor "
      "FROM analytics.customer_summaries WHERE currency_code = 'GBP' ORDER BY customer");
  REQUIRE(kept.size() == expected.size());
  bool same_day_seen = false;
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].customer);
    CHECK(kept[i][0].as<std::string>() == expected[i].customer);
    CHECK(kept[i][1].as<int64_t>() == expected[i].orders);
    CHECK(kept[i][2].as<int64_t>() == expected[i].spent_minor);
    CHECK(kept[i][3].as<int64_t>() == expected[i].purchase_days);
    CHECK(kept[i][4].as<int64_t>() == expected[i].first_day);
    CHECK(kept[i][5].as<int64_t>() == expected[i].last_day);
    CHECK(kept[i][6].as<int64_t>() == expected[i].first_day_minor);
    same_day_seen = same_day_seen || expected[i].orders > expected[i].purchase_days;
  }
  CHECK(same_day_seen);
}

TEST_CASE("ExportOrders is one snapshot with the cursor the feed goes on from",
          "[integration][analytics][customer]") {
  CustomerHarness customers("export_orders_customers");
  const std::string ann = customers.NewCustomer("ann@example.com", "acme").name();
  const std::string bob = customers.NewCustomer("bob@example.com", "globex").name();
  RecordOrder(customers, "acme", ann, "a1", 1, 1000);
  RecordOrder(customers, "acme", ann, "a2", 2, 2000);
  RecordOrder(customers, "globex", bob, "b1", 1, 3000);

  const auto read_all = [&](grpc::ClientContext* ctx, int batch,
                            std::vector<cv1::ExportOrdersResponse>* out) {
    auto stub = cv1::CustomerService::NewStub(customers.channel());
    cv1::ExportOrdersRequest req;
    req.set_batch_size(batch);
    auto reader = stub->ExportOrders(ctx, req);
    cv1::ExportOrdersResponse message;
    while (reader->Read(&message)) out->push_back(message);
    return reader->Finish();
  };

  // One tenant through its own header: only its records.
  std::vector<cv1::ExportOrdersResponse> mine;
  REQUIRE(read_all(ServiceHarness::Ctx("acme").get(), 1, &mine).ok());
  REQUIRE(!mine.empty());
  CHECK(!mine[0].feed_cursor().empty());
  int orders = 0, people = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    CHECK(mine[i].tenant() == "acme");
    if (i > 0) CHECK(mine[i].feed_cursor().empty());
    orders += mine[i].orders_size();
    people += mine[i].customers_size();
    CHECK(mine[i].orders_size() + mine[i].customers_size() + mine[i].order_moves_size() <= 1);
  }
  CHECK(orders == 2);
  CHECK(people == 1);

  // Every tenant, for the suite's own services: each message names its tenant.
  grpc::ClientContext all;
  all.AddMetadata(server::kAllTenantsHeader, "1");
  std::vector<cv1::ExportOrdersResponse> every;
  REQUIRE(read_all(&all, 0, &every).ok());
  std::map<std::string, int> per_tenant;
  for (const auto& m : every) per_tenant[m.tenant()] += m.orders_size();
  CHECK(per_tenant["acme"] == 2);
  CHECK(per_tenant["globex"] == 1);

  // The cursor: an order recorded after the export is after it on the feed.
  RecordOrder(customers, "acme", ann, "a3", 3, 500);
  auto feed = customers.Stub<cv1::EventFeedService>();
  crm::events::v1::SubscribeRequest sub;
  sub.set_after_cursor(every[0].feed_cursor());
  auto ctx = ServiceHarness::Ctx("acme");
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto reader = feed->Subscribe(ctx.get(), sub);
  crm::events::v1::SubscribeResponse event;
  bool seen = false;
  while (!seen && reader->Read(&event)) {
    cv1::Order o;
    seen = event.event().type() == "order.recorded" && event.event().payload().UnpackTo(&o) &&
           o.order_id() == "a3";
  }
  ctx->TryCancel();
  reader->Finish();
  CHECK(seen);

  // Bad input and no tenant.
  std::vector<cv1::ExportOrdersResponse> none;
  CHECK(read_all(ServiceHarness::Ctx("acme").get(), 5001, &none).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext anonymous;
  CHECK(read_all(&anonymous, 0, &none).error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace crm::testing
