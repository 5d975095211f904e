#include "services/customer/order_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/filter.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/customer/customer_store.h"
#include "services/customer/order_domain.h"

namespace crm::customer {

using google::protobuf::util::TimeUtil;
using v1::Order;

namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

constexpr char kOrderColumns[] =
    "o.id::text, o.customer_id::text, o.order_id, o.status, o.currency_code, o.total_minor, "
    "o.refunded_minor, o.details::text, COALESCE(o.sales_channel, ''), "
    "(EXTRACT(EPOCH FROM o.order_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM o.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM o.update_time) * 1000000)::bigint, o.request_hash";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_insert_order",
       absl::StrCat("WITH o AS (INSERT INTO customer.orders (tenant_id, customer_id, order_id, "
                    "status, currency_code, total_minor, refunded_minor, details, "
                    "sales_channel, order_time, request_hash) VALUES ($1, $2::uuid, $3, $4, $5, "
                    "$6, $7, $8::jsonb, NULLIF($9, ''), 'epoch'::timestamptz + $10::bigint * "
                    "interval '1 microsecond', $11) RETURNING *) SELECT ",
                    kOrderColumns, " FROM o")},
      {"customer_get_order_by_order_id",
       absl::StrCat("SELECT ", kOrderColumns,
                    " FROM customer.orders o WHERE o.tenant_id = $1 AND o.order_id = $2")},
      {"customer_get_order",
       absl::StrCat("SELECT ", kOrderColumns,
                    " FROM customer.orders o WHERE o.tenant_id = $1 AND o.id = $2::uuid")},
      {"customer_lock_order",
       absl::StrCat("SELECT ", kOrderColumns,
                    " FROM customer.orders o WHERE o.tenant_id = $1 AND o.id = $2::uuid FOR "
                    "UPDATE")},
      {"customer_update_order_status",
       absl::StrCat("WITH o AS (UPDATE customer.orders SET status = $3, refunded_minor = $4, "
                    "update_time = now() WHERE tenant_id = $1 AND id = $2::uuid RETURNING *) "
                    "SELECT ",
                    kOrderColumns, " FROM o")},
      {"customer_lock_customer_for_order",
       "SELECT delete_time IS NOT NULL FROM customer.customers WHERE tenant_id = $1 AND id = "
       "$2::uuid FOR UPDATE"},
      // Facts from the customer's orders (cancelled ones count for nothing).
      {"customer_refresh_customer_facts",
       "WITH o AS (SELECT order_time, currency_code, total_minor - refunded_minor AS net, id "
       "FROM customer.orders WHERE tenant_id = $1 AND customer_id = $2::uuid AND status <> 4), "
       "cur AS (SELECT currency_code FROM o ORDER BY order_time, id LIMIT 1) "
       "UPDATE customer.customers SET "
       "first_order_time = (SELECT min(order_time) FROM o), "
       "last_order_time = (SELECT max(order_time) FROM o), "
       "order_count = (SELECT count(*) FROM o), "
       "facts_currency = (SELECT currency_code FROM cur), "
       "total_spent_minor = COALESCE((SELECT sum(net) FROM o WHERE currency_code = (SELECT "
       "currency_code FROM cur)), 0)::bigint, "
       "orders_in_currency = (SELECT count(*) FROM o WHERE currency_code = (SELECT "
       "currency_code FROM cur)), "
       "last_seen_time = GREATEST(last_seen_time, (SELECT max(order_time) FROM o)) "
       "WHERE tenant_id = $1 AND id = $2::uuid"},
  };
  return *statements;
}

std::string DetailsJson(const Order& o) {
  Order only;
  *only.mutable_line_items() = o.line_items();
  *only.mutable_discount_codes() = o.discount_codes();
  std::string json;
  google::protobuf::util::MessageToJsonString(only, &json);
  return json;
}

Order RowToOrder(const pqxx::row& row) {
  Order o;
  o.set_name(absl::StrCat("orders/", row[0].as<std::string>()));
  o.set_customer(absl::StrCat("customers/", row[1].as<std::string>()));
  o.set_order_id(row[2].as<std::string>());
  o.set_status(static_cast<v1::OrderStatus>(row[3].as<int>()));
  o.set_currency_code(row[4].as<std::string>());
  o.set_total_minor(row[5].as<int64_t>());
  o.set_refunded_minor(row[6].as<int64_t>());
  Order details;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(row[7].as<std::string>(), &details, options);
  if (!parsed.ok()) {
    log::Error("stored order details unreadable", {{"order", o.name()}});
  }
  *o.mutable_line_items() = details.line_items();
  *o.mutable_discount_codes() = details.discount_codes();
  o.set_sales_channel(row[8].as<std::string>());
  *o.mutable_order_time() = TimeUtil::MicrosecondsToTimestamp(row[9].as<int64_t>());
  *o.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[10].as<int64_t>());
  *o.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[11].as<int64_t>());
  return o;
}

db::TxOptions TxFor(const server::CallScope& scope) {
  db::TxOptions options;
  options.tenant = scope.tenant;
  options.deadline = scope.deadline;
  return options;
}

std::string CustomerId(const Order& o) {
  return o.customer().substr(std::string("customers/").size());
}

}  // namespace

OrderStore::OrderStore(db::Pool& pool, api::PageTokenCodec tokens)
    : pool_(pool), tokens_(std::move(tokens)) {
  for (const auto& [name, sql] : Statements()) pool_.Prepare(name, sql);
}

absl::StatusOr<Order> OrderStore::Record(const server::CallScope& scope, const Order& order,
                                         const std::string& request_hash) {
  Order recorded;
  const std::string customer_id = CustomerId(order);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, TxFor(scope), [&](pqxx::work& tx) {
    auto same_id = [&]() -> absl::Status {
      auto rows = db::Exec(tx, "customer_get_order_by_order_id", scope.tenant, order.order_id());
      if (rows.empty()) return absl::InternalError("order vanished");
      if (rows[0][12].as<std::string>() != request_hash) {
        return absl::AlreadyExistsError(
            "order.order_id: already recorded with different content; use UpdateOrderStatus");
      }
      recorded = RowToOrder(rows[0]);
      return absl::OkStatus();
    };
    if (!db::Exec(tx, "customer_get_order_by_order_id", scope.tenant, order.order_id()).empty()) {
      return same_id();
    }
    // Locks the customer: facts of one customer are refreshed one order at a time.
    auto customer = db::Exec(tx, "customer_lock_customer_for_order", scope.tenant, customer_id);
    if (customer.empty()) {
      return absl::NotFoundError(absl::StrCat(order.customer(), " not found"));
    }
    if (customer[0][0].as<bool>()) {
      return absl::FailedPreconditionError(absl::StrCat(order.customer(), " is deleted"));
    }
    pqxx::result rows;
    try {
      pqxx::subtransaction insert(tx, "insert_order");
      rows = db::Exec(insert, "customer_insert_order", scope.tenant, customer_id, order.order_id(),
                      static_cast<int>(order.status()), order.currency_code(), order.total_minor(),
                      order.refunded_minor(), DetailsJson(order), order.sales_channel(),
                      TimeUtil::TimestampToMicroseconds(order.order_time()), request_hash);
      insert.commit();
    } catch (const pqxx::unique_violation&) {
      return same_id();  // a concurrent retry recorded it first
    }
    recorded = RowToOrder(rows[0]);
    db::Exec(tx, "customer_refresh_customer_facts", scope.tenant, customer_id);
    events::AppendEvent(tx, kSchema, scope.tenant, "order.recorded", recorded.name(), recorded);
    return absl::OkStatus();
  }));
  return recorded;
}

absl::StatusOr<Order> OrderStore::Get(const server::CallScope& scope, const std::string& id) {
  Order found;
  db::TxOptions options = TxFor(scope);
  options.read_only = true;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](pqxx::work& tx) {
    auto rows = db::Exec(tx, "customer_get_order", scope.tenant, id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("orders/", id, " not found"));
    found = RowToOrder(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<Order> OrderStore::UpdateStatus(const server::CallScope& scope,
                                               const std::string& id,
                                               const v1::UpdateOrderStatusRequest& request) {
  Order updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, TxFor(scope), [&](pqxx::work& tx) {
    auto rows = db::Exec(tx, "customer_get_order", scope.tenant, id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("orders/", id, " not found"));
    const std::string customer_id = CustomerId(RowToOrder(rows[0]));
    // Same lock order as Record: customer, then order.
    db::Exec(tx, "customer_lock_customer_for_order", scope.tenant, customer_id);
    Order order = RowToOrder(db::Exec(tx, "customer_lock_order", scope.tenant, id)[0]);
    bool changed = false;
    CRM_RETURN_IF_ERROR(ApplyStatusChange(request, &order, &changed));
    if (!changed) {
      updated = order;
      return absl::OkStatus();
    }
    auto out = db::Exec(tx, "customer_update_order_status", scope.tenant, id,
                        static_cast<int>(order.status()), order.refunded_minor());
    updated = RowToOrder(out[0]);
    db::Exec(tx, "customer_refresh_customer_facts", scope.tenant, customer_id);
    events::AppendEvent(tx, kSchema, scope.tenant, "order.status_changed", updated.name(), updated);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<v1::ListOrdersResponse> OrderStore::List(const server::CallScope& scope,
                                                        const v1::ListOrdersRequest& request,
                                                        const std::string& customer_id) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  // $1 tenant, $2 customer ('' for all), $3/$4 keyset, filter from $5.
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter,
                       api::CompileFilter(request.filter(), OrderFilterFields(), 5));
  const std::string fingerprint =
      absl::StrCat("orders\n", request.parent(), "\n", request.filter());
  std::vector<std::string> params = {scope.tenant, customer_id, "", ""};
  std::string keyset = "($3 = '' AND $4 = '')";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), fingerprint));
    int64_t micros = 0;
    if (key.size() != 2 || !absl::SimpleAtoi(key[0], &micros)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    params[2] = key[0];
    params[3] = key[1];
    keyset =
        "(o.order_time, o.id) < ('epoch'::timestamptz + $3::bigint * interval '1 "
        "microsecond', $4::uuid)";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const std::string sql = absl::StrCat(
      "SELECT ", kOrderColumns,
      " FROM customer.orders o WHERE o.tenant_id = $1 AND ($2 = '' OR o.customer_id = "
      "NULLIF($2, '')::uuid) AND ",
      keyset, " AND ", filter.sql, " ORDER BY o.order_time DESC, o.id DESC LIMIT ", page_size + 1);
  v1::ListOrdersResponse response;
  db::TxOptions options = TxFor(scope);
  options.read_only = true;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](pqxx::work& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "customer_list_orders", sql, params);
    const int n = std::min<int>(static_cast<int>(rows.size()), page_size);
    for (int i = 0; i < n; ++i) *response.add_orders() = RowToOrder(rows[i]);
    if (static_cast<int>(rows.size()) > page_size) {
      const auto& last = rows[n - 1];
      response.set_next_page_token(tokens_.Encode(
          {absl::StrCat(last[9].as<int64_t>()), last[0].as<std::string>()}, fingerprint));
    }
    return absl::OkStatus();
  }));
  return response;
}

std::vector<Order> LoadCustomerOrders(pqxx::work& tx, const std::string& tenant,
                                      const std::string& customer_id) {
  std::vector<Order> out;
  auto rows = tx.exec_params(absl::StrCat("SELECT ", kOrderColumns,
                                          " FROM customer.orders o WHERE o.tenant_id = $1 AND "
                                          "o.customer_id = $2::uuid ORDER BY o.order_time DESC, "
                                          "o.id DESC"),
                             tenant, customer_id);
  for (const auto& row : rows) out.push_back(RowToOrder(row));
  return out;
}

}  // namespace crm::customer
