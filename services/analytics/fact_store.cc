#include "services/analytics/fact_store.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/json.h"
#include "common/base/crypto.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "crm/customer/v1/merge.pb.h"
#include "crm/customer/v1/order.pb.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kCounts[] = "status NOT IN ('CANCELLED', 'REFUNDED')";

// Summarises the orders that count of the customers `filter` selects into
// analytics.customer_summaries (one row per tenant, currency, customer).
std::string Summarize(absl::string_view filter) {
  return absl::StrCat(
      "INSERT INTO analytics.customer_summaries (tenant_id, currency_code, customer, orders, "
      "spent_minor, first_order, last_order, purchase_days, first_day, last_day, "
      "first_day_minor) SELECT tenant_id, currency_code, customer, sum(n), sum(v), "
      "min(first_t), max(last_t), count(*), min(d), max(d), (array_agg(v ORDER BY d))[1] FROM "
      "(SELECT tenant_id, currency_code, customer, (order_time AT TIME ZONE 'UTC')::date - DATE "
      "'1970-01-01' AS d, count(*) AS n, sum(total_minor - refunded_minor) AS v, "
      "min(order_time) AS first_t, max(order_time) AS last_t FROM analytics.orders WHERE ",
      filter, " AND ", kCounts,
      " GROUP BY tenant_id, currency_code, customer, d) days GROUP BY tenant_id, currency_code, "
      "customer");
}

constexpr char kSummaryColumns[] =
    "customer, orders, spent_minor, (EXTRACT(EPOCH FROM first_order) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM last_order) * 1000000)::bigint, purchase_days, first_day, last_day, "
    "first_day_minor";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"analytics_upsert_order",
       "INSERT INTO analytics.orders (tenant_id, order_id, customer, currency_code, order_time, "
       "status, total_minor, refunded_minor, discounted) VALUES ($1, $2::uuid, $3, $4, "
       "to_timestamp($5::double precision / 1000000), $6, $7, $8, $9) ON CONFLICT (tenant_id, "
       "order_id) DO UPDATE SET customer = excluded.customer, currency_code = "
       "excluded.currency_code, order_time = excluded.order_time, status = excluded.status, "
       "total_minor = excluded.total_minor, refunded_minor = excluded.refunded_minor, discounted "
       "= excluded.discounted, update_time = now() RETURNING (xmax = 0)"},
      // A new order in currency $2.
      {"analytics_count_currency_order",
       "INSERT INTO analytics.currencies (tenant_id, currency_code, orders) VALUES ($1, $2, 1) "
       "ON CONFLICT (tenant_id, currency_code) DO UPDATE SET orders = "
       "analytics.currencies.orders + 1"},
      {"analytics_find_counted_currency",
       "SELECT currency_code FROM analytics.currencies WHERE tenant_id = $1 ORDER BY orders "
       "DESC, currency_code LIMIT 1"},
      {"analytics_get_customer_summary",
       absl::StrCat("SELECT ", kSummaryColumns,
                    " FROM analytics.customer_summaries WHERE tenant_id = $1 AND currency_code = "
                    "$2 AND customer = $3")},
      {"analytics_list_customer_summaries",
       absl::StrCat("SELECT ", kSummaryColumns,
                    " FROM analytics.customer_summaries WHERE tenant_id = $1 AND currency_code = "
                    "$2 ORDER BY customer")},
      // $2 a text array of customers.
      {"analytics_forget_summaries",
       "DELETE FROM analytics.customer_summaries WHERE tenant_id = $1 AND customer = "
       "ANY($2::text[])"},
      {"analytics_summarize_customers", Summarize("tenant_id = $1 AND customer = ANY($2::text[])")},
      {"analytics_forget_all_summaries", "DELETE FROM analytics.customer_summaries"},
      {"analytics_summarize_all", Summarize("true")},
      {"analytics_find_order_customer",
       "SELECT customer FROM analytics.orders WHERE tenant_id = $1 AND order_id = $2::uuid"},
      {"analytics_list_sample_points",
       absl::StrCat("SELECT customer, (EXTRACT(EPOCH FROM order_time) * 1000000)::bigint, "
                    "total_minor - refunded_minor FROM analytics.orders WHERE tenant_id = $1 AND "
                    "currency_code = $2 AND customer = ANY($3::text[]) AND ",
                    kCounts, " ORDER BY customer, order_time")},
      // customer.merged: $2 the merged customer, $3 the merge, $4 the survivor.
      {"analytics_record_order_moves",
       "INSERT INTO analytics.order_moves (tenant_id, merge_id, order_id, from_customer) SELECT "
       "tenant_id, $3, order_id, customer FROM analytics.orders WHERE tenant_id = $1 AND customer "
       "= $2 ON CONFLICT DO NOTHING"},
      {"analytics_move_orders",
       "UPDATE analytics.orders SET customer = $3, update_time = now() WHERE tenant_id = $1 AND "
       "customer = $2"},
      // customer.unmerged: $2 the merge, $3 the survivor.
      {"analytics_restore_orders",
       "UPDATE analytics.orders o SET customer = m.from_customer, update_time = now() FROM "
       "analytics.order_moves m WHERE m.tenant_id = $1 AND m.merge_id = $2 AND o.tenant_id = "
       "m.tenant_id AND o.order_id = m.order_id AND o.customer = $3 RETURNING o.customer"},
      {"analytics_forget_order_moves",
       "DELETE FROM analytics.order_moves WHERE tenant_id = $1 AND merge_id = $2"},
      // customer.erased: $2 the customer, $3 their pseudonym.
      {"analytics_pseudonymise_orders",
       "UPDATE analytics.orders SET customer = $3, update_time = now() WHERE tenant_id = $1 AND "
       "customer = $2"},
      {"analytics_pseudonymise_moves",
       "UPDATE analytics.order_moves SET from_customer = $3 WHERE tenant_id = $1 AND "
       "from_customer = $2"},
      {"analytics_delete_order_lines",
       "DELETE FROM analytics.order_lines WHERE tenant_id = $1 AND order_id = $2::uuid"},
      // $3.. arrays: sku, category, quantity, unit price, unit cost.
      {"analytics_insert_order_lines",
       "INSERT INTO analytics.order_lines (tenant_id, order_id, line, sku, category, quantity, "
       "unit_price_minor, unit_cost_minor) SELECT $1, $2::uuid, n, sku, category, q, p, c FROM "
       "unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) WITH "
       "ORDINALITY AS u(sku, category, q, p, c, n)"},
      {"analytics_find_last_order",
       absl::StrCat("SELECT (EXTRACT(EPOCH FROM max(order_time)) * 1000000)::bigint FROM "
                    "analytics.orders WHERE tenant_id = $1 AND currency_code = $2 AND ",
                    kCounts)},
      // The period's orders [$3, $4) (microseconds) with their lines' sums and
      // the customer's next order (over all their orders in the currency).
      {"analytics_list_priced_orders",
       absl::StrCat(
           "SELECT o.customer, (EXTRACT(EPOCH FROM o.order_time) * 1000000)::bigint, "
           "o.discounted, o.total_minor - o.refunded_minor, COALESCE(l.lines, 0) > 0, "
           "COALESCE(l.list, 0), COALESCE(l.units, 0), COALESCE(l.costs_known, false), "
           "COALESCE(l.cost, 0), (EXTRACT(EPOCH FROM o.next_time) * 1000000)::bigint FROM "
           "(SELECT order_id, customer, order_time, discounted, total_minor, refunded_minor, "
           "lead(order_time) OVER (PARTITION BY customer ORDER BY order_time) AS next_time FROM "
           "analytics.orders WHERE tenant_id = $1 AND currency_code = $2 AND ",
           kCounts,
           ") o LEFT JOIN LATERAL (SELECT count(*) AS lines, sum(quantity * unit_price_minor) "
           "AS list, sum(quantity) AS units, bool_and(unit_cost_minor > 0) AS costs_known, "
           "sum(quantity * unit_cost_minor) AS cost FROM analytics.order_lines WHERE tenant_id "
           "= $1 AND order_id = o.order_id) l ON true WHERE o.order_time >= "
           "to_timestamp($3::double precision / 1000000) AND o.order_time < "
           "to_timestamp($4::double precision / 1000000)")},
      // Per week, category and, $5 true, SKU ('' for categories): units and
      // list revenue of lines with a price.
      {"analytics_sum_weekly_sales",
       absl::StrCat(
           "SELECT l.category, CASE WHEN $5::boolean THEN l.sku ELSE '' END, sum(l.quantity), "
           "sum(l.quantity * l.unit_price_minor) FROM analytics.order_lines l JOIN "
           "analytics.orders o ON o.tenant_id = l.tenant_id AND o.order_id = l.order_id WHERE "
           "l.tenant_id = $1 AND o.currency_code = $2 AND o.",
           kCounts,
           " AND o.order_time >= to_timestamp($3::double precision / 1000000) AND o.order_time "
           "< to_timestamp($4::double precision / 1000000) AND l.unit_price_minor > 0 AND ($5 "
           "OR l.category <> '') GROUP BY 1, 2, date_trunc('week', o.order_time AT TIME ZONE "
           "'UTC')")},
      // One category's lines per order: list revenue.
      {"analytics_list_category_points",
       absl::StrCat("SELECT o.customer, (EXTRACT(EPOCH FROM o.order_time) * 1000000)::bigint, "
                    "sum(l.quantity * l.unit_price_minor)::bigint FROM analytics.order_lines l "
                    "JOIN analytics.orders o ON o.tenant_id = l.tenant_id AND o.order_id = "
                    "l.order_id WHERE l.tenant_id = $1 AND o.currency_code = $2 AND l.category "
                    "= $3 AND o.",
                    kCounts, " GROUP BY o.order_id, o.customer, o.order_time")},
      // The tenant's scores in $2 are due (ScoreStore).
      {"analytics_queue_scoring",
       "INSERT INTO analytics.score_queue (tenant_id, currency_code) VALUES ($1, $2) ON CONFLICT "
       "(tenant_id, currency_code) DO UPDATE SET version = analytics.score_queue.version + 1"},
      // ... in every currency the customers $2 (a text array) ordered in.
      {"analytics_queue_customer_scoring",
       "INSERT INTO analytics.score_queue (tenant_id, currency_code) SELECT DISTINCT tenant_id, "
       "currency_code FROM analytics.orders WHERE tenant_id = $1 AND customer = ANY($2::text[]) "
       "ON CONFLICT (tenant_id, currency_code) DO UPDATE SET version = "
       "analytics.score_queue.version + 1"},
      {"analytics_record_freshness",
       "INSERT INTO analytics.source_freshness (tenant_id, source, last_event_time, apply_time) "
       "VALUES ($1, $2, to_timestamp($3::double precision / 1000000), clock_timestamp()) ON "
       "CONFLICT (tenant_id, source) DO UPDATE SET last_event_time = GREATEST("
       "analytics.source_freshness.last_event_time, excluded.last_event_time), apply_time = "
       "excluded.apply_time"},
      {"analytics_list_freshness",
       "SELECT source, (EXTRACT(EPOCH FROM last_event_time) * 1000000)::bigint, (EXTRACT(EPOCH "
       "FROM apply_time) * 1000000)::bigint FROM analytics.source_freshness WHERE tenant_id = $1 "
       "ORDER BY source"},
      {"analytics_find_main_currency",
       "SELECT currency_code FROM analytics.orders WHERE tenant_id = $1 GROUP BY currency_code "
       "ORDER BY count(*) DESC, currency_code LIMIT 1"},
      // $3 one customer, or '' for all.
      {"analytics_list_order_points",
       absl::StrCat("SELECT customer, (EXTRACT(EPOCH FROM order_time) * 1000000)::bigint, "
                    "total_minor - refunded_minor FROM analytics.orders WHERE tenant_id = $1 AND "
                    "currency_code = $2 AND ($3 = '' OR customer = $3) AND ",
                    kCounts, " ORDER BY customer, order_time")},
      {"analytics_save_model",
       "INSERT INTO analytics.value_models (tenant_id, currency_code, model) VALUES ($1, $2, "
       "$3::jsonb) ON CONFLICT (tenant_id, currency_code) DO UPDATE SET model = excluded.model, "
       "fit_time = now()"},
      {"analytics_get_model",
       "SELECT model::text FROM analytics.value_models WHERE tenant_id = $1 AND currency_code = "
       "$2"},
  };
  return *statements;
}

absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

CustomerOrders SummaryOf(const pqxx::row& row) {
  CustomerOrders c;
  c.customer = row[0].as<std::string>();
  c.orders = row[1].as<int64_t>();
  c.spent_minor = row[2].as<int64_t>();
  c.first_order = FromMicros(row[3].as<int64_t>());
  c.last_order = FromMicros(row[4].as<int64_t>());
  c.purchase_days = row[5].as<int64_t>();
  c.first_day = row[6].as<int64_t>();
  c.last_day = row[7].as<int64_t>();
  c.first_day_minor = row[8].as<int64_t>();
  return c;
}

}  // namespace

std::string ErasedPseudonym(const std::string& tenant, const std::string& customer) {
  const std::string h = crypto::Sha256Hex(absl::StrCat(tenant, "\n", customer));
  return absl::StrCat("erased/", h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-",
                      h.substr(16, 4), "-", h.substr(20, 12));
}

FactStore::FactStore(db::Pool& pool) : pool_(pool) { pool_.Prepare(Statements()); }

absl::Status FactStore::ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  const std::string& tenant = event.tenant();
  if (event.type() == "order.recorded" || event.type() == "order.status_changed") {
    crm::customer::v1::Order order;
    if (!event.payload().UnpackTo(&order) || order.name().size() <= sizeof("orders/") - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(event.type(), " ", event.cursor(), ": payload is not an Order"));
    }
    const std::string id = order.name().substr(sizeof("orders/") - 1);
    std::vector<std::string> changed = {order.customer()};
    for (const auto& row : db::Exec(tx, "analytics_find_order_customer", tenant, id)) {
      if (row[0].as<std::string>() != order.customer()) changed.push_back(row[0].as<std::string>());
    }
    const google::protobuf::Timestamp& when =
        order.has_order_time() ? order.order_time() : order.create_time();
    const bool inserted =
        db::Exec(tx, "analytics_upsert_order", tenant, id, order.customer(), order.currency_code(),
                 TimeUtil::TimestampToMicroseconds(when), api::EnumText(order.status()),
                 order.total_minor(), order.refunded_minor(), order.discount_codes_size() > 0)[0][0]
            .as<bool>();
    if (inserted) db::Exec(tx, "analytics_count_currency_order", tenant, order.currency_code());
    Resummarize(tx, tenant, changed);
    db::Exec(tx, "analytics_queue_scoring", tenant, order.currency_code());
    db::Exec(tx, "analytics_delete_order_lines", tenant, id);
    if (order.line_items_size() > 0) {
      std::vector<std::string> sku, category, quantity, price, cost;
      for (const auto& item : order.line_items()) {
        sku.push_back(item.sku());
        category.push_back(item.category());
        quantity.push_back(absl::StrCat(item.quantity()));
        price.push_back(absl::StrCat(item.unit_price_minor()));
        cost.push_back(absl::StrCat(item.unit_cost_minor()));
      }
      db::Exec(tx, "analytics_insert_order_lines", tenant, id, db::TextArray(sku),
               db::TextArray(category), db::TextArray(quantity), db::TextArray(price),
               db::TextArray(cost));
    }
  } else if (event.type() == "customer.merged" || event.type() == "customer.unmerged") {
    crm::customer::v1::MergeRecord merge;
    if (!event.payload().UnpackTo(&merge) || merge.survivor().empty() || merge.merged().empty() ||
        merge.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(event.type(), " ", event.cursor(), ": payload is not a MergeRecord"));
    }
    std::vector<std::string> changed = {merge.merged(), merge.survivor()};
    if (event.type() == "customer.merged") {
      db::Exec(tx, "analytics_record_order_moves", tenant, merge.merged(), merge.name());
      db::Exec(tx, "analytics_move_orders", tenant, merge.merged(), merge.survivor());
    } else {
      // Back to whoever had them before (an erased customer's pseudonym).
      for (const auto& row :
           db::Exec(tx, "analytics_restore_orders", tenant, merge.name(), merge.survivor())) {
        changed.push_back(row[0].as<std::string>());
      }
      db::Exec(tx, "analytics_forget_order_moves", tenant, merge.name());
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    Resummarize(tx, tenant, changed);
    db::Exec(tx, "analytics_queue_customer_scoring", tenant,
             db::TextArray({merge.merged(), merge.survivor()}));
  } else if (event.type() == "customer.erased") {
    const std::string pseudonym = ErasedPseudonym(tenant, event.subject());
    db::Exec(tx, "analytics_pseudonymise_orders", tenant, event.subject(), pseudonym);
    db::Exec(tx, "analytics_pseudonymise_moves", tenant, event.subject(), pseudonym);
    Resummarize(tx, tenant, {event.subject(), pseudonym});
    db::Exec(tx, "analytics_queue_customer_scoring", tenant, db::TextArray({pseudonym}));
  } else if (event.type() != "customer.created") {  // ActivityStore's
    return absl::OkStatus();                        // not asked for
  }
  RecordFreshness(tx, tenant, "customer", event.create_time());
  return absl::OkStatus();
}

void FactStore::RecordFreshness(db::Tx& tx, const std::string& tenant, const std::string& source,
                                const google::protobuf::Timestamp& event_time) {
  db::Exec(tx, "analytics_record_freshness", tenant, source,
           TimeUtil::TimestampToMicroseconds(event_time));
}

absl::StatusOr<std::string> FactStore::Currency(const server::CallScope& scope,
                                                const std::string& requested) {
  if (!requested.empty()) {
    const std::string code = absl::AsciiStrToUpper(requested);
    if (code.size() != 3 || !absl::ascii_isalpha(code[0]) || !absl::ascii_isalpha(code[1]) ||
        !absl::ascii_isalpha(code[2])) {
      return absl::InvalidArgumentError("currency_code: three letters of ISO 4217, e.g. GBP");
    }
    return code;
  }
  std::string code;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "analytics_find_counted_currency", scope.tenant);
    // Orders from before the counts were kept: count them the long way.
    if (rows.empty()) rows = db::Exec(tx, "analytics_find_main_currency", scope.tenant);
    if (!rows.empty()) code = rows[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  if (code.empty()) {
    return absl::FailedPreconditionError(
        "the tenant has no orders yet (the service learns them from the customer feed)");
  }
  return code;
}

absl::StatusOr<std::vector<CustomerOrders>> FactStore::CustomersIn(const server::CallScope& scope,
                                                                   const std::string& currency) {
  std::vector<CustomerOrders> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = CustomersIn(tx, scope.tenant, currency);
    return absl::OkStatus();
  }));
  return out;
}

std::vector<CustomerOrders> FactStore::CustomersIn(db::Tx& tx, const std::string& tenant,
                                                   const std::string& currency) {
  const auto rows = db::Exec(tx, "analytics_list_customer_summaries", tenant, currency);
  std::vector<CustomerOrders> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(SummaryOf(row));
  return out;
}

void FactStore::Resummarize(db::Tx& tx, const std::string& tenant,
                            const std::vector<std::string>& customers) {
  const std::string names = db::TextArray(customers);
  db::Exec(tx, "analytics_forget_summaries", tenant, names);
  db::Exec(tx, "analytics_summarize_customers", tenant, names);
}

void FactStore::ResummarizeAll(db::Tx& tx) {
  db::Exec(tx, "analytics_forget_all_summaries");
  db::Exec(tx, "analytics_summarize_all");
}

absl::StatusOr<std::vector<OrderPoint>> FactStore::OrdersOf(
    const server::CallScope& scope, const std::string& currency,
    const std::vector<std::string>& customers) {
  std::vector<OrderPoint> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.clear();
    for (const auto& row : db::Exec(tx, "analytics_list_sample_points", scope.tenant, currency,
                                    db::TextArray(customers))) {
      out.push_back(
          {row[0].as<std::string>(), FromMicros(row[1].as<int64_t>()), row[2].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<OrderPoint>> FactStore::OrdersIn(const server::CallScope& scope,
                                                            const std::string& currency,
                                                            const std::string& customer) {
  std::vector<OrderPoint> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = OrdersIn(tx, scope.tenant, currency, customer);
    return absl::OkStatus();
  }));
  return out;
}

std::vector<OrderPoint> FactStore::OrdersIn(db::Tx& tx, const std::string& tenant,
                                            const std::string& currency,
                                            const std::string& customer) {
  std::vector<OrderPoint> out;
  for (const auto& row : db::Exec(tx, "analytics_list_order_points", tenant, currency, customer)) {
    out.push_back(
        {row[0].as<std::string>(), FromMicros(row[1].as<int64_t>()), row[2].as<int64_t>()});
  }
  return out;
}

absl::StatusOr<v1::Freshness> FactStore::Freshness(const server::CallScope& scope) {
  v1::Freshness out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = Freshness(tx, scope.tenant);
    return absl::OkStatus();
  }));
  return out;
}

v1::Freshness FactStore::Freshness(db::Tx& tx, const std::string& tenant) {
  v1::Freshness out;
  for (const auto& row : db::Exec(tx, "analytics_list_freshness", tenant)) {
    v1::SourceFreshness* s = out.add_sources();
    s->set_source(row[0].as<std::string>());
    const int64_t event = row[1].as<int64_t>();
    const int64_t applied = row[2].as<int64_t>();
    *s->mutable_last_event_time() = TimeUtil::MicrosecondsToTimestamp(event);
    *s->mutable_apply_time() = TimeUtil::MicrosecondsToTimestamp(applied);
    s->set_lag_ms(std::max<int64_t>(0, (applied - event) / 1000));
  }
  return out;
}

absl::Status FactStore::SaveModel(const server::CallScope& scope, const v1::ValueModel& model) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    db::Exec(tx, "analytics_save_model", scope.tenant, model.currency_code(), api::ToJson(model));
    db::Exec(tx, "analytics_queue_scoring", scope.tenant, model.currency_code());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<v1::ValueModel>> FactStore::Model(const server::CallScope& scope,
                                                               const std::string& currency) {
  std::optional<v1::ValueModel> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(out, Model(tx, scope.tenant, currency));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<v1::ValueModel>> FactStore::Model(db::Tx& tx,
                                                               const std::string& tenant,
                                                               const std::string& currency) {
  const auto rows = db::Exec(tx, "analytics_get_model", tenant, currency);
  if (rows.empty()) return std::optional<v1::ValueModel>();
  v1::ValueModel model;
  CRM_RETURN_IF_ERROR(api::MergeJson(rows[0][0].c_str(), &model));
  return std::optional<v1::ValueModel>(std::move(model));
}

absl::StatusOr<FactStore::Pricing> FactStore::PricingIn(const server::CallScope& scope,
                                                        const std::string& currency,
                                                        absl::Time start, absl::Time end) {
  Pricing out;
  const int64_t from = absl::ToUnixMicros(start), to = absl::ToUnixMicros(end);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out = Pricing();
    const auto last = db::Exec(tx, "analytics_find_last_order", scope.tenant, currency);
    if (!last[0][0].is_null()) out.last_order = FromMicros(last[0][0].as<int64_t>());
    for (const auto& row :
         db::Exec(tx, "analytics_list_priced_orders", scope.tenant, currency, from, to)) {
      PricedOrder o;
      o.customer = row[0].as<std::string>();
      o.time = FromMicros(row[1].as<int64_t>());
      o.discounted = row[2].as<bool>();
      o.paid_minor = row[3].as<int64_t>();
      o.has_lines = row[4].as<bool>();
      o.list_minor = row[5].as<int64_t>();
      o.units = row[6].as<int64_t>();
      o.costs_known = row[7].as<bool>();
      o.cost_minor = row[8].as<int64_t>();
      if (!row[9].is_null()) o.next_order = FromMicros(row[9].as<int64_t>());
      out.orders.push_back(std::move(o));
    }
    for (bool by_sku : {false, true}) {
      for (const auto& row :
           db::Exec(tx, "analytics_sum_weekly_sales", scope.tenant, currency, from, to, by_sku)) {
        out.weeks.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                             row[2].as<int64_t>(), row[3].as<int64_t>()});
      }
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<absl::Time> FactStore::LastOrder(const server::CallScope& scope,
                                                const std::string& currency) {
  absl::Time out = absl::InfinitePast();
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    const auto last = db::Exec(tx, "analytics_find_last_order", scope.tenant, currency);
    if (!last[0][0].is_null()) out = FromMicros(last[0][0].as<int64_t>());
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<OrderPoint>> FactStore::CategoryOrdersIn(const server::CallScope& scope,
                                                                    const std::string& currency,
                                                                    const std::string& category) {
  std::vector<OrderPoint> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.clear();
    for (const auto& row :
         db::Exec(tx, "analytics_list_category_points", scope.tenant, currency, category)) {
      out.push_back(
          {row[0].as<std::string>(), FromMicros(row[1].as<int64_t>()), row[2].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<CustomerOrders>> FactStore::CustomerIn(const server::CallScope& scope,
                                                                    const std::string& currency,
                                                                    const std::string& customer) {
  std::optional<CustomerOrders> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.reset();
    const auto rows =
        db::Exec(tx, "analytics_get_customer_summary", scope.tenant, currency, customer);
    if (!rows.empty()) out = SummaryOf(rows[0]);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::analytics
