#include "services/customer/order_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/filter.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/server/import_errors.h"
#include "common/server/snapshot_export.h"
#include "services/customer/customer_rows.h"
#include "services/customer/customer_store.h"
#include "services/customer/identity_domain.h"
#include "services/customer/identity_store.h"
#include "services/customer/order_domain.h"

namespace crm::customer {

using google::protobuf::util::TimeUtil;
using v1::Order;

namespace {

constexpr char kOrderColumns[] =
    "o.id::text, o.customer_id::text, o.order_id, o.status, o.currency_code, o.total_minor, "
    "o.refunded_minor, o.details::text, COALESCE(o.sales_channel, ''), "
    "(EXTRACT(EPOCH FROM o.order_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM o.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM o.update_time) * 1000000)::bigint, o.request_hash";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_export_customers",
       absl::StrCat("SELECT tenant_id, id::text, (EXTRACT(EPOCH FROM create_time) * "
                    "1000000)::bigint, erase_time IS NOT NULL FROM customer.customers WHERE ",
                    server::kExportAfter)},
      {"customer_export_orders",
       absl::StrCat("SELECT ", kOrderColumns, ", o.tenant_id FROM customer.orders o WHERE ",
                    server::kExportAfter)},
      // Merges an unmerge could still undo, with the orders each moved.
      {"customer_export_order_moves",
       absl::StrCat("SELECT tenant_id, id::text, merged_id::text, COALESCE((SELECT "
                    "string_agg(value, ',' ORDER BY value) FROM jsonb_array_elements_text(moved "
                    "-> 'orders')), '') FROM customer.merges WHERE unmerge_time IS NULL AND "
                    "expire_time > now() AND ",
                    server::kExportAfter)},
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
      // A chunk of ImportOrders, one array per column: new order ids are
      // recorded; known ones take the imported status, amounts and lines.
      {"customer_import_orders",
       "WITH o AS (INSERT INTO customer.orders AS x (tenant_id, customer_id, order_id, status, "
       "currency_code, total_minor, refunded_minor, details, sales_channel, order_time, "
       "request_hash) SELECT $1, u.customer_id, u.order_id, u.status, u.currency_code, "
       "u.total_minor, u.refunded_minor, u.details::jsonb, NULLIF(u.sales_channel, ''), "
       "'epoch'::timestamptz + u.micros * interval '1 microsecond', u.request_hash FROM "
       "unnest($2::uuid[], $3::text[], $4::smallint[], $5::text[], $6::bigint[], $7::bigint[], "
       "$8::text[], $9::text[], $10::bigint[], $11::text[]) AS u(customer_id, order_id, status, "
       "currency_code, total_minor, refunded_minor, details, sales_channel, micros, "
       "request_hash) ON CONFLICT (tenant_id, order_id) DO UPDATE SET status = "
       "EXCLUDED.status, refunded_minor = EXCLUDED.refunded_minor, total_minor = "
       "EXCLUDED.total_minor, details = EXCLUDED.details, update_time = now() WHERE "
       "x.customer_id = EXCLUDED.customer_id AND (x.status, x.refunded_minor, x.total_minor, "
       "x.details) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.refunded_minor, "
       "EXCLUDED.total_minor, EXCLUDED.details) RETURNING *, (xmax = 0) AS inserted) "
       "SELECT o.id::text, o.customer_id::text, o.order_id, o.status, o.currency_code, "
       "o.total_minor, o.refunded_minor, NULL, COALESCE(o.sales_channel, ''), (EXTRACT(EPOCH FROM "
       "o.order_time) * 1000000)::bigint, (EXTRACT(EPOCH FROM o.create_time) * "
       "1000000)::bigint, (EXTRACT(EPOCH FROM o.update_time) * 1000000)::bigint, o.inserted "
       "FROM o"},
      // Adds new orders to the facts of their customers without reading the
      // customers' other orders ($2.. arrays: customer, count, net money,
      // currency, first and last order time). A customer whose money would
      // move to another currency (the new orders are older than its first)
      // is left out, and is not returned: the caller recomputes it.
      {"customer_add_to_facts",
       "UPDATE customer.customers c SET order_count = c.order_count + d.n, total_spent_minor = "
       "c.total_spent_minor + CASE WHEN COALESCE(c.facts_currency, d.currency) = d.currency "
       "THEN d.spent ELSE 0 END, orders_in_currency = c.orders_in_currency + CASE WHEN "
       "COALESCE(c.facts_currency, d.currency) = d.currency THEN d.n ELSE 0 END, "
       "facts_currency = COALESCE(c.facts_currency, d.currency), first_order_time = "
       "LEAST(c.first_order_time, d.first_time), last_order_time = GREATEST(c.last_order_time, "
       "d.last_time), last_seen_time = GREATEST(c.last_seen_time, d.last_time) FROM (SELECT "
       "u.id, u.n, u.spent, u.currency, 'epoch'::timestamptz + u.first_us * interval '1 "
       "microsecond' AS first_time, 'epoch'::timestamptz + u.last_us * interval '1 "
       "microsecond' AS last_time FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], "
       "$5::text[], $6::bigint[], $7::bigint[]) AS u(id, n, spent, currency, first_us, "
       "last_us)) d WHERE c.tenant_id = $1 AND c.id = d.id AND (c.facts_currency IS NULL OR "
       "c.first_order_time < d.first_time OR (c.facts_currency = d.currency AND "
       "c.first_order_time <= d.first_time)) RETURNING c.id::text"},
      // Facts of the customers in $2 (an array) from their orders; cancelled
      // orders count for nothing, money is summed in the first order's currency.
  };
  return *statements;
}

// An order row of the statements above; the lines come from `lines` when
// the caller has them (an import, which need not parse back what it wrote),
// else from the stored details.
Order RowToOrder(const pqxx::row& row, const Order* lines = nullptr) {
  Order o;
  o.set_name(absl::StrCat("orders/", row[0].as<std::string>()));
  o.set_customer(absl::StrCat("customers/", row[1].as<std::string>()));
  o.set_order_id(row[2].as<std::string>());
  o.set_status(static_cast<v1::OrderStatus>(row[3].as<int>()));
  o.set_currency_code(row[4].as<std::string>());
  o.set_total_minor(row[5].as<int64_t>());
  o.set_refunded_minor(row[6].as<int64_t>());
  Order details;
  if (lines == nullptr) {
    ReadStoredJson(row[7].c_str(), &details);
    lines = &details;
  }
  *o.mutable_line_items() = lines->line_items();
  *o.mutable_discount_codes() = lines->discount_codes();
  o.set_sales_channel(row[8].as<std::string>());
  *o.mutable_order_time() = TimeUtil::MicrosecondsToTimestamp(row[9].as<int64_t>());
  *o.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[10].as<int64_t>());
  *o.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[11].as<int64_t>());
  return o;
}

std::string CustomerId(const Order& o) {
  constexpr size_t kPrefix = sizeof("customers/") - 1;
  return o.customer().size() > kPrefix ? o.customer().substr(kPrefix) : "";
}

// "no customer" naming the identifier the way the caller gave it.
std::string NoCustomer(const v1::Identity& identity) {
  if (identity.kind() == v1::IDENTITY_KIND_EXTERNAL_ID && identity.source() == kShopSource) {
    return absl::StrCat("order.customer_external_id: no customer '", identity.value(), "'");
  }
  return absl::StrCat("order.customer_identity: no customer with ",
                      v1::IdentityKind_Name(identity.kind()), " '", identity.value(), "'");
}

// What new orders add to their customers' facts.
class FactsDelta {
 public:
  void Add(const std::string& customer, const Order& o) {
    if (o.status() == v1::ORDER_STATUS_CANCELLED) return;  // counts for nothing
    Entry& e = entries_[customer];
    const int64_t micros = TimeUtil::TimestampToMicroseconds(o.order_time());
    if (e.n == 0) {
      e.currency = o.currency_code();
      e.first = e.last = micros;
    } else if (e.currency != o.currency_code()) {
      e.mixed = true;
    }
    e.n += 1;
    e.spent += o.total_minor() - o.refunded_minor();
    e.first = std::min(e.first, micros);
    e.last = std::max(e.last, micros);
  }

  // Applies the deltas; returns the customers that need a recompute.
  std::set<std::string> Apply(db::Tx& tx, const std::string& tenant,
                              const std::set<std::string>& skip) const {
    std::vector<std::string> ids, counts, spent, currencies, firsts, lasts;
    std::set<std::string> recompute;
    for (const auto& [id, e] : entries_) {
      if (skip.count(id) > 0) continue;
      if (e.mixed) {
        recompute.insert(id);
        continue;
      }
      ids.push_back(id);
      counts.push_back(absl::StrCat(e.n));
      spent.push_back(absl::StrCat(e.spent));
      currencies.push_back(e.currency);
      firsts.push_back(absl::StrCat(e.first));
      lasts.push_back(absl::StrCat(e.last));
    }
    if (ids.empty()) return recompute;
    std::set<std::string> done;
    for (const auto& row :
         db::Exec(tx, "customer_add_to_facts", tenant, db::TextArray(ids), db::TextArray(counts),
                  db::TextArray(spent), db::TextArray(currencies), db::TextArray(firsts),
                  db::TextArray(lasts))) {
      done.insert(row[0].as<std::string>());
    }
    for (const auto& id : ids) {
      if (done.count(id) == 0) recompute.insert(id);
    }
    return recompute;
  }

 private:
  struct Entry {
    int64_t n = 0, spent = 0, first = 0, last = 0;
    std::string currency;
    bool mixed = false;
  };
  std::map<std::string, Entry> entries_;
};

// Brings the facts of the customers of a chunk up to date: new orders are
// added, customers with changed orders (and the exceptions) recomputed.
void ApplyFacts(db::Tx& tx, const std::string& tenant, const FactsDelta& delta,
                std::set<std::string> recompute) {
  std::set<std::string> more = delta.Apply(tx, tenant, recompute);
  recompute.insert(more.begin(), more.end());
  if (recompute.empty()) return;
  db::Exec(tx, "customer_refresh_customer_facts", tenant,
           absl::StrCat("{", absl::StrJoin(recompute, ","), "}"));
}

}  // namespace

OrderStore::OrderStore(db::Pool& pool, api::PageTokenCodec tokens)
    : pool_(pool), tokens_(std::move(tokens)) {
  pool_.Prepare(SharedStatements());
  pool_.Prepare(Statements());
}

absl::StatusOr<Order> OrderStore::Record(const server::CallScope& scope, const Order& order,
                                         const std::string& request_hash) {
  Order recorded;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    std::string customer_id = CustomerId(order);
    if (customer_id.empty()) {
      auto found = ResolveIdentities(tx, scope.tenant, {order.customer_identity()});
      if (found.empty()) return absl::NotFoundError(NoCustomer(order.customer_identity()));
      customer_id = found.begin()->second;
    }
    // A known order id: the same content is a retry, different content a conflict.
    auto replay = [&](const pqxx::result& rows) -> absl::Status {
      if (rows.empty()) return absl::InternalError("order vanished");
      if (rows[0][12].as<std::string>() != request_hash) {
        return absl::AlreadyExistsError(
            "order.order_id: already recorded with different content; use UpdateOrderStatus");
      }
      recorded = RowToOrder(rows[0]);
      return absl::OkStatus();
    };
    auto existing = db::Exec(tx, "customer_get_order_by_order_id", scope.tenant, order.order_id());
    if (!existing.empty()) return replay(existing);
    // Locks the customer: facts of one customer are refreshed one order at a time.
    auto customer = db::Exec(tx, "customer_lock_customer_for_order", scope.tenant, customer_id);
    if (customer.empty()) {
      return absl::NotFoundError(absl::StrCat("customers/", customer_id, " not found"));
    }
    if (customer[0][0].as<bool>()) {
      return absl::FailedPreconditionError(absl::StrCat("customers/", customer_id, " is deleted"));
    }
    pqxx::result rows;
    try {
      pqxx::subtransaction insert(tx, "insert_order");
      rows = db::Exec(insert, "customer_insert_order", scope.tenant, customer_id, order.order_id(),
                      static_cast<int>(order.status()), order.currency_code(), order.total_minor(),
                      order.refunded_minor(), OrderDetailsJson(order), order.sales_channel(),
                      TimeUtil::TimestampToMicroseconds(order.order_time()), request_hash);
      insert.commit();
    } catch (const pqxx::unique_violation&) {
      // A concurrent retry recorded it first.
      return replay(db::Exec(tx, "customer_get_order_by_order_id", scope.tenant, order.order_id()));
    }
    recorded = RowToOrder(rows[0]);
    db::Exec(tx, "customer_refresh_customer_facts", scope.tenant,
             absl::StrCat("{", customer_id, "}"));
    events::AppendEvent(tx, kSchema, scope.tenant, "order.recorded", recorded.name(), recorded);
    return absl::OkStatus();
  }));
  return recorded;
}

absl::StatusOr<Order> OrderStore::Get(const server::CallScope& scope, const std::string& id) {
  Order found;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
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
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
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
    db::Exec(tx, "customer_refresh_customer_facts", scope.tenant,
             absl::StrCat("{", customer_id, "}"));
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
  const std::string sql =
      absl::StrCat("SELECT ", kOrderColumns,
                   " FROM customer.orders o WHERE o.tenant_id = $1 AND ($2 = '' OR o.customer_id = "
                   "NULLIF($2, '')::uuid) AND ",
                   keyset, " AND ", filter.sql, " ORDER BY o.order_time DESC, o.id DESC LIMIT ",
                   db::PageLimit(page_size));
  v1::ListOrdersResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "customer_list_orders", sql, params);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) { *response.add_orders() = RowToOrder(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{absl::StrCat(last[9].as<int64_t>()),
                                          last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

std::vector<Order> LoadCustomerOrders(db::Tx& tx, const std::string& tenant,
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

absl::Status OrderStore::ImportBatch(const server::CallScope& scope,
                                     const std::vector<Order>& orders,
                                     const std::vector<int64_t>& rows,
                                     const std::vector<std::string>& hashes,
                                     v1::ImportOrdersResponse* summary) {
  if (orders.empty()) return absl::OkStatus();
  const int base_errors = summary->errors_size();
  const int64_t base_failed = summary->failed();
  int64_t created = 0, updated = 0, unchanged = 0;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    created = updated = unchanged = 0;
    while (summary->errors_size() > base_errors) summary->mutable_errors()->RemoveLast();
    summary->set_failed(base_failed);
    auto fail = [&](size_t i, const std::string& reason) {
      server::RecordImportError(summary, rows[i], reason);
    };
    // Resolve every customer of the chunk in two statements.
    std::vector<v1::Identity> identities;
    std::vector<std::string> uuids;
    for (const auto& o : orders) {
      if (CustomerId(o).empty()) {
        identities.push_back(o.customer_identity());
      } else {
        uuids.push_back(CustomerId(o));
      }
    }
    const auto by_identity = ResolveIdentities(tx, scope.tenant, identities);
    std::set<std::string> live;
    if (!uuids.empty()) {
      for (const auto& row : db::Exec(tx, "customer_find_live_customer_ids", scope.tenant,
                                      absl::StrCat("{", absl::StrJoin(uuids, ","), "}"))) {
        live.insert(row[0].as<std::string>());
      }
    }
    std::map<std::string, size_t> last;  // order_id → last row of the chunk
    std::vector<std::string> customer_of(orders.size());
    for (size_t i = 0; i < orders.size(); ++i) {
      const Order& o = orders[i];
      std::string id = CustomerId(o);
      if (id.empty()) {
        auto it = by_identity.find(IdentityKey(o.customer_identity()));
        if (it == by_identity.end()) {
          fail(i, NoCustomer(o.customer_identity()));
          continue;
        }
        id = it->second;
      } else if (live.count(id) == 0) {
        fail(i, absl::StrCat("order.customer: ", o.customer(), " not found or deleted"));
        continue;
      }
      customer_of[i] = id;
      last[o.order_id()] = i;
    }
    // The kept rows as one array per column: a fixed, prepared statement
    // whatever the chunk size.
    std::vector<std::string> customer_ids, order_ids, statuses, currencies, totals, refunds,
        details, channels, times, request_hashes;
    std::map<std::string, size_t> row_of;  // order_id → index into `orders`
    for (size_t i = 0; i < orders.size(); ++i) {
      if (customer_of[i].empty()) continue;
      if (last[orders[i].order_id()] != i) {
        ++unchanged;  // superseded by a later row of the same order in this chunk
        continue;
      }
      const Order& o = orders[i];
      customer_ids.push_back(customer_of[i]);
      order_ids.push_back(o.order_id());
      statuses.push_back(absl::StrCat(static_cast<int>(o.status())));
      currencies.push_back(o.currency_code());
      totals.push_back(absl::StrCat(o.total_minor()));
      refunds.push_back(absl::StrCat(o.refunded_minor()));
      details.push_back(OrderDetailsJson(o));
      channels.push_back(o.sales_channel());
      times.push_back(absl::StrCat(TimeUtil::TimestampToMicroseconds(o.order_time())));
      request_hashes.push_back(hashes[i]);
      row_of[o.order_id()] = i;
    }
    if (order_ids.empty()) return absl::OkStatus();
    auto result =
        db::Exec(tx, "customer_import_orders", scope.tenant, db::TextArray(customer_ids),
                 db::TextArray(order_ids), db::TextArray(statuses), db::TextArray(currencies),
                 db::TextArray(totals), db::TextArray(refunds), db::TextArray(details),
                 db::TextArray(channels), db::TextArray(times), db::TextArray(request_hashes));
    // The stored orders: the database's columns, the input's lines.
    std::vector<Order> written;
    written.reserve(result.size());
    std::vector<events::PendingEvent> pending;
    FactsDelta delta;
    std::set<std::string> recompute;
    for (const auto& row : result) {
      Order o = RowToOrder(row, &orders[row_of.at(row[2].as<std::string>())]);
      const bool inserted = row[12].as<bool>();
      (inserted ? created : updated) += 1;
      if (inserted) {
        delta.Add(row[1].as<std::string>(), o);
      } else {
        recompute.insert(row[1].as<std::string>());
      }
      written.push_back(std::move(o));
    }
    for (size_t i = 0; i < written.size(); ++i) {
      pending.push_back({result[i][12].as<bool>() ? "order.recorded" : "order.status_changed",
                         written[i].name(), &written[i]});
    }
    unchanged += static_cast<int64_t>(order_ids.size() - written.size());
    ApplyFacts(tx, scope.tenant, delta, recompute);
    events::AppendEvents(tx, kSchema, scope.tenant, pending);
    return absl::OkStatus();
  }));
  summary->set_created(summary->created() + created);
  summary->set_updated(summary->updated() + updated);
  summary->set_unchanged(summary->unchanged() + unchanged);
  return absl::OkStatus();
}

absl::Status OrderStore::Export(const server::CallScope& scope, int batch,
                                const std::function<bool(const v1::ExportOrdersResponse&)>& emit) {
  using Message = v1::ExportOrdersResponse;
  return server::ExportSnapshot<Message>(
      pool_, scope, batch, emit, [](server::SnapshotPager<Message>& pager) {
        pager.PageThrough(
            "customer_export_customers",
            [](const pqxx::row& row, Message& message) {
              v1::ExportedCustomer* c = message.add_customers();
              c->set_name(absl::StrCat("customers/", row[1].as<std::string>()));
              *c->mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[2].as<int64_t>());
              c->set_erased(row[3].as<bool>());
            },
            0, 1);
        pager.PageThrough(
            "customer_export_orders",
            [](const pqxx::row& row, Message& message) { *message.add_orders() = RowToOrder(row); },
            13, 0);
        pager.PageThrough(
            "customer_export_order_moves",
            [](const pqxx::row& row, Message& message) {
              const std::string merge = absl::StrCat("merges/", row[1].as<std::string>());
              const std::string from = absl::StrCat("customers/", row[2].as<std::string>());
              for (const std::string& order : db::SplitJoined(row[3].as<std::string>())) {
                v1::OrderMove* move = message.add_order_moves();
                move->set_merge(merge);
                move->set_order(absl::StrCat("orders/", order));
                move->set_from_customer(from);
              }
            },
            0, 1);
      });
}

}  // namespace crm::customer
