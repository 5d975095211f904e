#include "services/customer/identity_store.h"

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
#include "services/customer/identity_tx.h"

namespace crm::customer {

using google::protobuf::util::TimeUtil;
using v1::Customer;
using v1::Identity;

namespace identity_tx {

const std::map<std::string, std::string>& IdentityStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"customer_resolve_identities",
       "SELECT q.kind, q.source, q.value, COALESCE("
       "(SELECT i.customer_id FROM customer.identities i JOIN customer.customers c ON "
       "c.tenant_id = i.tenant_id AND c.id = i.customer_id AND c.delete_time IS NULL WHERE "
       "i.tenant_id = $1 AND i.kind = q.kind AND i.source = q.source AND i.value = q.value), "
       "(SELECT c.id FROM customer.customers c WHERE q.kind = 1 AND c.tenant_id = $1 AND "
       "c.email_norm = q.value AND c.delete_time IS NULL ORDER BY c.create_time, c.id LIMIT "
       "1), "
       "(SELECT c.id FROM customer.customers c WHERE q.kind = 2 AND c.tenant_id = $1 AND "
       "c.phone = q.value AND c.delete_time IS NULL ORDER BY c.create_time, c.id LIMIT 1), "
       "(SELECT c.id FROM customer.customers c WHERE q.kind = 3 AND q.source = 'shop' AND "
       "c.tenant_id = $1 AND c.external_id = q.value AND c.delete_time IS NULL))::text "
       "FROM unnest($2::smallint[], $3::text[], $4::text[]) AS q(kind, source, value)"},
      {"customer_identity_owner",
       "SELECT i.customer_id::text, c.delete_time IS NOT NULL FROM customer.identities i JOIN "
       "customer.customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id WHERE "
       "i.tenant_id = $1 AND i.kind = $2 AND i.source = $3 AND i.value = $4 FOR UPDATE OF i"},
      {"customer_put_identity",
       "INSERT INTO customer.identities (tenant_id, kind, source, value, customer_id) VALUES "
       "($1, $2, $3, $4, $5::uuid) ON CONFLICT (tenant_id, kind, source, value) DO UPDATE SET "
       "customer_id = EXCLUDED.customer_id, create_time = now()"},
      {"customer_add_identity_if_free",
       "INSERT INTO customer.identities (tenant_id, kind, source, value, customer_id) VALUES "
       "($1, $2, $3, $4, $5::uuid) ON CONFLICT DO NOTHING RETURNING 1"},
      {"customer_remove_identity",
       "DELETE FROM customer.identities WHERE tenant_id = $1 AND kind = $2 AND source = $3 AND "
       "value = $4 AND customer_id = $5::uuid RETURNING 1"},
      // Advisory locks on the keys in $1, always taken in the same order.
      {"customer_lock_keys",
       "SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT DISTINCT unnest($1::text[]) AS k "
       "ORDER BY 1) s"},
      {"customer_insert_anonymous_customers",
       "INSERT INTO customer.customers (tenant_id) SELECT $1 FROM generate_series(1, $2) "
       "RETURNING id::text"},
      {"customer_add_anonymous_identities",
       "INSERT INTO customer.identities (tenant_id, kind, source, value, customer_id) SELECT $1, "
       "4, '', u.value, u.id FROM unnest($2::text[], $3::uuid[]) AS u(value, id)"},
  };
  return *statements;
}

Customer Lock(db::Tx& tx, const std::string& tenant, const std::string& id, bool* found) {
  auto rows = db::Exec(tx, "customer_lock_customer", tenant, id);
  *found = !rows.empty();
  return *found ? RowToCustomer(rows[0]) : Customer();
}
Customer Read(db::Tx& tx, const std::string& tenant, const std::string& id) {
  return RowToCustomer(db::Exec(tx, "customer_get_customer", tenant, id)[0]);
}

Customer WriteProfile(db::Tx& tx, const std::string& tenant, const std::string& id,
                      const Customer& c) {
  return RowToCustomer(db::Exec(tx, "customer_write_profile", tenant, id, c.external_id(),
                                c.email(), c.phone(), c.given_name(), c.family_name(), c.locale(),
                                c.country(), TagsLiteral(c), DetailsJson(c))[0]);
}

std::string CustomerName(const std::string& id) { return absl::StrCat("customers/", id); }

Identity ParseIdentityKey(const std::string& key) {
  std::vector<std::string> parts = absl::StrSplit(key, absl::MaxSplits('/', 2));
  Identity identity;
  int kind = 0;
  if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &kind)) {
    identity.set_kind(static_cast<v1::IdentityKind>(kind));
    identity.set_source(parts[1]);
    identity.set_value(parts[2]);
  }
  return identity;
}

void PutIdentity(db::Tx& tx, const std::string& tenant, const Identity& identity,
                 const std::string& customer_id) {
  db::Exec(tx, "customer_put_identity", tenant, static_cast<int>(identity.kind()),
           identity.source(), identity.value(), customer_id);
}

absl::Status Refresh(db::Tx& tx, const std::string& tenant, const std::vector<std::string>& ids) {
  db::Exec(tx, "customer_refresh_customer_facts", tenant,
           absl::StrCat("{", absl::StrJoin(ids, ","), "}"));
  return absl::OkStatus();
}

}  // namespace identity_tx

using identity_tx::CustomerName;
using identity_tx::Lock;
using identity_tx::MergeInTx;
using identity_tx::PutIdentity;
using identity_tx::Read;
using identity_tx::WriteProfile;

namespace {

// Who owns `identity`: "" for nobody or a deleted customer.
std::string ActiveOwner(db::Tx& tx, const std::string& tenant, const Identity& identity) {
  auto rows = db::Exec(tx, "customer_identity_owner", tenant, static_cast<int>(identity.kind()),
                       identity.source(), identity.value());
  if (rows.empty() || rows[0][1].as<bool>()) return "";
  return rows[0][0].as<std::string>();
}

}  // namespace

std::map<std::string, std::string> ResolveIdentities(db::Tx& tx, const std::string& tenant,
                                                     const std::vector<Identity>& identities) {
  std::map<std::string, std::string> out;
  if (identities.empty()) return out;
  std::vector<std::string> kinds, sources, values;
  for (const auto& identity : identities) {
    kinds.push_back(absl::StrCat(static_cast<int>(identity.kind())));
    sources.push_back(identity.source());
    values.push_back(identity.value());
  }
  for (const auto& row : db::Exec(tx, "customer_resolve_identities", tenant, db::TextArray(kinds),
                                  db::TextArray(sources), db::TextArray(values))) {
    if (row[3].is_null()) continue;
    Identity identity;
    identity.set_kind(static_cast<v1::IdentityKind>(row[0].as<int>()));
    identity.set_source(row[1].as<std::string>());
    identity.set_value(row[2].as<std::string>());
    out[IdentityKey(identity)] = row[3].as<std::string>();
  }
  return out;
}

std::map<std::string, std::string> ResolveAnonymousIds(db::Tx& tx, const server::CallScope& scope,
                                                       const std::vector<std::string>& ids) {
  std::vector<Identity> identities;
  for (const auto& id : std::set<std::string>(ids.begin(), ids.end())) {
    identities.push_back(AnonymousIdentity(id));
  }
  std::map<std::string, std::string> out;
  auto take_known = [&](std::vector<Identity> wanted) {
    const auto known = ResolveIdentities(tx, scope.tenant, wanted);
    std::vector<Identity> missing;
    for (auto& identity : wanted) {
      auto it = known.find(IdentityKey(identity));
      if (it == known.end()) {
        missing.push_back(std::move(identity));
      } else {
        out[identity.value()] = it->second;
      }
    }
    return missing;
  };
  std::vector<Identity> unknown = take_known(std::move(identities));
  if (unknown.empty()) return out;
  // New visitors: the locks make concurrent first events of one visitor
  // create one profile; whoever waited finds it on the second look.
  std::vector<std::string> keys;
  for (const auto& identity : unknown) {
    keys.push_back(absl::StrCat(scope.tenant, "/", IdentityKey(identity)));
  }
  db::Exec(tx, "customer_lock_keys", db::TextArray(keys));
  unknown = take_known(std::move(unknown));
  if (unknown.empty()) return out;
  std::vector<std::string> values, created_ids;
  for (const auto& row : db::Exec(tx, "customer_insert_anonymous_customers", scope.tenant,
                                  static_cast<int64_t>(unknown.size()))) {
    created_ids.push_back(row[0].as<std::string>());
  }
  for (size_t i = 0; i < unknown.size(); ++i) {
    values.push_back(unknown[i].value());
    out[unknown[i].value()] = created_ids[i];
  }
  db::Exec(tx, "customer_add_anonymous_identities", scope.tenant, db::TextArray(values),
           db::TextArray(created_ids));
  std::vector<Customer> created;
  for (const auto& row :
       db::Exec(tx, "customer_get_customers", scope.tenant, db::TextArray(created_ids))) {
    created.push_back(RowToCustomer(row));
  }
  std::vector<std::string> audited;
  std::vector<std::vector<v1::FieldChange>> changes;
  std::vector<events::PendingEvent> pending;
  for (const auto& c : created) {
    audited.push_back(IdOf(c));
    changes.push_back(DiffCustomers(Customer(), c));
    pending.push_back({"customer.created", c.name(), &c});
  }
  AppendAudits(tx, scope, audited, "created", changes);
  events::AppendEvents(tx, kSchema, scope.tenant, pending);
  return out;
}

IdentityStore::IdentityStore(db::Pool& pool, api::PageTokenCodec tokens)
    : pool_(pool), tokens_(std::move(tokens)) {
  pool_.Prepare(SharedStatements());
  pool_.Prepare(identity_tx::IdentityStatements());
  pool_.Prepare(identity_tx::MergeStatements());
}

absl::StatusOr<Customer> IdentityStore::AddIdentity(const server::CallScope& scope,
                                                    const std::string& id,
                                                    const Identity& identity) {
  Customer updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    bool found = false;
    const Customer current = Lock(tx, scope.tenant, id, &found);
    if (!found) return NotFound(id);
    if (current.has_delete_time()) {
      return absl::FailedPreconditionError(absl::StrCat(current.name(), " is deleted"));
    }
    db::Exec(tx, "customer_lock_keys",
             db::TextArray({absl::StrCat(scope.tenant, "/", IdentityKey(identity))}));
    const std::string owner = ActiveOwner(tx, scope.tenant, identity);
    if (owner == id) {
      updated = current;
      return absl::OkStatus();
    }
    if (!owner.empty()) {
      return absl::AlreadyExistsError(absl::StrCat("identity: belongs to ", CustomerName(owner),
                                                   "; merge the two with MergeCustomers"));
    }
    PutIdentity(tx, scope.tenant, identity, id);
    updated = Read(tx, scope.tenant, id);
    AppendAudit(tx, scope, id, "identity_added", DiffCustomers(current, updated));
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.updated", updated.name(), updated);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<Customer> IdentityStore::RemoveIdentity(const server::CallScope& scope,
                                                       const std::string& id,
                                                       const Identity& identity) {
  Customer updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    bool found = false;
    const Customer current = Lock(tx, scope.tenant, id, &found);
    if (!found) return NotFound(id);
    if (db::Exec(tx, "customer_remove_identity", scope.tenant, static_cast<int>(identity.kind()),
                 identity.source(), identity.value(), id)
            .empty()) {
      return absl::NotFoundError(
          absl::StrCat("identity: ", current.name(), " has no identity ", IdentityKey(identity)));
    }
    updated = Read(tx, scope.tenant, id);
    AppendAudit(tx, scope, id, "identity_removed", DiffCustomers(current, updated));
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.updated", updated.name(), updated);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<v1::IdentifyCustomerResponse> IdentityStore::Identify(
    const server::CallScope& scope, const v1::IdentifyCustomerRequest& request) {
  v1::IdentifyCustomerResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    const std::string& tenant = scope.tenant;
    std::vector<Identity> all(request.identities().begin(), request.identities().end());
    const Identity anonymous = AnonymousIdentity(request.anonymous_id());
    if (!request.anonymous_id().empty()) all.push_back(anonymous);
    // Concurrent identifies of the same identifiers run one after another.
    std::vector<std::string> keys;
    for (const auto& identity : all)
      keys.push_back(absl::StrCat(tenant, "/", IdentityKey(identity)));
    db::Exec(tx, "customer_lock_keys", db::TextArray(keys));

    const auto resolved = ResolveIdentities(tx, tenant, all);
    std::set<std::string> known;
    for (const auto& identity : request.identities()) {
      auto it = resolved.find(IdentityKey(identity));
      if (it != resolved.end()) known.insert(it->second);
    }
    if (known.size() > 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("identities: name different customers (", CustomerName(*known.begin()), ", ",
                       CustomerName(*known.rbegin()), "); merge them first"));
    }
    std::string anonymous_owner;
    bool anonymous_profile = false;
    if (!request.anonymous_id().empty()) {
      auto it = resolved.find(IdentityKey(anonymous));
      if (it != resolved.end()) {
        anonymous_owner = it->second;
        anonymous_profile = IsAnonymousProfile(Read(tx, tenant, anonymous_owner));
      }
    }
    std::string customer_id;
    if (!known.empty()) {
      customer_id = *known.begin();
    } else if (anonymous_profile) {
      customer_id = anonymous_owner;  // the visitor's profile becomes known
    } else {
      customer_id = db::Exec(tx, "customer_insert_anonymous_customers", tenant, int64_t{1})[0][0]
                        .as<std::string>();
      response.set_created(true);
    }
    bool found = false;
    const Customer before = Lock(tx, tenant, customer_id, &found);
    if (!found) return NotFound(customer_id);
    if (anonymous_profile && anonymous_owner != customer_id) {
      v1::MergeCustomersRequest stitch;
      v1::MergeCustomersResponse merged;
      CRM_RETURN_IF_ERROR(MergeInTx(tx, scope, customer_id, anonymous_owner, stitch, &merged));
      *response.mutable_merge() = merged.merge();
    }
    for (const auto& identity : all) {
      if (identity.kind() == v1::IDENTITY_KIND_ANONYMOUS_ID && !anonymous_owner.empty() &&
          !anonymous_profile && anonymous_owner != customer_id) {
        continue;  // a shared device: the id stays with whoever identified on it first
      }
      PutIdentity(tx, tenant, identity, customer_id);
    }
    // A new customer takes its first e-mail and phone as its own.
    Customer after = Read(tx, tenant, customer_id);
    if (response.created() || IsAnonymousProfile(before)) {
      Customer profile = after;
      for (const auto& identity : request.identities()) {
        if (identity.kind() == v1::IDENTITY_KIND_EMAIL && profile.email().empty()) {
          profile.set_email(identity.value());
        } else if (identity.kind() == v1::IDENTITY_KIND_PHONE && profile.phone().empty()) {
          profile.set_phone(identity.value());
        }
      }
      after = WriteProfile(tx, tenant, customer_id, profile);
    }
    AppendAudit(tx, scope, customer_id, response.created() ? "created" : "identified",
                DiffCustomers(response.created() ? Customer() : before, after));
    events::AppendEvent(tx, kSchema, tenant,
                        response.created() ? "customer.created" : "customer.updated", after.name(),
                        after);
    *response.mutable_customer() = after;
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace crm::customer
