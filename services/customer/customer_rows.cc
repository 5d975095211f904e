#include "services/customer/customer_rows.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "services/customer/customer_domain.h"

namespace crm::customer {

using crm::customer::v1::Customer;
using google::protobuf::util::TimeUtil;

// Columns every read returns, in the order RowToCustomer expects.
const char kCustomerColumns[] =
    "c.id::text, COALESCE(c.external_id, ''), COALESCE(c.email, ''), "
    "COALESCE(c.phone, ''), COALESCE(c.given_name, ''), COALESCE(c.family_name, ''), "
    "COALESCE(c.locale, ''), COALESCE(c.country, ''), array_to_string(c.tags, ','), "
    "jsonb_build_object('attributes', c.attributes, 'addresses', c.addresses, "
    "'demographics', c.demographics, 'preferences', c.preferences, 'identities', "
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object('kind', i.kind, 'source', i.source, "
    "'value', i.value, 'createTime', to_char(i.create_time AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) ORDER BY i.kind, i.source, i.value), '[]') "
    "FROM customer.identities i WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id))::text, "
    "(EXTRACT(EPOCH FROM c.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM c.update_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM c.delete_time) * 1000000)::bigint, c.version, "
    "(EXTRACT(EPOCH FROM c.first_order_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM c.last_order_time) * 1000000)::bigint, c.order_count, "
    "c.total_spent_minor, c.orders_in_currency, COALESCE(c.facts_currency, ''), "
    "(EXTRACT(EPOCH FROM c.last_seen_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM c.erase_time) * 1000000)::bigint, COALESCE(c.merged_into::text, '')";

const std::map<std::string, std::string>& SharedStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_get_customer",
       absl::StrCat("SELECT ", kCustomerColumns,
                    " FROM customer.customers c WHERE c.tenant_id = $1 AND c.id = $2::uuid")},
      {"customer_get_customers",
       absl::StrCat("SELECT ", kCustomerColumns,
                    " FROM customer.customers c WHERE c.tenant_id = $1 AND c.id = "
                    "ANY($2::uuid[])")},
      {"customer_lock_customer",
       absl::StrCat("SELECT ", kCustomerColumns,
                    " FROM customer.customers c WHERE c.tenant_id = $1 AND c.id = $2::uuid "
                    "FOR UPDATE")},
      {"customer_insert_audit_entries",
       "INSERT INTO customer.audit_log (tenant_id, customer_id, action, actor, request_id, "
       "changes) SELECT $1, u.id, $2, $3, $4, COALESCE((u.entry::jsonb)->'changes', '[]') FROM "
       "unnest($5::uuid[], $6::text[]) AS u(id, entry)"},
      {"customer_refresh_customer_facts",
       "WITH o AS (SELECT customer_id, order_time, currency_code, total_minor - refunded_minor "
       "AS net, id FROM customer.orders WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) "
       "AND status <> 4), "
       "cur AS (SELECT DISTINCT ON (customer_id) customer_id, currency_code FROM o ORDER BY "
       "customer_id, order_time, id), "
       "agg AS (SELECT o.customer_id, min(o.order_time) AS first_time, max(o.order_time) AS "
       "last_time, count(*) AS n, COALESCE(sum(o.net) FILTER (WHERE o.currency_code = "
       "cur.currency_code), 0)::bigint AS spent, count(*) FILTER (WHERE o.currency_code = "
       "cur.currency_code) AS n_cur, cur.currency_code FROM o JOIN cur USING (customer_id) "
       "GROUP BY o.customer_id, cur.currency_code), "
       "ids AS (SELECT DISTINCT unnest($2::uuid[]) AS id) "
       "UPDATE customer.customers c SET first_order_time = agg.first_time, last_order_time = "
       "agg.last_time, order_count = COALESCE(agg.n, 0), total_spent_minor = "
       "COALESCE(agg.spent, 0), orders_in_currency = COALESCE(agg.n_cur, 0), facts_currency = "
       "agg.currency_code, last_seen_time = GREATEST(c.last_seen_time, agg.last_time) FROM ids "
       "LEFT JOIN agg ON agg.customer_id = ids.id WHERE c.tenant_id = $1 AND c.id = ids.id"},
      {"customer_find_live_customer_ids",
       "SELECT id::text FROM customer.customers WHERE tenant_id = $1 AND id = ANY($2::uuid[]) "
       "AND delete_time IS NULL"},
  };
  return *statements;
}

std::string TagsLiteral(const Customer& c) {
  // Tags are validated to [a-z0-9_.:-], so no quoting is needed.
  return absl::StrCat("{", absl::StrJoin(c.tags(), ","), "}");
}

// The JSON-stored parts of a customer, as one object for one parameter.
std::string DetailsJson(const Customer& c) {
  Customer only;
  *only.mutable_attributes() = c.attributes();
  *only.mutable_addresses() = c.addresses();
  if (c.has_demographics()) *only.mutable_demographics() = c.demographics();
  if (c.has_preferences()) *only.mutable_preferences() = c.preferences();
  std::string json;
  google::protobuf::util::MessageToJsonString(only, &json);
  return json;
}

void ReadStoredJson(const char* json, google::protobuf::Message* message) {
  const absl::Status parsed = api::MergeJson(json, message);
  if (!parsed.ok()) {
    log::Error("stored JSON unreadable",
               {{"type", message->GetTypeName()}, {"error", std::string(parsed.message())}});
  }
}

v1::Consent RowToConsent(const pqxx::row& row) {
  v1::Consent c;
  c.set_channel(static_cast<v1::ConsentChannel>(row[0].as<int>()));
  c.set_purpose(static_cast<v1::ConsentPurpose>(row[1].as<int>()));
  c.set_status(static_cast<v1::ConsentStatus>(row[2].as<int>()));
  c.set_source(row[3].as<std::string>());
  c.set_text_version(row[4].as<std::string>());
  *c.mutable_consent_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  *c.mutable_record_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
  return c;
}

namespace {

template <typename Row>
Customer CustomerFromRow(const Row& row) {
  const auto text = [&row](int i) { return std::string(row[i].c_str()); };
  const auto null = [&row](int i) { return row[i].is_null(); };
  const auto number = [&row](int i) {
    int64_t value = 0;
    return absl::SimpleAtoi(row[i].c_str(), &value) ? value : 0;
  };
  Customer c;
  c.set_name(absl::StrCat("customers/", text(0)));
  c.set_external_id(text(1));
  c.set_email(text(2));
  c.set_phone(text(3));
  c.set_given_name(text(4));
  c.set_family_name(text(5));
  c.set_locale(text(6));
  c.set_country(text(7));
  const std::string tags = text(8);
  if (!tags.empty()) {
    for (absl::string_view t : absl::StrSplit(tags, ',')) c.add_tags(std::string(t));
  }
  Customer details;
  ReadStoredJson(row[9].c_str(), &details);
  *c.mutable_attributes() = details.attributes();
  *c.mutable_addresses() = details.addresses();
  *c.mutable_identities() = details.identities();
  // Empty objects stay unset, so an untouched customer has no such field.
  if (details.demographics().ByteSizeLong() > 0) {
    *c.mutable_demographics() = details.demographics();
  }
  if (details.preferences().ByteSizeLong() > 0) {
    *c.mutable_preferences() = details.preferences();
  }
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(number(10));
  *c.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(number(11));
  if (!null(12)) {
    *c.mutable_delete_time() = TimeUtil::MicrosecondsToTimestamp(number(12));
  }
  c.set_etag(api::EtagOf(number(13)));
  if (!null(21)) {
    *c.mutable_erase_time() = TimeUtil::MicrosecondsToTimestamp(number(21));
  }
  if (!null(20)) {
    auto* f = c.mutable_facts();
    if (!null(14)) {
      *f->mutable_first_order_time() = TimeUtil::MicrosecondsToTimestamp(number(14));
      *f->mutable_last_order_time() = TimeUtil::MicrosecondsToTimestamp(number(15));
    }
    f->set_order_count(number(16));
    f->set_total_spent_minor(number(17));
    const int64_t in_currency = number(18);
    f->set_average_order_value_minor(in_currency > 0 ? f->total_spent_minor() / in_currency : 0);
    f->set_currency_code(text(19));
    *f->mutable_last_seen_time() = TimeUtil::MicrosecondsToTimestamp(number(20));
  }
  const std::string merged_into = text(22);
  if (!merged_into.empty()) c.set_merged_into(absl::StrCat("customers/", merged_into));
  return c;
}

}  // namespace

Customer RowToCustomer(const pqxx::row& row) { return CustomerFromRow(row); }
Customer RowToCustomer(const db::Row& row) { return CustomerFromRow(row); }

// One audit entry for a change of customer `id` in the same transaction.
void AppendAudits(db::Tx& tx, const server::CallScope& scope, const std::vector<std::string>& ids,
                  const std::string& action,
                  const std::vector<std::vector<v1::FieldChange>>& changes) {
  if (ids.empty()) return;
  std::vector<std::string> entries;
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::HistoryEntry entry;
    if (i < changes.size()) {
      for (const auto& c : changes[i]) *entry.add_changes() = c;
    }
    std::string json;
    google::protobuf::util::MessageToJsonString(entry, &json);
    entries.push_back(std::move(json));
  }
  db::Exec(tx, "customer_insert_audit_entries", scope.tenant, action,
           scope.actor.empty() ? std::string("service") : scope.actor, scope.request_id,
           db::TextArray(ids), db::TextArray(entries));
}

void AppendAudit(db::Tx& tx, const server::CallScope& scope, const std::string& id,
                 const std::string& action, const std::vector<v1::FieldChange>& changes) {
  AppendAudits(tx, scope, {id}, action, {changes});
}

std::string IdOf(const Customer& c) { return c.name().substr(std::string("customers/").size()); }

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("customers/", id, " not found"));
}

}  // namespace crm::customer
