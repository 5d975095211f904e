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
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/snapshot_load.h"
#include "services/analytics/activity_store.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {
namespace {

namespace cv1 = crm::customer::v1;
namespace tv1 = crm::ticketing::v1;
namespace iv1 = crm::interaction::v1;
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
      {"analytics_clear_tickets", "DELETE FROM analytics.tickets"},
      {"analytics_clear_sla_outcomes", "DELETE FROM analytics.sla_outcomes"},
      {"analytics_clear_sla_breaches", "DELETE FROM analytics.sla_breaches"},
      {"analytics_clear_messages", "DELETE FROM analytics.messages"},
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
      // Every dashboard of a tenant with facts from $1 ('orders', 'tickets'
      // or 'messages') wants a fresh snapshot.
      {"analytics_notify_all_kpis",
       absl::StrCat("SELECT pg_notify('", kKpiChannel,
                    "', tenant_id) FROM (SELECT DISTINCT tenant_id FROM analytics.currencies WHERE "
                    "$1 = 'orders' UNION SELECT DISTINCT tenant_id FROM analytics.tickets WHERE $1 "
                    "= 'tickets' UNION SELECT DISTINCT tenant_id FROM analytics.messages WHERE $1 "
                    "= 'messages') t")},
  };
  return *statements;
}

std::string Bare(const std::string& name, size_t prefix) {
  return name.size() > prefix ? name.substr(prefix) : name;
}

// A load of a snapshot into this service's facts, moving `consumer`'s
// cursor.
template <typename Response>
events::SnapshotLoad<Response> LoadInto(const char* consumer) {
  events::SnapshotLoad<Response> load;
  load.schema = kSchema;
  load.consumer = consumer;
  load.actor = "analytics";
  return load;
}

// One message of ExportOrders into the facts, in `tx`. `erased` collects
// the tenant's erased customers (they come before the orders and moves).
void LoadOrders(db::Tx& tx, const cv1::ExportOrdersResponse& message,
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

SnapshotRebuild::SnapshotRebuild(db::Pool& pool, ActivityStore& activity)
    : pool_(pool), activity_(activity) {
  pool_.Prepare(Statements());
}

absl::Status SnapshotRebuild::Orders(cv1::CustomerService::StubInterface& customers) {
  std::set<std::pair<std::string, std::string>> erased;
  int64_t orders = 0, people = 0;
  auto load = LoadInto<cv1::ExportOrdersResponse>(kOrdersConsumer);
  load.open = [&customers](grpc::ClientContext* ctx) {
    return customers.ExportOrders(ctx, cv1::ExportOrdersRequest());
  };
  load.clear = [&erased](db::Tx& tx) {
    erased.clear();
    for (const char* table : {"order_lines", "order_moves", "orders", "customers", "currencies"}) {
      db::Exec(tx, absl::StrCat("analytics_clear_", table));
    }
  };
  load.load = [&](db::Tx& tx, const cv1::ExportOrdersResponse& message) {
    people += message.customers_size();
    orders += message.orders_size();
    LoadOrders(tx, message, erased);
    return absl::OkStatus();
  };
  load.finish = [](db::Tx& tx) {
    FactStore::ResummarizeAll(tx);
    db::Exec(tx, "analytics_count_currencies");
    db::Exec(tx, "analytics_queue_all_scoring");
    db::Exec(tx, "analytics_notify_all_kpis", "orders");
  };
  CRM_RETURN_IF_ERROR(events::LoadSnapshot(pool_, load).status());
  log::Info("customer facts rebuilt from a snapshot",
            {{"customers", absl::StrCat(people)}, {"orders", absl::StrCat(orders)}});
  return absl::OkStatus();
}

absl::Status SnapshotRebuild::Support(tv1::TicketService::StubInterface& tickets) {
  int64_t ticket_count = 0, outcomes = 0;
  auto load = LoadInto<tv1::ExportTicketsResponse>(kSupportConsumer);
  load.open = [&tickets](grpc::ClientContext* ctx) {
    return tickets.ExportTickets(ctx, tv1::ExportTicketsRequest());
  };
  load.clear = [](db::Tx& tx) {
    for (const char* table : {"sla_breaches", "sla_outcomes", "tickets"}) {
      db::Exec(tx, absl::StrCat("analytics_clear_", table));
    }
  };
  load.load = [&](db::Tx& tx, const tv1::ExportTicketsResponse& message) {
    for (const tv1::Ticket& ticket : message.tickets()) {
      if (api::LastSegment(ticket.name()).empty()) {
        return absl::InternalError("ExportTickets: a ticket without a name");
      }
      activity_.LoadTicket(tx, message.tenant(), ticket);
    }
    for (const tv1::SlaOutcome& outcome : message.sla_outcomes()) {
      activity_.LoadSlaOutcome(tx, message.tenant(), outcome);
    }
    ticket_count += message.tickets_size();
    outcomes += message.sla_outcomes_size();
    return absl::OkStatus();
  };
  load.finish = [](db::Tx& tx) { db::Exec(tx, "analytics_notify_all_kpis", "tickets"); };
  CRM_RETURN_IF_ERROR(events::LoadSnapshot(pool_, load).status());
  log::Info("support facts rebuilt from a snapshot",
            {{"tickets", absl::StrCat(ticket_count)}, {"sla_outcomes", absl::StrCat(outcomes)}});
  return absl::OkStatus();
}

absl::Status SnapshotRebuild::Engagement(iv1::ConversationService::StubInterface& conversations) {
  int64_t messages = 0, unsubscribes = 0;
  auto load = LoadInto<iv1::ExportMessagesResponse>(kEngagementConsumer);
  load.open = [&conversations](grpc::ClientContext* ctx) {
    return conversations.ExportMessages(ctx, iv1::ExportMessagesRequest());
  };
  load.clear = [](db::Tx& tx) { db::Exec(tx, "analytics_clear_messages"); };
  load.load = [&](db::Tx& tx, const iv1::ExportMessagesResponse& message) {
    for (const iv1::Message& m : message.messages()) {
      if (api::LastSegment(m.name()).empty() || !m.has_create_time()) {
        return absl::InternalError("ExportMessages: a message without a name or create_time");
      }
      activity_.LoadMessage(tx, message.tenant(), m);
    }
    for (const iv1::Unsubscribe& u : message.unsubscribes()) {
      if (api::LastSegment(u.message()).empty()) {
        return absl::InternalError("ExportMessages: an unsubscribe without its message");
      }
      activity_.LoadUnsubscribe(tx, message.tenant(), u);
    }
    messages += message.messages_size();
    unsubscribes += message.unsubscribes_size();
    return absl::OkStatus();
  };
  load.finish = [](db::Tx& tx) { db::Exec(tx, "analytics_notify_all_kpis", "messages"); };
  CRM_RETURN_IF_ERROR(events::LoadSnapshot(pool_, load).status());
  log::Info("engagement facts rebuilt from a snapshot",
            {{"messages", absl::StrCat(messages)}, {"unsubscribes", absl::StrCat(unsubscribes)}});
  return absl::OkStatus();
}

}  // namespace crm::analytics
