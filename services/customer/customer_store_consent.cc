// CustomerStore, consent: records, their history, and the one-call contact check.
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
#include "services/customer/customer_store.h"
#include "services/customer/order_store.h"

namespace crm::customer {

using crm::customer::v1::Customer;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using google::protobuf::util::TimeUtil;

absl::StatusOr<v1::Consent> CustomerStore::RecordConsent(const server::CallScope& scope,
                                                         const std::string& id,
                                                         const v1::Consent& consent,
                                                         const std::string& request_id,
                                                         const std::string& request_hash) {
  v1::Consent recorded;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "RecordConsent",
                                                            request_id, request_hash, &recorded));
    if (replayed) return absl::OkStatus();
    auto rows = db::Exec(tx, "customer_lock_customer", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    Customer customer = RowToCustomer(rows[0]);
    if (customer.has_delete_time()) {
      return absl::FailedPreconditionError(absl::StrCat(customer.name(), " is deleted"));
    }
    auto out = db::Exec(
        tx, "customer_insert_consent_record", scope.tenant, id, static_cast<int>(consent.channel()),
        static_cast<int>(consent.purpose()), static_cast<int>(consent.status()), consent.source(),
        consent.text_version(), TimeUtil::TimestampToMicroseconds(consent.consent_time()));
    recorded = RowToConsent(out[0]);
    idempotency_.Store(tx, scope.tenant, "RecordConsent", request_id, request_hash, recorded);
    v1::FieldChange change;
    change.set_field(absl::StrCat("consent.", ChannelName(recorded.channel()), ".",
                                  PurposeName(recorded.purpose())));
    google::protobuf::util::MessageToJsonString(recorded, change.mutable_new_value());
    AppendAudit(tx, scope, id, "consent_recorded", {change});
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.consent_changed", customer.name(),
                        recorded);
    return absl::OkStatus();
  }));
  return recorded;
}

absl::StatusOr<v1::ListConsentsResponse> CustomerStore::ListConsents(
    const server::CallScope& scope, const v1::ListConsentsRequest& request, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  const std::string fingerprint = absl::StrCat("consents\n", id, "\n", request.history());
  std::string after_micros, after_id;
  if (!request.page_token().empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(request.page_token(), fingerprint));
    int64_t n = 0;
    if (key.size() != 2 || !absl::SimpleAtoi(key[0], &n) || !absl::SimpleAtoi(key[1], &n)) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    after_micros = key[0];
    after_id = key[1];
  }
  v1::ListConsentsResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    if (db::Exec(tx, "customer_get_customer", scope.tenant, id).empty()) return NotFound(id);
    if (!request.history()) {
      for (const auto& row : db::Exec(tx, "customer_list_current_consents", scope.tenant, id)) {
        *response.add_consents() = RowToConsent(row);
      }
      return absl::OkStatus();
    }
    auto rows = db::Exec(tx, "customer_list_consent_history", scope.tenant, id, after_id,
                         after_micros.empty() ? std::string("0") : after_micros,
                         after_id.empty() ? std::string("0") : after_id, db::PageLimit(page_size));
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) { *response.add_consents() = RowToConsent(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{absl::StrCat(last[5].as<int64_t>()),
                                          absl::StrCat(last[7].as<int64_t>())};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::CheckConsentResponse> CustomerStore::CheckConsent(const server::CallScope& scope,
                                                                     const std::string& id,
                                                                     v1::ConsentChannel channel,
                                                                     v1::ConsentPurpose purpose) {
  v1::CheckConsentResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    auto customer_rows = db::Exec(tx, "customer_get_customer", scope.tenant, id);
    if (customer_rows.empty()) return NotFound(id);
    const Customer customer = RowToCustomer(customer_rows[0]);
    auto rows = db::Exec(tx, "customer_get_current_consent", scope.tenant, id,
                         static_cast<int>(channel), static_cast<int>(purpose));
    const v1::Consent* current = nullptr;
    if (!rows.empty()) {
      *response.mutable_consent() = RowToConsent(rows[0]);
      current = &response.consent();
    }
    ConsentDecision decision = DecideConsent(customer, channel, purpose, current);
    response.set_allowed(decision.allowed);
    response.set_reason(decision.reason);
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace crm::customer
