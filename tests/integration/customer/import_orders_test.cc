// ImportOrders: streamed, keyed by order id, customers by external id.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

v1::ImportOrdersResponse ImportOrders(CustomerHarness& h,
                                      const std::vector<std::vector<v1::Order>>& chunks) {
  auto ctx = CustomerHarness::Ctx();
  v1::ImportOrdersResponse summary;
  auto writer = h.stub().ImportOrders(ctx.get(), &summary);
  for (const auto& chunk : chunks) {
    v1::ImportOrdersRequest req;
    for (const auto& o : chunk) *req.add_orders() = o;
    REQUIRE(writer->Write(req));
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  INFO(s.error_message());
  REQUIRE(s.ok());
  return summary;
}

v1::Order Order(const std::string& external_customer, const std::string& order_id, int64_t total,
                v1::OrderStatus status, int64_t days_ago) {
  v1::Order o;
  o.set_customer_external_id(external_customer);
  o.set_order_id(order_id);
  o.set_status(status);
  o.set_currency_code("GBP");
  o.set_total_minor(total);
  if (status == v1::ORDER_STATUS_REFUNDED) o.set_refunded_minor(total);
  *o.mutable_order_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - days_ago * 86400);
  return o;
}

TEST_CASE("orders import in bulk, idempotently, and keep facts current", "[integration][import]") {
  CustomerHarness h("import_orders");
  // Customers by external id, through the customer import.
  {
    auto ctx = CustomerHarness::Ctx();
    v1::ImportCustomersResponse summary;
    auto writer = h.stub().ImportCustomers(ctx.get(), &summary);
    v1::ImportCustomersRequest req;
    for (int i = 0; i < 50; ++i) req.add_customers()->set_external_id("shop-" + std::to_string(i));
    REQUIRE(writer->Write(req));
    writer->WritesDone();
    REQUIRE(writer->Finish().ok());
    REQUIRE(summary.created() == 50);
  }
  std::vector<std::vector<v1::Order>> chunks(3);
  for (int i = 0; i < 1500; ++i) {
    chunks[i / 500].push_back(Order("shop-" + std::to_string(i % 50), "o-" + std::to_string(i),
                                    1000, v1::ORDER_STATUS_PAID, 100 - i % 90));
  }
  chunks[1][7].set_customer_external_id("shop-unknown");  // row 507
  chunks[2][0].set_currency_code("pounds");               // row 1000
  v1::ImportOrdersResponse first = ImportOrders(h, chunks);
  CHECK(first.received() == 1500);
  CHECK(first.created() == 1498);
  CHECK(first.failed() == 2);
  REQUIRE(first.errors_size() == 2);
  CHECK(first.errors(0).row() == 507);
  CHECK(first.errors(0).reason().rfind("order.customer_external_id:", 0) == 0);
  CHECK(first.errors(1).row() == 1000);
  CHECK(first.errors(1).reason().rfind("order.currency_code:", 0) == 0);

  // Re-import: unchanged, except one order now refunded.
  chunks[1][7].set_customer_external_id("shop-7");
  chunks[2][0].set_currency_code("GBP");
  chunks[0][0] = Order("shop-0", "o-0", 1000, v1::ORDER_STATUS_REFUNDED, 100);
  v1::ImportOrdersResponse second = ImportOrders(h, chunks);
  CHECK(second.created() == 2);
  CHECK(second.updated() == 1);
  CHECK(second.unchanged() == 1497);

  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.orders")[0][0].as<int>() == 1500);
  // shop-0 has 30 orders of 1000, one of them refunded.
  auto facts = tx.exec(
      "SELECT order_count, total_spent_minor FROM customer.customers WHERE external_id = "
      "'shop-0'");
  CHECK(facts[0][0].as<int>() == 30);
  CHECK(facts[0][1].as<int>() == 29000);
  CHECK(tx.exec("SELECT sum(order_count) FROM customer.customers")[0][0].as<int>() == 1500);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'order.recorded'")[0][0]
            .as<int>() == 1500);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'order.status_changed'")[0][0]
            .as<int>() == 1);

  // RecordOrder accepts an external id too.
  v1::RecordOrderRequest one;
  *one.mutable_order() = Order("shop-1", "single-1", 500, v1::ORDER_STATUS_PAID, 0);
  v1::Order recorded;
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), one, &recorded).ok());
  CHECK(recorded.customer().rfind("customers/", 0) == 0);
  *one.mutable_order() = Order("nobody", "single-2", 500, v1::ORDER_STATUS_PAID, 0);
  CHECK(h.stub().RecordOrder(CustomerHarness::Ctx().get(), one, &recorded).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("facts added by imports equal facts recomputed from all orders",
          "[integration][import]") {
  CustomerHarness h("import_facts");
  std::vector<v1::Customer> customers;
  for (int i = 0; i < 4; ++i) {
    v1::CreateCustomerRequest req;
    req.mutable_customer()->set_external_id("f-" + std::to_string(i));
    v1::Customer c;
    REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), req, &c).ok());
    customers.push_back(c);
  }
  auto order = [](int customer, const std::string& id, const std::string& currency, int64_t total,
                  v1::OrderStatus status, int64_t days_ago) {
    v1::Order o = Order("f-" + std::to_string(customer), id, total, status, days_ago);
    o.set_currency_code(currency);
    return o;
  };
  // Chunk 1 starts everyone; chunk 2 adds in every way the shortcut must
  // handle: same currency later (added), an older order in another currency
  // (recomputed), two currencies at once (recomputed), a cancelled order and
  // a change of a known order (recomputed).
  ImportOrders(h, {{order(0, "a1", "GBP", 1000, v1::ORDER_STATUS_PAID, 30),
                    order(1, "b1", "GBP", 2000, v1::ORDER_STATUS_PAID, 30),
                    order(2, "c1", "EUR", 3000, v1::ORDER_STATUS_PAID, 30),
                    order(3, "d1", "GBP", 500, v1::ORDER_STATUS_CANCELLED, 40),
                    order(3, "d2", "GBP", 700, v1::ORDER_STATUS_PAID, 35)},
                   {order(0, "a2", "GBP", 1500, v1::ORDER_STATUS_PAID, 10),
                    order(1, "b0", "USD", 900, v1::ORDER_STATUS_PAID, 60),
                    order(2, "c2", "EUR", 100, v1::ORDER_STATUS_PAID, 5),
                    order(2, "c3", "GBP", 100, v1::ORDER_STATUS_PAID, 4),
                    order(3, "d3", "GBP", 50, v1::ORDER_STATUS_CANCELLED, 1),
                    order(3, "d2", "GBP", 700, v1::ORDER_STATUS_REFUNDED, 35)}});
  for (const auto& c : customers) {
    v1::GetCustomerRequest get;
    get.set_name(c.name());
    v1::Customer imported;
    REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &imported).ok());
    // RecordOrder recomputes from every order; a cancelled order adds nothing.
    v1::RecordOrderRequest record;
    *record.mutable_order() = Order("", "x-" + c.external_id(), 1, v1::ORDER_STATUS_CANCELLED, 2);
    record.mutable_order()->clear_customer_external_id();
    record.mutable_order()->set_customer(c.name());
    v1::Order recorded;
    REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), record, &recorded).ok());
    v1::Customer recomputed;
    REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &recomputed).ok());
    INFO(c.external_id() << "\nimported: " << imported.facts().DebugString()
                         << "recomputed: " << recomputed.facts().DebugString());
    CHECK(imported.facts().SerializeAsString() == recomputed.facts().SerializeAsString());
  }
}

TEST_CASE("an import applies its chunks in order and stops at a chunk it refuses",
          "[integration][import]") {
  CustomerHarness h("import_order_of_chunks");
  v1::CreateCustomerRequest create;
  create.mutable_customer()->set_external_id("c-1");
  v1::Customer customer;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &customer).ok());
  // Thirty one-order chunks sent back to back, each a later state of the
  // same order: the stream reads ahead, so only applying them in order
  // leaves the last state.
  std::vector<std::vector<v1::Order>> chunks;
  for (int i = 0; i < 30; ++i) {
    v1::Order o = Order("c-1", "o-1", 1000, v1::ORDER_STATUS_PAID, 10);
    if (i > 0) o.set_status(v1::ORDER_STATUS_PARTIALLY_REFUNDED);
    o.set_refunded_minor(i * 10);
    chunks.push_back({o});
  }
  v1::ImportOrdersResponse summary = ImportOrders(h, chunks);
  CHECK(summary.received() == 30);
  CHECK(summary.created() == 1);
  CHECK(summary.updated() == 29);
  pqxx::connection conn(h.db_url());
  {
    pqxx::nontransaction tx(conn);
    CHECK(tx.exec("SELECT refunded_minor FROM customer.orders WHERE order_id = 'o-1'")[0][0]
              .as<int>() == 290);
  }

  // A message of 1001 orders ends the stream with INVALID_ARGUMENT; the
  // chunk before it is applied, the one after it is not.
  auto ctx = CustomerHarness::Ctx();
  v1::ImportOrdersResponse refused;
  auto writer = h.stub().ImportOrders(ctx.get(), &refused);
  v1::ImportOrdersRequest before, too_big, after;
  *before.add_orders() = Order("c-1", "before", 100, v1::ORDER_STATUS_PAID, 3);
  for (int i = 0; i < 1001; ++i) {
    *too_big.add_orders() = Order("c-1", "big-" + std::to_string(i), 100, v1::ORDER_STATUS_PAID, 2);
  }
  *after.add_orders() = Order("c-1", "after", 100, v1::ORDER_STATUS_PAID, 1);
  writer->Write(before);
  writer->Write(too_big);
  writer->Write(after);  // may fail: the server has ended the stream
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "orders: at most 1000 per message");
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT order_id FROM customer.orders WHERE order_id <> 'o-1'")[0][0]
            .as<std::string>() == "before");
  CHECK(tx.exec("SELECT count(*) FROM customer.orders")[0][0].as<int>() == 2);
}

TEST_CASE("an import cancelled while chunks are applied and queued leaves the service working",
          "[integration][import]") {
  CustomerHarness h("import_cancelled");
  v1::CreateCustomerRequest create;
  create.mutable_customer()->set_external_id("c-1");
  v1::Customer customer;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &customer).ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto ctx = CustomerHarness::Ctx();
    v1::ImportOrdersResponse summary;
    auto writer = h.stub().ImportOrders(ctx.get(), &summary);
    for (int chunk = 0; chunk < 4; ++chunk) {
      v1::ImportOrdersRequest req;
      for (int i = 0; i < 1000; ++i) {
        *req.add_orders() = Order("c-1", absl::StrCat("x-", attempt, "-", chunk, "-", i), 100,
                                  v1::ORDER_STATUS_PAID, 1);
      }
      if (!writer->Write(req)) break;
    }
    ctx->TryCancel();  // chunks are being applied and one waits
    CHECK(writer->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  // The service still imports; what was applied before the cancel stays whole.
  v1::ImportOrdersResponse after =
      ImportOrders(h, {{Order("c-1", "after", 100, v1::ORDER_STATUS_PAID, 1)}});
  CHECK(after.created() == 1);
  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) % 1000 FROM customer.orders WHERE order_id LIKE 'x-%'")[0][0]
            .as<int>() == 0);
}

}  // namespace
}  // namespace crm::testing
