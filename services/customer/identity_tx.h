// Steps of a transaction on customers and identities that the identity
// store's two files share: identity_store.cc (identifiers, Identify) and
// identity_store_merge.cc (merge, unmerge, duplicate candidates). Private to
// the identity store.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer::identity_tx {

// The statements of each file (prepared by the IdentityStore).
const std::map<std::string, std::string>& IdentityStatements();
const std::map<std::string, std::string>& MergeStatements();

// Locks customer `id` FOR UPDATE; *found tells whether it exists.
v1::Customer Lock(db::Tx& tx, const std::string& tenant, const std::string& id, bool* found);
// Reads customer `id`, which exists.
v1::Customer Read(db::Tx& tx, const std::string& tenant, const std::string& id);
// Writes the profile fields of `c` to customer `id` and returns the row.
v1::Customer WriteProfile(db::Tx& tx, const std::string& tenant, const std::string& id,
                          const v1::Customer& c);
std::string CustomerName(const std::string& id);
// "kind/source/value" (IdentityKey) back to an identity.
v1::Identity ParseIdentityKey(const std::string& key);
// Gives `identity` to `customer_id`, taking it from its owner if any.
void PutIdentity(db::Tx& tx, const std::string& tenant, const v1::Identity& identity,
                 const std::string& customer_id);
// Recomputes the order facts of `ids`.
absl::Status Refresh(db::Tx& tx, const std::string& tenant, const std::vector<std::string>& ids);
// Folds `merged_id` into `survivor_id` inside `tx` (see MergeCustomers).
absl::Status MergeInTx(db::Tx& tx, const server::CallScope& scope, const std::string& survivor_id,
                       const std::string& merged_id, const v1::MergeCustomersRequest& request,
                       v1::MergeCustomersResponse* response);

}  // namespace crm::customer::identity_tx
