// Pure identity and merge rules: identifier normalisation and the
// survivorship of profile fields. No I/O, unit-tested directly.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

// The EXTERNAL_ID source that stands for a customer's own `external_id`.
inline constexpr char kShopSource[] = "shop";

// Checks `identity` and brings its value to canonical form (lower-case
// e-mail, E.164 phone without separators). Messages name the field under
// `path`, e.g. "identity.value: ...".
absl::Status NormalizeIdentity(crm::customer::v1::Identity* identity, absl::string_view path);

// The identity of a visitor's cookie or device id (not yet checked).
crm::customer::v1::Identity AnonymousIdentity(const std::string& value);

// Checks and normalises an anonymous id in place; messages name `path`
// as NormalizeIdentity does.
absl::Status NormalizeAnonymousId(std::string* value, absl::string_view path);

// "kind/source/value": one string per identifier, for maps and sets.
std::string IdentityKey(const crm::customer::v1::Identity& identity);

// An anonymous profile: no e-mail, phone, external id or name, and only
// anonymous identities.
bool IsAnonymousProfile(const crm::customer::v1::Customer& c);

// The profile `survivor` becomes when `merged` is folded into it under the
// request's rules. INVALID_ARGUMENT names a bad rule; the result is
// validated as a customer.
absl::StatusOr<crm::customer::v1::Customer> MergeProfiles(
    const crm::customer::v1::Customer& survivor, const crm::customer::v1::Customer& merged,
    const crm::customer::v1::MergeCustomersRequest& request);

// The own e-mail, phone and external id of `survivor` and `merged` that the
// merged profile `result` no longer carries, as identities, so that orders
// and events naming them still find the survivor.
std::vector<crm::customer::v1::Identity> DisplacedIdentifiers(
    const crm::customer::v1::Customer& survivor, const crm::customer::v1::Customer& merged,
    const crm::customer::v1::Customer& result);

// The survivor after an unmerge: each mergeable field (and tags) that still
// has the value the merge gave it (`after_merge`) gets its value from
// `before_merge` back; fields changed since the merge keep `current`'s.
crm::customer::v1::Customer RestoreSurvivor(const crm::customer::v1::Customer& before_merge,
                                            const crm::customer::v1::Customer& after_merge,
                                            const crm::customer::v1::Customer& current);

}  // namespace crm::customer
