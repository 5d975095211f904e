// Pure order rules: validation, the status life cycle, and refund amounts.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/filter.h"
#include "crm/customer/v1/customer_service.pb.h"
#include "crm/customer/v1/order.pb.h"

namespace crm::customer {

// Checks an order to record at `now`; fills order_time when unset and the
// total from the line items when zero. Messages name the field under
// "order.".
absl::Status ValidateOrder(crm::customer::v1::Order* order, absl::Time now);

// Whether `from` may become `to`. The same status is allowed (a no-op
// unless a partial refund grows).
bool IsAllowedTransition(crm::customer::v1::OrderStatus from, crm::customer::v1::OrderStatus to);

// Applies a status change to `order` (refund amounts included) or says why
// it cannot: FAILED_PRECONDITION for an impossible move, INVALID_ARGUMENT for
// a bad amount. Sets `*changed` to whether anything differs.
absl::Status ApplyStatusChange(const crm::customer::v1::UpdateOrderStatusRequest& request,
                               crm::customer::v1::Order* order, bool* changed);

std::string OrderStatusName(crm::customer::v1::OrderStatus status);

// The order's line items and discount codes as the protobuf JSON mapping
// writes them (camelCase names, int64 as strings, defaults left out): the
// `details` column. Written directly, as it is on every imported order.
std::string OrderDetailsJson(const crm::customer::v1::Order& order);

// The fields ListOrders may filter on.
const std::vector<api::FilterField>& OrderFilterFields();

}  // namespace crm::customer
