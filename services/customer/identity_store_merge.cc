// Merges, unmerges and duplicate candidates of the identity store.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/customer/customer_domain.h"
#include "services/customer/customer_rows.h"
#include "services/customer/customer_store.h"
#include "services/customer/identity_domain.h"
#include "services/customer/identity_store.h"
#include "services/customer/identity_tx.h"

namespace crm::customer {

using google::protobuf::util::TimeUtil;
using v1::Customer;
using v1::Identity;

namespace identity_tx {

const std::map<std::string, std::string>& MergeStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_move_identities",
       "UPDATE customer.identities SET customer_id = $3::uuid WHERE tenant_id = $1 AND "
       "customer_id = $2::uuid RETURNING kind, source, value"},
      {"customer_move_orders",
       "UPDATE customer.orders SET customer_id = $3::uuid, update_time = now() WHERE tenant_id "
       "= $1 AND customer_id = $2::uuid RETURNING id::text"},
      {"customer_move_events",
       "UPDATE customer.behavior_events SET customer_id = $3::uuid WHERE tenant_id = $1 AND "
       "customer_id = $2::uuid RETURNING event_id"},
      {"customer_move_consents",
       "UPDATE customer.consent_records SET customer_id = $3::uuid WHERE tenant_id = $1 AND "
       "customer_id = $2::uuid RETURNING id"},
      // Moves back what a merge moved: $3 the merge's `moved` JSON.
      {"customer_return_orders",
       "UPDATE customer.orders SET customer_id = $2::uuid, update_time = now() WHERE tenant_id "
       "= $1 AND id = ANY(ARRAY(SELECT jsonb_array_elements_text(($3::jsonb) -> "
       "'orders'))::uuid[])"},
      {"customer_return_events",
       "UPDATE customer.behavior_events SET customer_id = $2::uuid WHERE tenant_id = $1 AND "
       "event_id = ANY(ARRAY(SELECT jsonb_array_elements_text(($3::jsonb) -> 'events')))"},
      {"customer_return_consents",
       "UPDATE customer.consent_records SET customer_id = $2::uuid WHERE tenant_id = $1 AND "
       "customer_id = $4::uuid AND id = ANY(ARRAY(SELECT jsonb_array_elements_text(($3::jsonb) "
       "-> 'consents'))::bigint[])"},
      {"customer_write_profile",
       absl::StrCat("WITH c AS (UPDATE customer.customers SET external_id = NULLIF($3, ''), "
                    "email = NULLIF($4, ''), phone = NULLIF($5, ''), given_name = NULLIF($6, "
                    "''), family_name = NULLIF($7, ''), locale = NULLIF($8, ''), country = "
                    "NULLIF($9, ''), tags = $10::text[], attributes = "
                    "COALESCE(($11::jsonb)->'attributes', '{}'), addresses = "
                    "COALESCE(($11::jsonb)->'addresses', '[]'), demographics = "
                    "COALESCE(($11::jsonb)->'demographics', '{}'), preferences = "
                    "COALESCE(($11::jsonb)->'preferences', '{}'), update_time = now(), version = "
                    "version + 1 WHERE tenant_id = $1 AND id = $2::uuid RETURNING *) SELECT ",
                    kCustomerColumns, " FROM c")},
      {"customer_mark_merged",
       "UPDATE customer.customers SET merged_into = $3::uuid, delete_time = now(), update_time "
       "= now(), version = version + 1 WHERE tenant_id = $1 AND id = $2::uuid"},
      {"customer_unmark_merged",
       "UPDATE customer.customers SET merged_into = NULL, delete_time = NULL, update_time = "
       "now(), version = version + 1 WHERE tenant_id = $1 AND id = $2::uuid"},
      {"customer_carry_last_seen",
       "UPDATE customer.customers s SET last_seen_time = GREATEST(s.last_seen_time, "
       "m.last_seen_time) FROM customer.customers m WHERE s.tenant_id = $1 AND s.id = $2::uuid "
       "AND m.tenant_id = $1 AND m.id = $3::uuid"},
      {"customer_insert_merge",
       "INSERT INTO customer.merges (tenant_id, survivor_id, merged_id, survivor_before, "
       "merged_before, survivor_after, moved, expire_time) VALUES ($1, $2::uuid, $3::uuid, $4, "
       "$5, $6, $7::jsonb, now() + interval '30 days') RETURNING id::text, (EXTRACT(EPOCH FROM "
       "merge_time) * 1000000)::bigint, (EXTRACT(EPOCH FROM expire_time) * 1000000)::bigint"},
      {"customer_lock_merge",
       "SELECT survivor_id::text, merged_id::text, survivor_before, merged_before, "
       "survivor_after, moved::text, (EXTRACT(EPOCH FROM merge_time) * 1000000)::bigint, "
       "(EXTRACT(EPOCH FROM expire_time) * 1000000)::bigint, expire_time > now(), unmerge_time "
       "IS NOT NULL FROM customer.merges WHERE tenant_id = $1 AND id = $2::uuid FOR UPDATE"},
      {"customer_finish_unmerge",
       "UPDATE customer.merges SET unmerge_time = now() WHERE tenant_id = $1 AND id = $2::uuid"},
      {"customer_drop_old_scans",
       "DELETE FROM customer.duplicate_scans WHERE tenant_id = $1 AND create_time < now() - "
       "interval '1 hour'"},
      {"customer_new_scan_id", "SELECT gen_random_uuid()::text"},
      // The duplicate scan (docs/api.md): customers sharing an e-mail or a
      // phone (own or identity) in groups of 2 to 50; names compared by
      // trigram similarity only within a block of one postal code and family
      // initial (2 to 200 customers). Larger groups are placeholders
      // ("noreply@…"), not one person, and are skipped.
      {"customer_scan_duplicates",
       "INSERT INTO customer.duplicate_scans (tenant_id, scan_id, customer_a, customer_b, "
       "score, reasons) "
       "WITH active AS MATERIALIZED (SELECT id, email_norm AS email, phone, "
       "lower(btrim(coalesce(given_name, '') || ' ' || coalesce(family_name, ''))) AS "
       "full_name, upper(replace(addresses -> 0 -> 'address' ->> 'postalCode', ' ', '')) || "
       "lower(left(family_name, 1)) AS block, lower(addresses -> 0 -> 'address' -> 'lines' "
       "->> 0) AS line FROM customer.customers WHERE tenant_id = $1 AND delete_time IS NULL), "
       "keys AS MATERIALIZED (SELECT 1 AS kind, email AS k, id FROM active WHERE email IS NOT "
       "NULL UNION ALL SELECT 2, phone, id FROM active WHERE phone IS NOT NULL UNION ALL "
       "SELECT i.kind, i.value, a.id FROM customer.identities i JOIN active a ON a.id = "
       "i.customer_id WHERE i.tenant_id = $1 AND i.kind IN (1, 2)), "
       "shared AS (SELECT kind, k FROM keys GROUP BY kind, k HAVING count(*) BETWEEN 2 AND 50), "
       "pairs AS (SELECT a.id AS x, b.id AS y, s.kind FROM shared s JOIN keys a ON a.kind = "
       "s.kind AND a.k = s.k JOIN keys b ON b.kind = s.kind AND b.k = s.k AND a.id < b.id), "
       "blocks AS (SELECT array_agg(id) AS ids, array_agg(full_name) AS names, array_agg(line) "
       "AS lines FROM active WHERE block IS NOT NULL AND full_name <> '' GROUP BY block HAVING "
       "count(*) BETWEEN 2 AND 200), "
       "fuzzy AS (SELECT b.ids[i] AS x, b.ids[j] AS y, similarity(b.names[i], b.names[j]) AS "
       "ns, COALESCE(similarity(b.lines[i], b.lines[j]), 0) AS ls FROM blocks b, "
       "generate_subscripts(b.ids, 1) i, generate_subscripts(b.ids, 1) j WHERE b.ids[i] < "
       "b.ids[j]), "
       "evidence AS (SELECT DISTINCT x, y, reason, s FROM (SELECT x, y, CASE kind WHEN 1 THEN "
       "'email' ELSE 'phone' END AS reason, CASE kind WHEN 1 THEN 0.9 ELSE 0.8 END::float8 AS "
       "s FROM pairs UNION ALL SELECT x, y, 'name+address ' || to_char(0.5 * ns + 0.4 * ls, "
       "'FM0.00'), 0.5 * ns + 0.4 * ls FROM fuzzy WHERE ns >= 0.5) e) "
       "SELECT $1, $2::uuid, x, y, (1 - exp(sum(ln(1 - s))))::real, array_agg(reason ORDER BY "
       "s DESC, reason) FROM evidence GROUP BY x, y"},
      // Sorts and hashes of the scan stay in memory.
      {"customer_scan_memory", "SET LOCAL work_mem = '64MB'"},
      {"customer_scan_exists",
       "SELECT 1 FROM customer.duplicate_scans WHERE tenant_id = $1 AND scan_id = $2::uuid "
       "LIMIT 1"},
      {"customer_count_scan",
       "SELECT count(*) FROM customer.duplicate_scans WHERE tenant_id = $1 AND scan_id = "
       "$2::uuid AND score >= $3::real"},
      {"customer_page_scan",
       "SELECT d.customer_a::text, d.customer_b::text, d.score::text, array_to_string(d.reasons, "
       "'|') FROM customer.duplicate_scans d JOIN customer.customers a ON a.tenant_id = $1 AND "
       "a.id = d.customer_a AND a.delete_time IS NULL JOIN customer.customers b ON b.tenant_id "
       "= $1 AND b.id = d.customer_b AND b.delete_time IS NULL WHERE d.tenant_id = $1 AND "
       "d.scan_id = $2::uuid AND d.score >= $3::real AND ($4 = '' OR d.score < $4::real OR "
       "(d.score = $4::real AND (d.customer_a, d.customer_b) > ($5::uuid, $6::uuid))) ORDER BY "
       "d.score DESC, d.customer_a, d.customer_b LIMIT $7"},
  };
  return *statements;
}

}  // namespace identity_tx

using identity_tx::CustomerName;
using identity_tx::Lock;
using identity_tx::MergeInTx;
using identity_tx::ParseIdentityKey;
using identity_tx::PutIdentity;
using identity_tx::Read;
using identity_tx::Refresh;
using identity_tx::WriteProfile;

namespace {

constexpr char kMergeRetention[] = "30 days";

// The two customers of a merge, locked in id order so that crossing merges
// cannot deadlock. NOT_FOUND names the one that is missing.
struct MergePair {
  Customer survivor, merged;
};
absl::StatusOr<MergePair> LockPair(db::Tx& tx, const std::string& tenant,
                                   const std::string& survivor_id, const std::string& merged_id) {
  MergePair pair;
  bool found_survivor = false, found_merged = false;
  if (survivor_id < merged_id) {
    pair.survivor = Lock(tx, tenant, survivor_id, &found_survivor);
    pair.merged = Lock(tx, tenant, merged_id, &found_merged);
  } else {
    pair.merged = Lock(tx, tenant, merged_id, &found_merged);
    pair.survivor = Lock(tx, tenant, survivor_id, &found_survivor);
  }
  if (!found_survivor) return NotFound(survivor_id);
  if (!found_merged) return NotFound(merged_id);
  return pair;
}
void AddToList(google::protobuf::Struct* s, const std::string& key, const std::string& value) {
  (*s->mutable_fields())[key].mutable_list_value()->add_values()->set_string_value(value);
}

std::vector<std::string> ListOf(const google::protobuf::Struct& s, const std::string& key) {
  std::vector<std::string> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return out;
  for (const auto& v : it->second.list_value().values()) out.push_back(v.string_value());
  return out;
}

int64_t CountOf(const google::protobuf::Struct& s, const std::string& key) {
  return static_cast<int64_t>(ListOf(s, key).size());
}

std::string Bytes(const Customer& c) { return c.SerializeAsString(); }

Customer FromBytes(const pqxx::field& field) {
  pqxx::binarystring bytes(field);
  Customer c;
  c.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  return c;
}

}  // namespace

namespace identity_tx {

// Folds `merged_id` into `survivor_id` inside `tx` (see MergeCustomers).
absl::Status MergeInTx(db::Tx& tx, const server::CallScope& scope, const std::string& survivor_id,
                       const std::string& merged_id, const v1::MergeCustomersRequest& request,
                       v1::MergeCustomersResponse* response) {
  const std::string& tenant = scope.tenant;
  CRM_ASSIGN_OR_RETURN(const MergePair pair, LockPair(tx, tenant, survivor_id, merged_id));
  const Customer& survivor = pair.survivor;
  const Customer& merged = pair.merged;
  for (const Customer* c : {&survivor, &merged}) {
    if (c->has_delete_time()) {
      return absl::FailedPreconditionError(
          absl::StrCat(c->name(), " is deleted", c->merged_into().empty() ? "" : " (merged)"));
    }
  }
  CRM_ASSIGN_OR_RETURN(Customer profile, MergeProfiles(survivor, merged, request));

  google::protobuf::Struct moved;
  for (const auto& row : db::Exec(tx, "customer_move_orders", tenant, merged_id, survivor_id)) {
    AddToList(&moved, "orders", row[0].as<std::string>());
  }
  for (const auto& row : db::Exec(tx, "customer_move_events", tenant, merged_id, survivor_id)) {
    AddToList(&moved, "events", row[0].as<std::string>());
  }
  for (const auto& row : db::Exec(tx, "customer_move_consents", tenant, merged_id, survivor_id)) {
    AddToList(&moved, "consents", row[0].as<std::string>());
  }
  for (const auto& row : db::Exec(tx, "customer_move_identities", tenant, merged_id, survivor_id)) {
    AddToList(&moved, "identities",
              absl::StrCat(row[0].as<int>(), "/", row[1].as<std::string>(), "/",
                           row[2].as<std::string>()));
  }
  // The merged customer goes first, freeing its external_id for the survivor.
  db::Exec(tx, "customer_mark_merged", tenant, merged_id, survivor_id);
  WriteProfile(tx, tenant, survivor_id, profile);
  for (const auto& identity : DisplacedIdentifiers(survivor, merged, profile)) {
    if (!db::Exec(tx, "customer_add_identity_if_free", tenant, static_cast<int>(identity.kind()),
                  identity.source(), identity.value(), survivor_id)
             .empty()) {
      AddToList(&moved, "added", IdentityKey(identity));
    }
  }
  db::Exec(tx, "customer_carry_last_seen", tenant, survivor_id, merged_id);
  CRM_RETURN_IF_ERROR(Refresh(tx, tenant, {survivor_id, merged_id}));
  const Customer after = Read(tx, tenant, survivor_id);
  const Customer merged_after = Read(tx, tenant, merged_id);

  std::string moved_json;
  google::protobuf::util::MessageToJsonString(moved, &moved_json);
  const std::string before_bytes = Bytes(survivor), merged_bytes = Bytes(merged),
                    after_bytes = Bytes(after);
  auto inserted = db::Exec(tx, "customer_insert_merge", tenant, survivor_id, merged_id,
                           pqxx::binarystring(before_bytes.data(), before_bytes.size()),
                           pqxx::binarystring(merged_bytes.data(), merged_bytes.size()),
                           pqxx::binarystring(after_bytes.data(), after_bytes.size()), moved_json);
  v1::MergeRecord record;
  record.set_name(absl::StrCat("merges/", inserted[0][0].as<std::string>()));
  record.set_survivor(survivor.name());
  record.set_merged(merged.name());
  *record.mutable_merge_time() = TimeUtil::MicrosecondsToTimestamp(inserted[0][1].as<int64_t>());
  *record.mutable_expire_time() = TimeUtil::MicrosecondsToTimestamp(inserted[0][2].as<int64_t>());
  record.set_moved_orders(CountOf(moved, "orders"));
  record.set_moved_events(CountOf(moved, "events"));
  record.set_moved_consents(CountOf(moved, "consents"));
  record.set_moved_identities(CountOf(moved, "identities") + CountOf(moved, "added"));

  AppendAudit(tx, scope, survivor_id, "merged", DiffCustomers(survivor, after));
  AppendAudit(tx, scope, merged_id, "merged_into", DiffCustomers(merged, merged_after));
  events::AppendEvent(tx, kSchema, tenant, "customer.merged", after.name(), record);
  *response->mutable_customer() = after;
  *response->mutable_merge() = record;
  return absl::OkStatus();
}

}  // namespace identity_tx

absl::StatusOr<v1::MergeCustomersResponse> IdentityStore::Merge(
    const server::CallScope& scope, const std::string& survivor_id, const std::string& merged_id,
    const v1::MergeCustomersRequest& request) {
  v1::MergeCustomersResponse response;
  db::TxOptions options = server::TxFor(scope);
  options.rollback = request.validate_only();
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    return MergeInTx(tx, scope, survivor_id, merged_id, request, &response);
  }));
  if (request.validate_only()) response.mutable_merge()->clear_name();
  return response;
}

absl::StatusOr<v1::UnmergeCustomerResponse> IdentityStore::Unmerge(const server::CallScope& scope,
                                                                   const std::string& merge_id) {
  v1::UnmergeCustomerResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    const std::string& tenant = scope.tenant;
    auto rows = db::Exec(tx, "customer_lock_merge", tenant, merge_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("merges/", merge_id, " not found"));
    }
    const auto& m = rows[0];
    if (m[9].as<bool>()) {
      return absl::FailedPreconditionError(absl::StrCat("merges/", merge_id, " is already undone"));
    }
    if (!m[8].as<bool>()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "merges/", merge_id, " is past its retention window (", kMergeRetention, ")"));
    }
    const std::string survivor_id = m[0].as<std::string>(), merged_id = m[1].as<std::string>();
    const Customer survivor_before = FromBytes(m[2]), merged_before = FromBytes(m[3]),
                   survivor_after = FromBytes(m[4]);
    google::protobuf::Struct moved;
    ReadStoredJson(m[5].c_str(), &moved);
    auto pair = LockPair(tx, tenant, survivor_id, merged_id);
    if (!pair.ok() || pair->survivor.has_erase_time() || pair->merged.has_erase_time()) {
      return absl::FailedPreconditionError("one of the merged customers was erased");
    }
    const Customer& survivor = pair->survivor;
    const Customer& merged = pair->merged;
    if (survivor.has_delete_time()) {
      return absl::FailedPreconditionError(absl::StrCat(survivor.name(), " is deleted"));
    }
    // The survivor gives back what the merge gave it, then the merged
    // customer returns (its external_id may be the one handed back).
    WriteProfile(tx, tenant, survivor_id,
                 RestoreSurvivor(survivor_before, survivor_after, survivor));
    for (const auto& key : ListOf(moved, "added")) {
      const Identity identity = ParseIdentityKey(key);
      db::Exec(tx, "customer_remove_identity", tenant, static_cast<int>(identity.kind()),
               identity.source(), identity.value(), survivor_id);
    }
    for (const auto& key : ListOf(moved, "identities")) {
      PutIdentity(tx, tenant, ParseIdentityKey(key), merged_id);
    }
    const std::string moved_json = m[5].as<std::string>();
    db::Exec(tx, "customer_return_orders", tenant, merged_id, moved_json);
    db::Exec(tx, "customer_return_events", tenant, merged_id, moved_json);
    db::Exec(tx, "customer_return_consents", tenant, merged_id, moved_json, survivor_id);
    WriteProfile(tx, tenant, merged_id, merged_before);
    try {
      pqxx::subtransaction unmark(tx, "unmark_merged");
      db::Exec(unmark, "customer_unmark_merged", tenant, merged_id);
      unmark.commit();
    } catch (const pqxx::unique_violation&) {
      return absl::FailedPreconditionError(absl::StrCat(merged.name(), ": its external_id '",
                                                        merged_before.external_id(),
                                                        "' now belongs to another customer"));
    }
    CRM_RETURN_IF_ERROR(Refresh(tx, tenant, {survivor_id, merged_id}));
    db::Exec(tx, "customer_finish_unmerge", tenant, merge_id);
    *response.mutable_survivor() = Read(tx, tenant, survivor_id);
    *response.mutable_restored() = Read(tx, tenant, merged_id);
    AppendAudit(tx, scope, survivor_id, "unmerged", DiffCustomers(survivor, response.survivor()));
    AppendAudit(tx, scope, merged_id, "unmerged", DiffCustomers(merged, response.restored()));
    v1::MergeRecord record;
    record.set_name(absl::StrCat("merges/", merge_id));
    record.set_survivor(survivor.name());
    record.set_merged(merged.name());
    *record.mutable_merge_time() = TimeUtil::MicrosecondsToTimestamp(m[6].as<int64_t>());
    *record.mutable_expire_time() = TimeUtil::MicrosecondsToTimestamp(m[7].as<int64_t>());
    events::AppendEvent(tx, kSchema, tenant, "customer.unmerged", survivor.name(), record);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::ListDuplicateCandidatesResponse> IdentityStore::ListDuplicates(
    const server::CallScope& scope, const v1::ListDuplicateCandidatesRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size, api::EffectivePageSize(request.page_size(), 50, 1000));
  if (request.min_score() < 0 || request.min_score() > 1) {
    return absl::InvalidArgumentError("min_score: must be between 0 and 1");
  }
  const std::string min_score = absl::StrCat(request.min_score() == 0 ? 0.5 : request.min_score());
  const std::string fingerprint = absl::StrCat("duplicates\n", min_score);
  std::vector<std::string> key;
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(key, tokens_.Decode(request.page_token(), fingerprint));
    if (key.size() != 5) return absl::InvalidArgumentError("page_token: malformed");
  }
  v1::ListDuplicateCandidatesResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    std::string scan_id;
    if (key.empty()) {
      db::Exec(tx, "customer_drop_old_scans", scope.tenant);
      scan_id = db::Exec(tx, "customer_new_scan_id")[0][0].as<std::string>();
      db::Exec(tx, "customer_scan_memory");
      db::Exec(tx, "customer_scan_duplicates", scope.tenant, scan_id);
    } else {
      scan_id = key[0];
    }
    // The count of a scan is taken once, on its first page.
    if (key.empty()) {
      response.set_total_size(
          db::Exec(tx, "customer_count_scan", scope.tenant, scan_id, min_score)[0][0]
              .as<int64_t>());
    } else if (db::Exec(tx, "customer_scan_exists", scope.tenant, scan_id).empty()) {
      return absl::FailedPreconditionError(
          "page_token: the scan has expired (kept 1 hour); start again without page_token");
    } else {
      int64_t total = 0;
      absl::SimpleAtoi(key[4], &total);
      response.set_total_size(total);
    }
    const std::string after_score = key.empty() ? "" : key[1];
    const std::string after_a = key.empty() ? "00000000-0000-0000-0000-000000000000" : key[2];
    const std::string after_b = key.empty() ? "00000000-0000-0000-0000-000000000000" : key[3];
    auto rows = db::Exec(tx, "customer_page_scan", scope.tenant, scan_id, min_score, after_score,
                         after_a, after_b, db::PageLimit(page_size));
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) {
          auto* candidate = response.add_candidates();
          candidate->set_customer(CustomerName(row[0].as<std::string>()));
          candidate->set_other(CustomerName(row[1].as<std::string>()));
          double score = 0;
          absl::SimpleAtod(row[2].as<std::string>(), &score);
          candidate->set_score(score);
          for (absl::string_view reason : absl::StrSplit(row[3].as<std::string>(), '|')) {
            candidate->add_reasons(std::string(reason));
          }
        },
        [&](const pqxx::row& last) {
          return std::vector<std::string>{scan_id, last[2].as<std::string>(),
                                          last[0].as<std::string>(), last[1].as<std::string>(),
                                          absl::StrCat(response.total_size())};
        }));
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace crm::customer
