// Orders: idempotent recording, the life cycle, facts kept current, lists.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::GetCustomerRequest;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using crm::customer::v1::ListOrdersRequest;
using crm::customer::v1::ListOrdersResponse;
using crm::customer::v1::Order;
using crm::customer::v1::RecordOrderRequest;
using crm::customer::v1::UpdateOrderStatusRequest;
namespace v1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

Order MakeOrder(const Customer& c, const std::string& order_id, int64_t total, int64_t days_ago,
                const std::string& currency = "EUR") {
  Order o;
  o.set_customer(c.name());
  o.set_order_id(order_id);
  o.set_status(v1::ORDER_STATUS_PAID);
  o.set_currency_code(currency);
  o.set_total_minor(total);
  o.set_sales_channel("web");
  auto* li = o.add_line_items();
  li->set_sku("SKU-" + order_id);
  li->set_product_name("Mug");
  li->set_quantity(1);
  li->set_unit_price_minor(total);
  o.add_discount_codes("WELCOME10");
  *o.mutable_order_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - days_ago * 86400);
  return o;
}

grpc::Status RecordOrder(CustomerHarness& h, const Order& o, Order* out,
                         const std::string& tenant = "acme") {
  RecordOrderRequest req;
  *req.mutable_order() = o;
  return h.stub().RecordOrder(CustomerHarness::Ctx(tenant).get(), req, out);
}

v1::CustomerFacts Facts(CustomerHarness& h, const Customer& c) {
  GetCustomerRequest get;
  get.set_name(c.name());
  Customer out;
  REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &out).ok());
  return out.facts();
}

TEST_CASE("orders keep the customer's facts current", "[integration][order]") {
  CustomerHarness h("orders");
  Customer ann = h.NewCustomer("ann@example.com");
  Order first, second, retry;
  REQUIRE(RecordOrder(h, MakeOrder(ann, "1001", 5000, 30), &first).ok());
  CHECK(first.name().rfind("orders/", 0) == 0);
  CHECK(first.line_items(0).sku() == "SKU-1001");
  CHECK(first.discount_codes(0) == "WELCOME10");
  REQUIRE(RecordOrder(h, MakeOrder(ann, "1002", 3000, 2), &second).ok());

  // Recording the same shop order again returns it and changes nothing.
  Order same = MakeOrder(ann, "1001", 5000, 30);
  *same.mutable_order_time() = first.order_time();
  REQUIRE(RecordOrder(h, same, &retry).ok());
  CHECK(retry.name() == first.name());
  Order different = MakeOrder(ann, "1001", 9999, 30);
  grpc::Status st = RecordOrder(h, different, &retry);
  CHECK(st.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(st.error_message().rfind("order.order_id:", 0) == 0);

  v1::CustomerFacts f = Facts(h, ann);
  CHECK(f.order_count() == 2);
  CHECK(f.total_spent_minor() == 8000);
  CHECK(f.average_order_value_minor() == 4000);
  CHECK(f.currency_code() == "EUR");
  CHECK(f.first_order_time().seconds() == first.order_time().seconds());
  CHECK(f.last_order_time().seconds() == second.order_time().seconds());

  // Partial refund, then cancellation of the other: facts follow.
  UpdateOrderStatusRequest refund;
  refund.set_name(first.name());
  refund.set_status(v1::ORDER_STATUS_PARTIALLY_REFUNDED);
  refund.set_refunded_minor(1000);
  Order refunded;
  REQUIRE(h.stub().UpdateOrderStatus(CustomerHarness::Ctx().get(), refund, &refunded).ok());
  CHECK(refunded.refunded_minor() == 1000);
  CHECK(Facts(h, ann).total_spent_minor() == 7000);
  UpdateOrderStatusRequest cancel;
  cancel.set_name(second.name());
  cancel.set_status(v1::ORDER_STATUS_CANCELLED);
  Order cancelled;
  REQUIRE(h.stub().UpdateOrderStatus(CustomerHarness::Ctx().get(), cancel, &cancelled).ok());
  f = Facts(h, ann);
  CHECK(f.order_count() == 1);
  CHECK(f.total_spent_minor() == 4000);
  CHECK(f.last_order_time().seconds() == first.order_time().seconds());
  // A cancelled order stays cancelled.
  cancel.set_status(v1::ORDER_STATUS_PAID);
  st = h.stub().UpdateOrderStatus(CustomerHarness::Ctx().get(), cancel, &cancelled);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  // Orders in another currency count, but are not summed.
  Order usd;
  REQUIRE(RecordOrder(h, MakeOrder(ann, "1003", 7000, 1, "USD"), &usd).ok());
  f = Facts(h, ann);
  CHECK(f.order_count() == 2);
  CHECK(f.total_spent_minor() == 4000);

  // Facts are filterable.
  Customer bob = h.NewCustomer("bob@example.com");
  ListCustomersRequest list;
  list.set_filter("facts.order_count >= 1 AND facts.total_spent_minor > 1000");
  ListCustomersResponse page;
  REQUIRE(h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page).ok());
  REQUIRE(page.customers_size() == 1);
  CHECK(page.customers(0).name() == ann.name());
  list.set_filter("facts.order_count = 0");
  REQUIRE(h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page).ok());
  REQUIRE(page.customers_size() == 1);
  CHECK(page.customers(0).name() == bob.name());

  // Every change was published.
  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'order.recorded'")[0][0]
            .as<int>() == 3);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'order.status_changed'")[0][0]
            .as<int>() == 2);
}

TEST_CASE("orders are listed per customer and per tenant, newest first", "[integration][order]") {
  CustomerHarness h("orders");
  Customer ann = h.NewCustomer("ann@example.com");
  Customer bob = h.NewCustomer("bob@example.com");
  Order out;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(RecordOrder(h, MakeOrder(ann, "a-" + std::to_string(i), 1000 + i, 10 - i), &out).ok());
  }
  REQUIRE(RecordOrder(h, MakeOrder(bob, "b-0", 500, 0), &out).ok());
  Customer other = h.NewCustomer("x@example.com", "other");
  REQUIRE(RecordOrder(h, MakeOrder(other, "a-0", 1, 0), &out, "other").ok());  // ids per tenant

  ListOrdersRequest list;
  list.set_parent(ann.name());
  list.set_page_size(2);
  std::vector<std::string> ids;
  for (;;) {
    ListOrdersResponse page;
    REQUIRE(h.stub().ListOrders(CustomerHarness::Ctx().get(), list, &page).ok());
    for (const auto& o : page.orders()) ids.push_back(o.order_id());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  CHECK(ids == std::vector<std::string>{"a-4", "a-3", "a-2", "a-1", "a-0"});

  ListOrdersRequest all;
  all.set_filter("total_minor >= 1003 OR order_id = \"b-0\"");
  ListOrdersResponse page;
  REQUIRE(h.stub().ListOrders(CustomerHarness::Ctx().get(), all, &page).ok());
  CHECK(page.orders_size() == 3);
  all.set_filter("status = \"ORDER_STATUS_PAID\" AND sales_channel = \"web\"");
  REQUIRE(h.stub().ListOrders(CustomerHarness::Ctx().get(), all, &page).ok());
  CHECK(page.orders_size() == 6);

  // Another tenant sees only its own order, and none of ours by name.
  REQUIRE(
      h.stub().ListOrders(CustomerHarness::Ctx("other").get(), ListOrdersRequest(), &page).ok());
  CHECK(page.orders_size() == 1);
  v1::GetOrderRequest get;
  get.set_name(out.name());
  Order got;
  CHECK(h.stub().GetOrder(CustomerHarness::Ctx().get(), get, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(h.stub().GetOrder(CustomerHarness::Ctx("other").get(), get, &got).ok());

  // An order for a customer of another tenant is NOT_FOUND.
  CHECK(RecordOrder(h, MakeOrder(other, "z-1", 1, 0), &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace crm::testing
