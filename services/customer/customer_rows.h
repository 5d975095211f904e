// How a customer row is read and written, shared by the stores of the
// customer service: the column list every read selects, its decoding, and
// the audit entry every change appends.
#pragma once

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/db/rows.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

// Columns every customer read selects from `customer.customers c`, in the
// order RowToCustomer expects.
extern const char kCustomerColumns[];
// How many columns that is: a statement's own extra columns start here.
inline constexpr int kCustomerColumnCount = 23;

// A row from a transaction or from db::ReadOnce.
crm::customer::v1::Customer RowToCustomer(const pqxx::row& row);
crm::customer::v1::Customer RowToCustomer(const db::Row& row);

// Statements more than one store of the service runs (reading, locking and
// auditing customers, refreshing facts). Every store prepares them along
// with its own, so no store relies on another having been built.
const std::map<std::string, std::string>& SharedStatements();

// `{tag,...}` for a text[] parameter (tags are validated, no quoting needed).
std::string TagsLiteral(const crm::customer::v1::Customer& c);

// The JSON-stored parts of a customer (attributes, addresses, demographics,
// preferences) as one object for one parameter.
std::string DetailsJson(const crm::customer::v1::Customer& c);

// One audit entry per customer of `ids`, each with the changes at its index
// (none where `changes` is shorter), in one statement.
void AppendAudits(db::Tx& tx, const server::CallScope& scope, const std::vector<std::string>& ids,
                  const std::string& action,
                  const std::vector<std::vector<crm::customer::v1::FieldChange>>& changes);

// One audit entry for a change of customer `id`, in the same transaction.
void AppendAudit(db::Tx& tx, const server::CallScope& scope, const std::string& id,
                 const std::string& action,
                 const std::vector<crm::customer::v1::FieldChange>& changes);

// The uuid of `customers/{uuid}`.
std::string IdOf(const crm::customer::v1::Customer& c);

// Merges a jsonb value this service wrote into `message` (api::MergeJson);
// an unreadable value is logged and leaves what it could not read unset.
void ReadStoredJson(const char* json, google::protobuf::Message* message);

// Page sizes of the customer service's lists (AIP-158).
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// A consent row (the columns of kConsentColumns in customer_store.cc).
crm::customer::v1::Consent RowToConsent(const pqxx::row& row);

// NOT_FOUND naming `customers/{id}`.
absl::Status NotFound(const std::string& id);

}  // namespace crm::customer
