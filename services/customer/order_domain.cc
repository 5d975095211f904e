#include "services/customer/order_domain.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "services/customer/identity_domain.h"

namespace crm::customer {

using v1::Order;
using v1::OrderStatus;

namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("order.", field, ": ", why));
}

bool IsCurrencyCode(absl::string_view s) {
  return s.size() == 3 && absl::ascii_isupper(s[0]) && absl::ascii_isupper(s[1]) &&
         absl::ascii_isupper(s[2]);
}

}  // namespace

std::string OrderStatusName(OrderStatus status) { return v1::OrderStatus_Name(status); }

absl::Status ValidateOrder(Order* o, absl::Time now) {
  const int named = (o->customer().empty() ? 0 : 1) + (o->customer_external_id().empty() ? 0 : 1) +
                    (o->has_customer_identity() ? 1 : 0);
  if (named != 1) {
    return Bad("customer", "give exactly one of customer, customer_external_id, customer_identity");
  }
  if (!o->customer_external_id().empty()) {
    // The shop's own id is one kind of identifier: resolved the same way.
    CRM_RETURN_IF_ERROR(
        api::CheckText("order.customer_external_id", o->customer_external_id(), 128));
    auto* identity = o->mutable_customer_identity();
    identity->set_kind(v1::IDENTITY_KIND_EXTERNAL_ID);
    identity->set_source(kShopSource);
    identity->set_value(o->customer_external_id());
    o->clear_customer_external_id();
  } else if (o->has_customer_identity()) {
    CRM_RETURN_IF_ERROR(
        NormalizeIdentity(o->mutable_customer_identity(), "order.customer_identity"));
  } else {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("order.customer", o->customer(), "customers", &id));
  }
  if (o->order_id().empty()) return Bad("order_id", "required");
  CRM_RETURN_IF_ERROR(api::CheckText("order.order_id", o->order_id(), 128));
  if (!api::RequiredEnum("status", o->status()).ok()) return Bad("status", "required");
  if (!IsCurrencyCode(o->currency_code())) {
    return Bad("currency_code", "must be an ISO-4217 code in upper case, e.g. EUR");
  }
  if (o->line_items_size() > 2000) return Bad("line_items", "at most 2000");
  int64_t sum = 0;
  for (int i = 0; i < o->line_items_size(); ++i) {
    const auto& li = o->line_items(i);
    const std::string f = absl::StrCat("order.line_items[", i, "]");
    if (li.sku().empty()) return absl::InvalidArgumentError(absl::StrCat(f, ".sku: required"));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".sku"), li.sku(), 64));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".product_name"), li.product_name(), 200));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".category"), li.category(), 100));
    if (li.quantity() < 1 || li.quantity() > 1000000) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".quantity: must be 1 to 1000000"));
    }
    if (li.unit_price_minor() < 0 || li.unit_price_minor() > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".unit_price_minor: must be 0 to 2^40"));
    }
    if (li.unit_cost_minor() < 0 || li.unit_cost_minor() > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".unit_cost_minor: must be 0 to 2^40"));
    }
    sum += li.quantity() * li.unit_price_minor();  // < 2^60: no overflow
    if (sum > (int64_t{1} << 60)) return Bad("line_items", "total too large");
  }
  if (o->total_minor() < 0) return Bad("total_minor", "must not be negative");
  if (o->total_minor() == 0) o->set_total_minor(sum);
  if (o->refunded_minor() < 0 || o->refunded_minor() > o->total_minor()) {
    return Bad("refunded_minor", "must be between 0 and total_minor");
  }
  if (o->discount_codes_size() > 20) return Bad("discount_codes", "at most 20");
  for (int i = 0; i < o->discount_codes_size(); ++i) {
    const std::string f = absl::StrCat("order.discount_codes[", i, "]");
    if (o->discount_codes(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": must not be empty"));
    }
    CRM_RETURN_IF_ERROR(api::CheckText(f, o->discount_codes(i), 64));
  }
  if (!o->sales_channel().empty()) {
    CRM_RETURN_IF_ERROR(api::CheckToken("order.sales_channel", o->sales_channel(), 64));
  }
  if (!o->has_order_time()) {
    o->mutable_order_time()->set_seconds(absl::ToUnixSeconds(now));
  } else if (o->order_time().seconds() < 0 || o->order_time().nanos() < 0 ||
             o->order_time().nanos() > 999999999) {
    return Bad("order_time", "out of range");
  } else if (absl::FromUnixSeconds(o->order_time().seconds()) > now + absl::Minutes(5)) {
    return Bad("order_time", "must not be in the future");
  }
  o->clear_name();
  o->clear_create_time();
  o->clear_update_time();
  return absl::OkStatus();
}

bool IsAllowedTransition(OrderStatus from, OrderStatus to) {
  if (from == to) return true;
  switch (from) {
    case v1::ORDER_STATUS_PLACED:
      return to == v1::ORDER_STATUS_PAID || to == v1::ORDER_STATUS_FULFILLED ||
             to == v1::ORDER_STATUS_CANCELLED;
    case v1::ORDER_STATUS_PAID:
      return to == v1::ORDER_STATUS_FULFILLED || to == v1::ORDER_STATUS_CANCELLED ||
             to == v1::ORDER_STATUS_REFUNDED || to == v1::ORDER_STATUS_PARTIALLY_REFUNDED;
    case v1::ORDER_STATUS_FULFILLED:
      return to == v1::ORDER_STATUS_REFUNDED || to == v1::ORDER_STATUS_PARTIALLY_REFUNDED;
    case v1::ORDER_STATUS_PARTIALLY_REFUNDED:
      return to == v1::ORDER_STATUS_REFUNDED;
    default:
      return false;  // cancelled and refunded are final
  }
}

absl::Status ApplyStatusChange(const v1::UpdateOrderStatusRequest& request, Order* order,
                               bool* changed) {
  const OrderStatus to = request.status();
  CRM_RETURN_IF_ERROR(api::RequiredEnum("status", to));
  if (request.expected_status() != v1::ORDER_STATUS_UNSPECIFIED &&
      request.expected_status() != order->status()) {
    return absl::AbortedError(
        absl::StrCat("expected_status: the order is ", OrderStatusName(order->status()), " now"));
  }
  if (!IsAllowedTransition(order->status(), to)) {
    return absl::FailedPreconditionError(absl::StrCat("status: an order that is ",
                                                      OrderStatusName(order->status()),
                                                      " cannot become ", OrderStatusName(to)));
  }
  int64_t refunded = order->refunded_minor();
  if (to == v1::ORDER_STATUS_REFUNDED) {
    if (request.refunded_minor() != 0 && request.refunded_minor() != order->total_minor()) {
      return absl::InvalidArgumentError(
          "refunded_minor: a full refund is the whole total_minor; use PARTIALLY_REFUNDED");
    }
    refunded = order->total_minor();
  } else if (to == v1::ORDER_STATUS_PARTIALLY_REFUNDED) {
    if (request.refunded_minor() <= 0 || request.refunded_minor() >= order->total_minor()) {
      return absl::InvalidArgumentError(
          "refunded_minor: a partial refund is more than 0 and less than total_minor");
    }
    if (request.refunded_minor() < order->refunded_minor()) {
      return absl::InvalidArgumentError(
          "refunded_minor: refunds only grow; send the total refunded so far");
    }
    refunded = request.refunded_minor();
  } else if (request.refunded_minor() != 0) {
    return absl::InvalidArgumentError("refunded_minor: only with a refund status");
  }
  *changed = to != order->status() || refunded != order->refunded_minor();
  order->set_status(to);
  order->set_refunded_minor(refunded);
  return absl::OkStatus();
}

const std::vector<api::FilterField>& OrderFilterFields() {
  using api::FieldType;
  static const auto* fields = new std::vector<api::FilterField>{
      {"status",
       "(CASE o.status WHEN 1 THEN 'ORDER_STATUS_PLACED' WHEN 2 THEN 'ORDER_STATUS_PAID' "
       "WHEN 3 THEN 'ORDER_STATUS_FULFILLED' WHEN 4 THEN 'ORDER_STATUS_CANCELLED' WHEN 5 THEN "
       "'ORDER_STATUS_REFUNDED' ELSE 'ORDER_STATUS_PARTIALLY_REFUNDED' END)",
       FieldType::kString, false},
      {"currency_code", "o.currency_code", FieldType::kString, false},
      {"sales_channel", "o.sales_channel", FieldType::kString, false},
      {"order_id", "o.order_id", FieldType::kString, false},
      {"total_minor", "o.total_minor", FieldType::kNumber, false},
      {"order_time", "o.order_time", FieldType::kTimestamp, false},
  };
  return *fields;
}

std::string OrderDetailsJson(const Order& order) {
  std::string json = "{";
  auto text = [&json](const char* key, const std::string& value) {
    if (value.empty()) return;
    if (json.back() != '{') json += ',';
    absl::StrAppend(&json, "\"", key, "\":\"", log::JsonEscape(value), "\"");
  };
  auto number = [&json](const char* key, int64_t value) {
    if (value == 0) return;
    if (json.back() != '{') json += ',';
    absl::StrAppend(&json, "\"", key, "\":\"", value, "\"");
  };
  if (order.line_items_size() > 0) {
    json += "\"lineItems\":[";
    for (int i = 0; i < order.line_items_size(); ++i) {
      const v1::LineItem& item = order.line_items(i);
      if (i > 0) json += ',';
      json += '{';
      text("sku", item.sku());
      text("productName", item.product_name());
      text("category", item.category());
      number("quantity", item.quantity());
      number("unitPriceMinor", item.unit_price_minor());
      number("unitCostMinor", item.unit_cost_minor());
      json += '}';
    }
    json += ']';
  }
  if (order.discount_codes_size() > 0) {
    if (json.back() != '{') json += ',';
    json += "\"discountCodes\":[";
    for (int i = 0; i < order.discount_codes_size(); ++i) {
      if (i > 0) json += ',';
      absl::StrAppend(&json, "\"", log::JsonEscape(order.discount_codes(i)), "\"");
    }
    json += ']';
  }
  return json + "}";
}

}  // namespace crm::customer
