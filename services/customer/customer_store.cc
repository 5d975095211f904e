#include "services/customer/customer_store.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api/filter.h"
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/page.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/customer/customer_domain.h"
#include "services/customer/customer_rows.h"
#include "services/customer/order_store.h"

namespace crm::customer {

using crm::customer::v1::Customer;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using google::protobuf::util::TimeUtil;

namespace {

constexpr char kConsentColumns[] =
    "channel, purpose, status, source, text_version, "
    "(EXTRACT(EPOCH FROM consent_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM record_time) * 1000000)::bigint, id";

// Every named statement of the customer store, prepared on each connection.
const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_insert_customer",
       absl::StrCat("WITH c AS (INSERT INTO customer.customers (tenant_id, external_id, email, "
                    "phone, given_name, family_name, locale, country, tags, attributes, addresses, "
                    "demographics, preferences) "
                    "VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, "
                    "''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), $9::text[], "
                    "COALESCE(($10::jsonb)->'attributes', '{}'), "
                    "COALESCE(($10::jsonb)->'addresses', '[]'), "
                    "COALESCE(($10::jsonb)->'demographics', '{}'), "
                    "COALESCE(($10::jsonb)->'preferences', '{}')) RETURNING *) SELECT ",
                    kCustomerColumns, " FROM c")},
      {"customer_update_customer",
       absl::StrCat("WITH c AS (UPDATE customer.customers SET email = NULLIF($3, ''), phone = "
                    "NULLIF($4, ''), given_name = NULLIF($5, ''), family_name = NULLIF($6, "
                    "''), locale = NULLIF($7, ''), country = NULLIF($8, ''), tags = "
                    "$9::text[], attributes = COALESCE(($10::jsonb)->'attributes', '{}'), "
                    "addresses = COALESCE(($10::jsonb)->'addresses', '[]'), "
                    "demographics = COALESCE(($10::jsonb)->'demographics', '{}'), "
                    "preferences = COALESCE(($10::jsonb)->'preferences', '{}'), "
                    "update_time = now(), version = version + 1 WHERE tenant_id = $1 AND id = "
                    "$2::uuid RETURNING *) SELECT ",
                    kCustomerColumns, " FROM c")},
      {"customer_delete_customer",
       absl::StrCat("WITH c AS (UPDATE customer.customers SET delete_time = now(), "
                    "update_time = now(), version = version + 1 WHERE tenant_id = $1 AND id = "
                    "$2::uuid RETURNING *) SELECT ",
                    kCustomerColumns, " FROM c")},
      {"customer_erase_customer",
       absl::StrCat("WITH c AS (UPDATE customer.customers SET external_id = NULL, email = NULL, "
                    "phone = NULL, given_name = NULL, family_name = NULL, locale = NULL, "
                    "attributes = '{}', addresses = '[]', demographics = '{}', preferences = "
                    "'{}', erase_time = now(), delete_time = COALESCE(delete_time, now()), "
                    "update_time = now(), version = version + 1 WHERE tenant_id = $1 AND id = "
                    "$2::uuid RETURNING *) SELECT ",
                    kCustomerColumns, " FROM c")},
      {"customer_list_merged_into",
       "WITH RECURSIVE m AS (SELECT id FROM customer.customers WHERE tenant_id = $1 AND "
       "merged_into = $2::uuid UNION SELECT c.id FROM customer.customers c JOIN m ON "
       "c.merged_into = m.id WHERE c.tenant_id = $1) SELECT id::text FROM m"},
      {"customer_erase_identities",
       "DELETE FROM customer.identities WHERE tenant_id = $1 AND customer_id = $2::uuid"},
      {"customer_erase_merges",
       "DELETE FROM customer.merges WHERE tenant_id = $1 AND (survivor_id = $2::uuid OR "
       "merged_id = $2::uuid)"},
      {"customer_erase_duplicate_pairs",
       "DELETE FROM customer.duplicate_scans WHERE tenant_id = $1 AND (customer_a = $2::uuid OR "
       "customer_b = $2::uuid)"},
      {"customer_erase_behavior_events",
       "DELETE FROM customer.behavior_events WHERE tenant_id = $1 AND customer_id = $2::uuid"},
      {"customer_list_behavior_events",
       "SELECT event_id, type, COALESCE(custom_name, ''), (EXTRACT(EPOCH FROM event_time) * "
       "1000000)::bigint, jsonb_build_object('properties', properties)::text FROM "
       "customer.behavior_events WHERE tenant_id = $1 AND customer_id = $2::uuid ORDER BY "
       "event_time DESC"},
      {"customer_erase_order_details",
       // Each code becomes "[erased]": the order still counts as discounted.
       "UPDATE customer.orders SET details = jsonb_set(details, '{discountCodes}', (SELECT "
       "jsonb_agg('[erased]'::text) FROM jsonb_array_elements(details -> 'discountCodes'))), "
       "update_time = now() WHERE tenant_id = $1 AND customer_id = $2::uuid AND "
       "jsonb_array_length(COALESCE(details -> 'discountCodes', '[]')) > 0"},
      {"customer_redact_audit_entries",
       "UPDATE customer.audit_log SET changes = (SELECT COALESCE(jsonb_agg(jsonb_set(jsonb_set("
       "e, '{oldValue}', '\"[erased]\"', false), '{newValue}', '\"[erased]\"', false)), "
       "'[]') FROM jsonb_array_elements(changes) e) WHERE tenant_id = $1 AND customer_id = "
       "$2::uuid"},
      {"customer_delete_idempotent_responses",
       "DELETE FROM customer.idempotency_keys WHERE tenant_id = $1 AND position(convert_to($2, "
       "'UTF8') in response) > 0"},
      {"customer_redact_outbox_payloads",
       "UPDATE customer.outbox SET payload = $3 WHERE tenant_id = $1 AND subject = $2"},
      {"customer_list_audit_entries",
       "SELECT id, action, actor, request_id, jsonb_build_object('changes', changes)::text, "
       "(EXTRACT(EPOCH FROM change_time) * 1000000)::bigint FROM customer.audit_log WHERE "
       "tenant_id = $1 AND customer_id = $2::uuid AND ($3 = 0 OR id < $3) ORDER BY id DESC "
       "LIMIT $4"},
      {"customer_insert_consent_record",
       absl::StrCat("INSERT INTO customer.consent_records (tenant_id, customer_id, channel, "
                    "purpose, status, source, text_version, consent_time) VALUES ($1, $2::uuid, "
                    "$3, $4, $5, $6, $7, 'epoch'::timestamptz + $8::bigint * interval '1 "
                    "microsecond') RETURNING ",
                    kConsentColumns)},
      {"customer_list_current_consents",
       absl::StrCat("SELECT DISTINCT ON (channel, purpose) ", kConsentColumns,
                    " FROM customer.consent_records WHERE tenant_id = $1 AND customer_id = "
                    "$2::uuid ORDER BY channel, purpose, consent_time DESC, id DESC")},
      {"customer_get_current_consent",
       absl::StrCat("SELECT ", kConsentColumns,
                    " FROM customer.consent_records WHERE tenant_id = $1 AND customer_id = "
                    "$2::uuid AND channel = $3 AND purpose = $4 ORDER BY consent_time DESC, id "
                    "DESC LIMIT 1")},
      {"customer_list_consent_history",
       absl::StrCat("SELECT ", kConsentColumns,
                    " FROM customer.consent_records WHERE tenant_id = $1 AND customer_id = "
                    "$2::uuid AND ($3 = '' OR (consent_time, id) < ('epoch'::timestamptz + "
                    "$4::bigint * interval '1 microsecond', $5::bigint)) ORDER BY consent_time "
                    "DESC, id DESC LIMIT $6")},
  };
  return *statements;
}

}  // namespace

CustomerStore::CustomerStore(db::Pool& pool, db::Reader& reader, api::PageTokenCodec tokens)
    : pool_(pool), reader_(reader), tokens_(std::move(tokens)), idempotency_(pool, kSchema) {
  pool_.Prepare(SharedStatements());
  pool_.Prepare(Statements());
}

absl::StatusOr<Customer> CustomerStore::Create(const server::CallScope& scope, Customer customer,
                                               const std::string& request_id,
                                               const std::string& request_hash) {
  Customer created;
  absl::Status status = db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "CreateCustomer",
                                                            request_id, request_hash, &created));
    if (replayed) return absl::OkStatus();
    pqxx::result rows;
    try {
      pqxx::subtransaction insert(tx, "insert_customer");
      rows = db::Exec(insert, "customer_insert_customer", scope.tenant, customer.external_id(),
                      customer.email(), customer.phone(), customer.given_name(),
                      customer.family_name(), customer.locale(), customer.country(),
                      TagsLiteral(customer), DetailsJson(customer));
      insert.commit();
    } catch (const pqxx::unique_violation&) {
      return absl::AlreadyExistsError(
          absl::StrCat("customer.external_id: a customer with this external_id already exists"));
    }
    created = RowToCustomer(rows[0]);
    idempotency_.Store(tx, scope.tenant, "CreateCustomer", request_id, request_hash, created);
    AppendAudit(tx, scope, IdOf(created), "created", DiffCustomers(Customer(), created));
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.created", created.name(), created);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

void CustomerStore::Get(const server::CallScope& scope, const std::string& id,
                        std::function<void(absl::StatusOr<Customer>)> done) {
  reader_.Read(
      server::TxFor(scope), "customer_get_customer",
      [id, done = std::move(done)](absl::StatusOr<db::Rows> rows) {
        if (!rows.ok()) return done(rows.status());
        if (rows->empty()) return done(NotFound(id));
        done(RowToCustomer((*rows)[0]));
      },
      scope.tenant, id);
}

absl::StatusOr<Customer> CustomerStore::Update(const server::CallScope& scope,
                                               const std::string& id, const Customer& patch,
                                               const google::protobuf::FieldMask& mask,
                                               const std::string& etag) {
  Customer updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "customer_lock_customer", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    Customer current = RowToCustomer(rows[0]);
    if (current.has_delete_time()) {
      return absl::FailedPreconditionError(absl::StrCat(current.name(), " is deleted"));
    }
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "customer"));
    Customer next = current;
    CRM_RETURN_IF_ERROR(ApplyUpdateMask(patch, mask, &next));
    NormalizeCustomer(&next);
    CRM_RETURN_IF_ERROR(ValidateCustomer(next, "customer"));
    auto out = db::Exec(tx, "customer_update_customer", scope.tenant, id, next.email(),
                        next.phone(), next.given_name(), next.family_name(), next.locale(),
                        next.country(), TagsLiteral(next), DetailsJson(next));
    updated = RowToCustomer(out[0]);
    AppendAudit(tx, scope, id, "updated", DiffCustomers(current, updated));
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.updated", updated.name(), updated);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<Customer> CustomerStore::Delete(const server::CallScope& scope,
                                               const std::string& id, const std::string& etag) {
  Customer deleted;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "customer_lock_customer", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    Customer current = RowToCustomer(rows[0]);
    if (current.has_delete_time()) return NotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, current.etag(), "customer"));
    auto out = db::Exec(tx, "customer_delete_customer", scope.tenant, id);
    deleted = RowToCustomer(out[0]);
    AppendAudit(tx, scope, id, "deleted", DiffCustomers(current, deleted));
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.deleted", deleted.name(), deleted);
    return absl::OkStatus();
  }));
  return deleted;
}

absl::StatusOr<ListCustomersResponse> CustomerStore::List(const server::CallScope& scope,
                                                          const ListCustomersRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  bool desc = false;
  if (request.order_by().empty() || request.order_by() == "create_time" ||
      request.order_by() == "create_time asc") {
    desc = false;
  } else if (request.order_by() == "create_time desc") {
    desc = true;
  } else {
    return absl::InvalidArgumentError("order_by: must be 'create_time' or 'create_time desc'");
  }
  // $1 tenant, $2/$3 keyset position (optional), filter params from $4.
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter,
                       api::CompileFilter(request.filter(), CustomerFilterFields(), 4));
  const std::string fingerprint = absl::StrCat(request.filter(), "\n", request.order_by());
  std::vector<std::string> params = {scope.tenant, "", ""};
  std::string keyset = "TRUE";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), fingerprint));
    int64_t micros = 0;
    if (key.size() != 2 || !absl::SimpleAtoi(key[0], &micros)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    params[1] = key[0];
    params[2] = key[1];
    keyset = absl::StrCat("(c.create_time, c.id) ", desc ? "<" : ">",
                          " ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', "
                          "$3::uuid)");
  } else {
    keyset = "($2 = '' AND $3 = '')";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const char* dir = desc ? "DESC" : "ASC";
  const std::string sql = absl::StrCat(
      "SELECT ", kCustomerColumns,
      " FROM customer.customers c WHERE c.tenant_id = $1 AND c.delete_time IS NULL AND ", keyset,
      " AND ", filter.sql, " ORDER BY c.create_time ", dir, ", c.id ", dir, " LIMIT ",
      db::PageLimit(page_size));
  ListCustomersResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "customer_list_customers", sql, params);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) { *response.add_customers() = RowToCustomer(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{absl::StrCat(last[10].as<int64_t>()),
                                          last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::Status CustomerStore::ImportBatch(const server::CallScope& scope,
                                        const std::vector<Customer>& customers,
                                        const std::vector<int64_t>& rows,
                                        v1::ImportCustomersResponse* summary) {
  if (customers.empty()) return absl::OkStatus();
  // Within one statement a key may appear once: the last row for an
  // external_id wins, the earlier ones count as updates of it.
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < customers.size(); ++i) last[customers[i].external_id()] = i;
  std::vector<std::string> params = {scope.tenant};
  std::vector<std::string> values;
  int64_t superseded = 0;
  for (size_t i = 0; i < customers.size(); ++i) {
    if (last[customers[i].external_id()] != i) {
      ++superseded;
      continue;
    }
    const Customer& c = customers[i];
    const size_t p = params.size();
    values.push_back(absl::StrCat(
        "($1, $", p + 1, ", NULLIF($", p + 2, ", ''), NULLIF($", p + 3, ", ''), NULLIF($", p + 4,
        ", ''), NULLIF($", p + 5, ", ''), NULLIF($", p + 6, ", ''), NULLIF($", p + 7, ", ''), $",
        p + 8, "::text[], COALESCE(($", p + 9, "::jsonb)->'attributes', '{}'), COALESCE(($", p + 9,
        "::jsonb)->'addresses', '[]'), COALESCE(($", p + 9,
        "::jsonb)->'demographics', '{}'), COALESCE(($", p + 9, "::jsonb)->'preferences', '{}'))"));
    for (const std::string* v : {&c.external_id(), &c.email(), &c.phone(), &c.given_name(),
                                 &c.family_name(), &c.locale(), &c.country()}) {
      params.push_back(*v);
    }
    params.push_back(TagsLiteral(c));
    params.push_back(DetailsJson(c));
  }
  const std::string sql = absl::StrCat(
      "WITH c AS (INSERT INTO customer.customers (tenant_id, external_id, email, phone, "
      "given_name, family_name, locale, country, tags, attributes, addresses, demographics, "
      "preferences) VALUES ",
      absl::StrJoin(values, ", "),
      " ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL AND delete_time IS "
      "NULL DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, given_name = "
      "EXCLUDED.given_name, family_name = EXCLUDED.family_name, locale = EXCLUDED.locale, "
      "country = EXCLUDED.country, tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, "
      "addresses = EXCLUDED.addresses, demographics = EXCLUDED.demographics, preferences = "
      "EXCLUDED.preferences, update_time = now(), version = customers.version + 1 "
      "RETURNING *, (xmax = 0) AS inserted) SELECT ",
      kCustomerColumns, ", c.inserted FROM c");
  int64_t created = 0, updated = 0;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    created = updated = 0;
    auto result = db::ExecDynamic(tx, "customer_import_customers", sql, params);
    std::vector<Customer> written;
    written.reserve(result.size());
    for (const auto& row : result) {
      written.push_back(RowToCustomer(row));
      (row[kCustomerColumnCount].as<bool>() ? created : updated) += 1;
    }
    std::vector<events::PendingEvent> pending;
    std::vector<std::string> ids;
    for (size_t i = 0; i < written.size(); ++i) {
      const bool inserted = result[i][kCustomerColumnCount].as<bool>();
      pending.push_back(
          {inserted ? "customer.created" : "customer.updated", written[i].name(), &written[i]});
      ids.push_back(IdOf(written[i]));
    }
    events::AppendEvents(tx, kSchema, scope.tenant, pending);
    AppendAudits(tx, scope, ids, "imported", {});
    return absl::OkStatus();
  }));
  summary->set_created(summary->created() + created);
  summary->set_updated(summary->updated() + updated + superseded);
  (void)rows;
  return absl::OkStatus();
}

absl::StatusOr<v1::SearchCustomersResponse> CustomerStore::Search(
    const server::CallScope& scope, const v1::SearchCustomersRequest& request) {
  const std::string query(absl::StripAsciiWhitespace(request.query()));
  if (query.empty()) return absl::InvalidArgumentError("query: required");
  CRM_RETURN_IF_ERROR(api::CheckText("query", query, 200));
  CRM_ASSIGN_OR_RETURN(int page_size, api::EffectivePageSize(request.page_size(), 20, 100));
  // $1 tenant, $2 the query, $3/$4 keyset position, $5.. the query's words
  // (lower-cased letters and digits). Every condition compares a stored
  // lower-cased column with a leakproof operator, so an index answers it
  // under row-level security (migration 0012).
  std::vector<std::string> params = {scope.tenant, query, "", ""};
  std::vector<std::string> word_matches, whole_words;
  std::string word;
  for (char ch : query + " ") {
    if (absl::ascii_isalnum(static_cast<unsigned char>(ch))) {
      word += absl::ascii_tolower(static_cast<unsigned char>(ch));
    } else if (!word.empty()) {
      params.push_back(word);
      const std::string p = absl::StrCat("$", params.size());
      // A word starts the given name, the family name or the e-mail.
      word_matches.push_back(absl::StrCat("(starts_with(c.given_name_norm, ", p,
                                          ") OR starts_with(c.family_name_norm, ", p,
                                          ") OR starts_with(c.email_norm, ", p, "))"));
      whole_words.push_back(
          absl::StrCat("(c.given_name_norm = ", p, " OR c.family_name_norm = ", p, ")::int"));
      word.clear();
    }
  }
  if (word_matches.size() > 8) {
    return absl::InvalidArgumentError("query: at most 8 words");
  }
  const std::string exact = "(c.email_norm = lower($2) OR c.phone = $2 OR c.external_id = $2)";
  const std::string email_prefix = "starts_with(c.email_norm, lower($2))";
  const std::string words_match =
      word_matches.empty() ? "FALSE" : absl::StrCat("(", absl::StrJoin(word_matches, " AND "), ")");
  // Exact identifiers first, then e-mail prefixes, then name matches, more
  // for each word that is a whole name.
  const std::string rank =
      absl::StrCat("(CASE WHEN ", exact, " THEN 2 WHEN ", email_prefix, " THEN 1.5 ",
                   whole_words.empty()
                       ? "ELSE 1"
                       : absl::StrCat("ELSE round(1 + 0.4 * (", absl::StrJoin(whole_words, " + "),
                                      ")::numeric / ", whole_words.size(), ", 6)"),
                   " END)::numeric");
  const std::string fingerprint = absl::StrCat("search\n", query);
  std::string keyset = "($3 = '' AND $4 = '')";
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), fingerprint));
    if (key.size() != 2) return absl::InvalidArgumentError("page_token: invalid token");
    params[2] = key[0];
    params[3] = key[1];
    keyset = absl::StrCat("(", rank, " < $3::numeric OR (", rank,
                          " = $3::numeric AND c.id > $4::uuid))");
  }
  const std::string sql = absl::StrCat(
      "SELECT ", kCustomerColumns, ", ", rank,
      "::text FROM customer.customers c WHERE c.tenant_id = $1 AND c.delete_time IS NULL AND (",
      exact, " OR ", email_prefix, " OR ", words_match, ") AND ", keyset, " ORDER BY ", rank,
      " DESC, c.id LIMIT ", db::PageLimit(page_size));
  v1::SearchCustomersResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "customer_search_customers", sql, params);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) { *response.add_customers() = RowToCustomer(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[kCustomerColumnCount].as<std::string>(),
                                          last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace crm::customer
