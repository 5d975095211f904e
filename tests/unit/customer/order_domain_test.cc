#include "services/customer/order_domain.h"

#include <catch2/catch.hpp>

#include "google/protobuf/util/json_util.h"

namespace crm::customer {
namespace {

namespace v1 = crm::customer::v1;

v1::Order Valid() {
  v1::Order o;
  o.set_customer("customers/00000000-0000-4000-8000-000000000001");
  o.set_order_id("1001");
  o.set_status(v1::ORDER_STATUS_PAID);
  o.set_currency_code("EUR");
  auto* li = o.add_line_items();
  li->set_sku("MUG-1");
  li->set_quantity(3);
  li->set_unit_price_minor(450);
  return o;
}

TEST_CASE("order validation fills totals and times and names bad fields", "[order]") {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  v1::Order o = Valid();
  REQUIRE(ValidateOrder(&o, now).ok());
  CHECK(o.total_minor() == 1350);  // from the line items
  CHECK(o.order_time().seconds() == 1800000000);
  auto message = [&](v1::Order bad) {
    absl::Status s = ValidateOrder(&bad, now);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::Order bad = Valid();
  bad.set_customer("customer/1");
  CHECK(message(bad).rfind("order.customer:", 0) == 0);
  bad = Valid();
  bad.clear_order_id();
  CHECK(message(bad) == "order.order_id: required");
  bad = Valid();
  bad.set_currency_code("eur");
  CHECK(message(bad).rfind("order.currency_code:", 0) == 0);
  bad = Valid();
  bad.clear_status();
  CHECK(message(bad) == "order.status: required");
  bad = Valid();
  bad.mutable_line_items(0)->set_quantity(0);
  CHECK(message(bad).rfind("order.line_items[0].quantity:", 0) == 0);
  bad = Valid();
  bad.mutable_line_items(0)->set_unit_price_minor(-1);
  CHECK(message(bad).rfind("order.line_items[0].unit_price_minor:", 0) == 0);
  bad = Valid();
  bad.mutable_line_items(0)->set_unit_cost_minor(-5);
  CHECK(message(bad) == "order.line_items[0].unit_cost_minor: must be 0 to 2^40");
  bad = Valid();
  bad.set_total_minor(100);
  bad.set_refunded_minor(101);
  CHECK(message(bad).rfind("order.refunded_minor:", 0) == 0);
  bad = Valid();
  bad.mutable_order_time()->set_seconds(1800000000 + 3600);
  CHECK(message(bad) == "order.order_time: must not be in the future");
  bad = Valid();
  bad.set_sales_channel("Web Shop");
  CHECK(message(bad).rfind("order.sales_channel:", 0) == 0);
}

TEST_CASE("order life cycle and refunds", "[order]") {
  CHECK(IsAllowedTransition(v1::ORDER_STATUS_PLACED, v1::ORDER_STATUS_PAID));
  CHECK(IsAllowedTransition(v1::ORDER_STATUS_PAID, v1::ORDER_STATUS_FULFILLED));
  CHECK(IsAllowedTransition(v1::ORDER_STATUS_FULFILLED, v1::ORDER_STATUS_PARTIALLY_REFUNDED));
  CHECK(IsAllowedTransition(v1::ORDER_STATUS_PARTIALLY_REFUNDED, v1::ORDER_STATUS_REFUNDED));
  CHECK_FALSE(IsAllowedTransition(v1::ORDER_STATUS_CANCELLED, v1::ORDER_STATUS_PAID));
  CHECK_FALSE(IsAllowedTransition(v1::ORDER_STATUS_REFUNDED, v1::ORDER_STATUS_FULFILLED));
  CHECK_FALSE(IsAllowedTransition(v1::ORDER_STATUS_FULFILLED, v1::ORDER_STATUS_CANCELLED));

  v1::Order o = Valid();
  o.set_total_minor(1000);
  v1::UpdateOrderStatusRequest req;
  bool changed = false;
  req.set_status(v1::ORDER_STATUS_PARTIALLY_REFUNDED);
  req.set_refunded_minor(300);
  REQUIRE(ApplyStatusChange(req, &o, &changed).ok());
  CHECK(changed);
  CHECK(o.refunded_minor() == 300);
  req.set_refunded_minor(200);  // refunds never shrink
  CHECK(ApplyStatusChange(req, &o, &changed).code() == absl::StatusCode::kInvalidArgument);
  req.set_refunded_minor(300);  // a retry changes nothing
  REQUIRE(ApplyStatusChange(req, &o, &changed).ok());
  CHECK_FALSE(changed);
  req.set_status(v1::ORDER_STATUS_REFUNDED);
  req.set_refunded_minor(0);
  REQUIRE(ApplyStatusChange(req, &o, &changed).ok());
  CHECK(o.refunded_minor() == 1000);
  req.set_status(v1::ORDER_STATUS_PAID);
  CHECK(ApplyStatusChange(req, &o, &changed).code() == absl::StatusCode::kFailedPrecondition);
  req.set_status(v1::ORDER_STATUS_REFUNDED);
  req.set_expected_status(v1::ORDER_STATUS_PAID);
  CHECK(ApplyStatusChange(req, &o, &changed).code() == absl::StatusCode::kAborted);
}

TEST_CASE("order details JSON is what the protobuf JSON mapping writes", "[order]") {
  auto same_as_protobuf = [](const v1::Order& o) {
    v1::Order only;
    *only.mutable_line_items() = o.line_items();
    *only.mutable_discount_codes() = o.discount_codes();
    std::string expected;
    REQUIRE(google::protobuf::util::MessageToJsonString(only, &expected).ok());
    v1::Order parsed;
    REQUIRE(google::protobuf::util::JsonStringToMessage(OrderDetailsJson(o), &parsed).ok());
    CHECK(parsed.SerializeAsString() == only.SerializeAsString());
    return OrderDetailsJson(o) == expected;
  };
  v1::Order o = Valid();
  CHECK(same_as_protobuf(o));
  CHECK(OrderDetailsJson(o) ==
        R"({"lineItems":[{"sku":"MUG-1","quantity":"3","unitPriceMinor":"450"}]})");
  auto* li = o.add_line_items();
  li->set_sku("TEA \"Earl\" Grey\\1");
  li->set_product_name("Thé\tvert\n\x01");
  li->set_category("drinks");
  li->set_quantity(-2);
  li->set_unit_cost_minor(120);
  o.add_discount_codes("WELCOME10");
  o.add_discount_codes("");
  v1::Order only_codes;
  only_codes.add_discount_codes("X");
  CHECK(same_as_protobuf(only_codes));
  CHECK(OrderDetailsJson(v1::Order()) == "{}");
  CHECK(same_as_protobuf(o));
}

}  // namespace
}  // namespace crm::customer
