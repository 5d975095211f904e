// The identity graph of the customer service: identifiers, stitching of
// anonymous visitors, duplicate scans, and merges that can be undone.
#pragma once

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

// Active customers named by `identities` (normalised), keyed by
// IdentityKey: identities first, then the customers' own e-mail, phone and
// (EXTERNAL_ID from source "shop") external id; several customers with the
// same own e-mail or phone resolve to the oldest. Unknown ones are absent.
std::map<std::string, std::string> ResolveIdentities(
    db::Tx& tx, const std::string& tenant,
    const std::vector<crm::customer::v1::Identity>& identities);

// Customers of the anonymous ids `ids`; an unknown id gets a new anonymous
// profile (a customer with only that identity). Keyed by the id.
std::map<std::string, std::string> ResolveAnonymousIds(db::Tx& tx, const server::CallScope& scope,
                                                       const std::vector<std::string>& ids);

class IdentityStore {
 public:
  IdentityStore(db::Pool& pool, api::PageTokenCodec tokens);

  // `identity` must be normalised (NormalizeIdentity).
  absl::StatusOr<crm::customer::v1::Customer> AddIdentity(
      const server::CallScope& scope, const std::string& id,
      const crm::customer::v1::Identity& identity);
  absl::StatusOr<crm::customer::v1::Customer> RemoveIdentity(
      const server::CallScope& scope, const std::string& id,
      const crm::customer::v1::Identity& identity);
  // `request` must be normalised.
  absl::StatusOr<crm::customer::v1::IdentifyCustomerResponse> Identify(
      const server::CallScope& scope, const crm::customer::v1::IdentifyCustomerRequest& request);

  absl::StatusOr<crm::customer::v1::ListDuplicateCandidatesResponse> ListDuplicates(
      const server::CallScope& scope,
      const crm::customer::v1::ListDuplicateCandidatesRequest& request);
  absl::StatusOr<crm::customer::v1::MergeCustomersResponse> Merge(
      const server::CallScope& scope, const std::string& survivor_id, const std::string& merged_id,
      const crm::customer::v1::MergeCustomersRequest& request);
  absl::StatusOr<crm::customer::v1::UnmergeCustomerResponse> Unmerge(const server::CallScope& scope,
                                                                     const std::string& merge_id);

 private:
  db::Pool& pool_;
  api::PageTokenCodec tokens_;
};

}  // namespace crm::customer
