#include "services/analytics/snapshot_rebuild.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/enum_text.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/consumer.h"
#include "common/server/call.h"
#include "services/analytics/activity_store.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {
namespace {

namespace cv1 = crm::customer::v1;
using google::protobuf::util::TimeUtil;

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // Every tenant's customer facts (housekeeping: across tenants); the
      // old rows stay visible to reports until the rebuild commits.
      {"analytics_clear_order_lines", "DELETE FROM analytics.order_lines"},
      {"analytics_clear_order_moves", "DELETE FROM analytics.order_moves"},
      {"analytics_clear_orders", "DELETE FROM analytics.orders"},
      {"analytics_clear_customers", "DELETE FROM analytics.customers"},
      // (customer_summaries: FactStore::ResummarizeAll)
      {"analytics_clear_currencies", "DELETE FROM analytics.currencies"},
      // $1 the tenant; arrays of names and creation times (microseconds).
      {"analytics_load_customers",
       "INSERT INTO analytics.customers (tenant_id, customer, create_time) SELECT $1, c, "
       "to_timestamp(t::double precision / 1000000) FROM unnest($2::text[], $3::bigint[]) AS "
       "u(c, t) ON CONFLICT DO NOTHING"},
      {"analytics_load_orders",
       "INSERT INTO analytics.orders (tenant_id, order_id, customer, currency_code, order_time, "
       "status, total_minor, refunded_minor, discounted) SELECT $1, id::uuid, c, cur, "
       "to_timestamp(t::double precision / 1000000), st, tot, ref, dis FROM unnest($2::text[], "
       "$3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], "
       "$9::boolean[]) AS u(id, c, cur, t, st, tot, ref, dis)"},
      {"analytics_load_order_lines",
       "INSERT INTO analytics.order_lines (tenant_id, order_id, line, sku, category, quantity, "
       "unit_price_minor, unit_cost_minor) SELECT $1, id::uuid, n, sku, cat, q, p, c FROM "
       "unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], "
       "$8::bigint[]) AS u(id, n, sku, cat, q, p, c)"},
      {"analytics_load_order_moves",
       "INSERT INTO analytics.order_moves (tenant_id, merge_id, order_id, from_customer) SELECT "
       "$1, m, o::uuid, f FROM unnest($2::text[], $3::text[], $4::text[]) AS u(m, o, f) ON "
       "CONFLICT DO NOTHING"},
      {"analytics_count_currencies",
       "INSERT INTO analytics.currencies (tenant_id, currency_code, orders) SELECT tenant_id, "
       "currency_code, count(*) FROM analytics.orders GROUP BY tenant_id, currency_code"},
      // Every tenant and currency is due for scoring; every dashboard for a
      // fresh snapshot.
      {"analytics_queue_all_scoring",
       "INSERT INTO analytics.score_queue (tenant_id, currency_code) SELECT tenant_id, "
       "currency_code FROM analytics.currencies ON CONFLICT (tenant_id, currency_code) DO UPDATE "
       "SET version = analytics.score_queue.version + 1"},
      {"analytics_notify_all_kpis",
       absl::StrCat("SELECT pg_notify('", kKpiChannel,
                    "', tenant_id) FROM (SELECT DISTINCT tenant_id FROM analytics.currencies) t")},
  };
  return *statements;
}

std::string Bare(const std::string& name, size_t prefix) {
  return name.size() > prefix ? name.substr(prefix) : name;
}

// One message of the export into the facts, in `tx`. `erased` collects the
// tenant's erased customers (they come before the orders and moves).
void Load(db::Tx& tx, const cv1::ExportOrdersResponse& message,
          std::set<std::pair<std::string, std::string>>& erased) {
  const std::string& tenant = message.tenant();
  const auto customer_of = [&](const std::string& name) {
    return erased.count({tenant, name}) > 0 ? ErasedPseudonym(tenant, name) : name;
  };
  if (message.customers_size() > 0) {
    std::vector<std::string> names, times;
    for (const cv1::ExportedCustomer& c : message.customers()) {
      if (c.erased()) erased.insert({tenant, c.name()});
      names.push_back(customer_of(c.name()));
      times.push_back(absl::StrCat(TimeUtil::TimestampToMicroseconds(c.create_time())));
    }
    db::Exec(tx, "analytics_load_customers", tenant, db::TextArray(names), db::TextArray(times));
  }
  if (message.orders_size() > 0) {
    std::vector<std::string> ids, customers, currencies, times, statuses, totals, refunds,
        discounted;
    std::vector<std::string> line_ids, line_numbers, skus, categories, quantities, prices, costs;
    for (const cv1::Order& order : message.orders()) {
      const std::string id = Bare(order.name(), sizeof("orders/") - 1);
      ids.push_back(id);
      customers.push_back(customer_of(order.customer()));
      currencies.push_back(order.currency_code());
      times.push_back(absl::StrCat(TimeUtil::TimestampToMicroseconds(
          order.has_order_time() ? order.order_time() : order.create_time())));
      statuses.push_back(std::string(api::EnumText(order.status())));
      totals.push_back(absl::StrCat(order.total_minor()));
      refunds.push_back(absl::StrCat(order.refunded_minor()));
      discounted.push_back(order.discount_codes_size() > 0 ? "true" : "false");
      for (int i = 0; i < order.line_items_size(); ++i) {
        const cv1::LineItem& item = order.line_items(i);
        line_ids.push_back(id);
        line_numbers.push_back(absl::StrCat(i + 1));
        skus.push_back(item.sku());
        categories.push_back(item.category());
        quantities.push_back(absl::StrCat(item.quantity()));
        prices.push_back(absl::StrCat(item.unit_price_minor()));
        costs.push_back(absl::StrCat(item.unit_cost_minor()));
      }
    }
    db::Exec(tx, "analytics_load_orders", tenant, db::TextArray(ids), db::TextArray(customers),
             db::TextArray(currencies), db::TextArray(times), db::TextArray(statuses),
             db::TextArray(totals), db::TextArray(refunds), db::TextArray(discounted));
    if (!line_ids.empty()) {
      db::Exec(tx, "analytics_load_order_lines", tenant, db::TextArray(line_ids),
               db::TextArray(line_numbers), db::TextArray(skus), db::TextArray(categories),
               db::TextArray(quantities), db::TextArray(prices), db::TextArray(costs));
    }
  }
  if (message.order_moves_size() > 0) {
    std::vector<std::string> merges, orders, from;
    for (const cv1::OrderMove& move : message.order_moves()) {
      merges.push_back(move.merge());
      orders.push_back(Bare(move.order(), sizeof("orders/") - 1));
      from.push_back(customer_of(move.from_customer()));
    }
    db::Exec(tx, "analytics_load_order_moves", tenant, db::TextArray(merges), db::TextArray(orders),
             db::TextArray(from));
  }
}

}  // namespace

SnapshotRebuild::SnapshotRebuild(
    db::Pool& pool, std::shared_ptr<crm::customer::v1::CustomerService::StubInterface> customers)
    : pool_(pool), customers_(std::move(customers)) {
  pool_.Prepare(Statements());
}

absl::Status SnapshotRebuild::Run() {
  grpc::ClientContext ctx;
  ctx.AddMetadata(server::kAllTenantsHeader, "1");
  ctx.AddMetadata(server::kActorHeader, "analytics");
  const absl::Time deadline = absl::Now() + absl::Hours(1);
  ctx.set_deadline(absl::ToChronoTime(deadline));
  auto reader = customers_->ExportOrders(&ctx, cv1::ExportOrdersRequest());
  int64_t orders = 0, customers = 0;
  bool finished = false;
  db::TxOptions options = db::HousekeepingTx(deadline - absl::Now());
  options.max_attempts = 1;  // the stream cannot be read twice
  const absl::Status loaded = db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    cv1::ExportOrdersResponse message;
    if (!reader->Read(&message)) {
      finished = true;
      const grpc::Status status = reader->Finish();
      return status.ok() ? absl::UnavailableError("ExportOrders ended without a message")
                         : FromGrpcStatus(status);
    }
    const std::string cursor = message.feed_cursor();
    if (cursor.empty()) {
      return absl::InternalError("ExportOrders: the first message has no feed_cursor");
    }
    for (const char* table : {"order_lines", "order_moves", "orders", "customers", "currencies"}) {
      db::Exec(tx, absl::StrCat("analytics_clear_", table));
    }
    std::set<std::pair<std::string, std::string>> erased;
    do {
      const bool records =
          message.customers_size() + message.orders_size() + message.order_moves_size() > 0;
      if (records && !server::IsValidTenant(message.tenant())) {
        return absl::InternalError("ExportOrders: a message with records names no valid tenant");
      }
      customers += message.customers_size();
      orders += message.orders_size();
      Load(tx, message, erased);
      message.Clear();
    } while (reader->Read(&message));
    finished = true;
    CRM_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
    FactStore::ResummarizeAll(tx);
    db::Exec(tx, "analytics_count_currencies");
    db::Exec(tx, "analytics_queue_all_scoring");
    db::Exec(tx, "analytics_notify_all_kpis");
    // The consumer's row is the all-tenants one.
    tx.exec_params("SELECT set_config('app.tenant_id', $1, true)",
                   std::string(server::kAllTenants));
    events::StoreCursor(tx, kSchema, server::kAllTenants, kOrdersConsumer, cursor);
    return absl::OkStatus();
  });
  if (!loaded.ok()) {
    if (!finished) {
      ctx.TryCancel();
      reader->Finish();
    }
    return loaded;
  }
  log::Info("customer facts rebuilt from a snapshot",
            {{"customers", absl::StrCat(customers)}, {"orders", absl::StrCat(orders)}});
  return absl::OkStatus();
}

}  // namespace crm::analytics
