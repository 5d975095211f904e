// CustomerStore, GDPR and audit: a customer's history, export of all their data,
// erasure.
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

absl::StatusOr<v1::ListCustomerHistoryResponse> CustomerStore::ListHistory(
    const server::CallScope& scope, const std::string& id, int requested_page_size,
    const std::string& page_token) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(requested_page_size, kDefaultPageSize, kMaxPageSize));
  const std::string fingerprint = absl::StrCat("history\n", id);
  int64_t before = 0;
  if (!page_token.empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(page_token, fingerprint));
    if (key.size() != 1 || !absl::SimpleAtoi(key[0], &before) || before <= 0) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
  }
  v1::ListCustomerHistoryResponse response;
  db::TxOptions options = server::ReadTxFor(scope);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    response.Clear();
    if (db::Exec(tx, "customer_get_customer", scope.tenant, id).empty()) return NotFound(id);
    auto rows = db::Exec(tx, "customer_list_audit_entries", scope.tenant, id, before,
                         db::PageLimit(page_size));
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, fingerprint,
        [&](const pqxx::row& row) {
          v1::HistoryEntry* e = response.add_entries();
          ReadStoredJson(row[4].c_str(), e);
          e->set_action(row[1].as<std::string>());
          e->set_actor(row[2].as<std::string>());
          e->set_request_id(row[3].as<std::string>());
          *e->mutable_change_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
        },
        [](const pqxx::row& last) {
          return std::vector<std::string>{absl::StrCat(last[0].as<int64_t>())};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::ExportCustomerDataResponse> CustomerStore::Export(const server::CallScope& scope,
                                                                     const std::string& id) {
  v1::ExportCustomerDataResponse out;
  db::TxOptions options = server::ReadTxFor(scope);
  options.isolation = db::Isolation::kRepeatableRead;  // one consistent snapshot
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    out.Clear();
    auto rows = db::Exec(tx, "customer_get_customer", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    *out.mutable_customer() = RowToCustomer(rows[0]);
    for (const auto& row :
         db::Exec(tx, "customer_list_consent_history", scope.tenant, id, std::string(""),
                  std::string("0"), std::string("0"), int64_t{1} << 40)) {
      *out.add_consents() = RowToConsent(row);
    }
    for (auto& o : LoadCustomerOrders(tx, scope.tenant, id)) *out.add_orders() = std::move(o);
    for (const auto& row : db::Exec(tx, "customer_list_audit_entries", scope.tenant, id, int64_t{0},
                                    int64_t{1} << 40)) {
      v1::HistoryEntry* e = out.add_history();
      ReadStoredJson(row[4].c_str(), e);
      e->set_action(row[1].as<std::string>());
      e->set_actor(row[2].as<std::string>());
      e->set_request_id(row[3].as<std::string>());
      *e->mutable_change_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
    }
    for (const auto& row : db::Exec(tx, "customer_list_behavior_events", scope.tenant, id)) {
      v1::BehaviorEvent* e = out.add_events();
      ReadStoredJson(row[4].c_str(), e);
      e->set_event_id(row[0].as<std::string>());
      e->set_customer(absl::StrCat("customers/", id));
      e->set_type(static_cast<v1::BehaviorEventType>(row[1].as<int>()));
      e->set_custom_name(row[2].as<std::string>());
      *e->mutable_event_time() = TimeUtil::MicrosecondsToTimestamp(row[3].as<int64_t>());
    }
    *out.mutable_export_time() = TimeUtil::GetCurrentTime();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Customer> CustomerStore::Erase(const server::CallScope& scope,
                                              const std::string& id) {
  Customer erased;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "customer_lock_customer", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    Customer current = RowToCustomer(rows[0]);
    if (current.has_erase_time()) {  // already erased: nothing left to do
      erased = current;
      return absl::OkStatus();
    }
    // The customers merged into this one are the same person: erased too.
    std::vector<std::string> ids = {id};
    for (const auto& row : db::Exec(tx, "customer_list_merged_into", scope.tenant, id)) {
      ids.push_back(row[0].as<std::string>());
    }
    for (const auto& target : ids) {
      db::Exec(tx, "customer_erase_identities", scope.tenant, target);
      Customer gone =
          RowToCustomer(db::Exec(tx, "customer_erase_customer", scope.tenant, target)[0]);
      if (target == id) erased = gone;
      db::Exec(tx, "customer_erase_order_details", scope.tenant, target);
      db::Exec(tx, "customer_erase_behavior_events", scope.tenant, target);
      db::Exec(tx, "customer_erase_merges", scope.tenant, target);
      db::Exec(tx, "customer_erase_duplicate_pairs", scope.tenant, target);
      db::Exec(tx, "customer_redact_audit_entries", scope.tenant, target);
      db::Exec(tx, "customer_delete_idempotent_responses", scope.tenant, gone.name());
      // Published events keep their place in the stream, without the values.
      google::protobuf::Any any;
      any.PackFrom(gone);
      std::string bytes = any.SerializeAsString();
      db::Exec(tx, "customer_redact_outbox_payloads", scope.tenant, gone.name(),
               pqxx::binarystring(bytes.data(), bytes.size()));
      for (const auto& order : LoadCustomerOrders(tx, scope.tenant, target)) {
        any.PackFrom(order);
        bytes = any.SerializeAsString();
        db::Exec(tx, "customer_redact_outbox_payloads", scope.tenant, order.name(),
                 pqxx::binarystring(bytes.data(), bytes.size()));
      }
    }
    AppendAudit(tx, scope, id, "erased", {});
    events::AppendEvent(tx, kSchema, scope.tenant, "customer.erased", erased.name(), erased);
    return absl::OkStatus();
  }));
  return erased;
}

}  // namespace crm::customer
