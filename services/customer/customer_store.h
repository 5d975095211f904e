// Customer persistence: every statement is tenant-scoped, runs in a
// transaction with the caller's deadline, and writes its event to the outbox
// in the same transaction. By resource: customer_store.cc (profiles, lists,
// search, imports), customer_store_consent.cc, customer_store_gdpr.cc
// (history, export, erasure).
#pragma once

#include <google/protobuf/field_mask.pb.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/reader.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

inline constexpr char kSchema[] = "customer";

class CustomerStore {
 public:
  CustomerStore(db::Pool& pool, db::Reader& reader, api::PageTokenCodec tokens);

  // `request_hash` fingerprints the request for request_id reuse checks.
  absl::StatusOr<crm::customer::v1::Customer> Create(const server::CallScope& scope,
                                                     crm::customer::v1::Customer customer,
                                                     const std::string& request_id,
                                                     const std::string& request_hash);
  // Without a worker thread: `done` runs on the db::Reader's thread.
  void Get(const server::CallScope& scope, const std::string& id,
           std::function<void(absl::StatusOr<crm::customer::v1::Customer>)> done);
  absl::StatusOr<crm::customer::v1::Customer> Update(const server::CallScope& scope,
                                                     const std::string& id,
                                                     const crm::customer::v1::Customer& patch,
                                                     const google::protobuf::FieldMask& mask,
                                                     const std::string& etag);
  absl::StatusOr<crm::customer::v1::Customer> Delete(const server::CallScope& scope,
                                                     const std::string& id,
                                                     const std::string& etag);
  absl::StatusOr<crm::customer::v1::ListCustomersResponse> List(
      const server::CallScope& scope, const crm::customer::v1::ListCustomersRequest& request);

  // `consent` must have passed ValidateConsent.
  absl::StatusOr<crm::customer::v1::Consent> RecordConsent(
      const server::CallScope& scope, const std::string& id,
      const crm::customer::v1::Consent& consent, const std::string& request_id,
      const std::string& request_hash);
  absl::StatusOr<crm::customer::v1::ListConsentsResponse> ListConsents(
      const server::CallScope& scope, const crm::customer::v1::ListConsentsRequest& request,
      const std::string& id);
  absl::StatusOr<crm::customer::v1::ListCustomerHistoryResponse> ListHistory(
      const server::CallScope& scope, const std::string& id, int page_size,
      const std::string& page_token);
  // Upserts validated customers (each with external_id) by external_id in
  // one statement; `rows` are their row numbers in the stream. Adds to the
  // counts of `summary`.
  absl::Status ImportBatch(const server::CallScope& scope,
                           const std::vector<crm::customer::v1::Customer>& customers,
                           const std::vector<int64_t>& rows,
                           crm::customer::v1::ImportCustomersResponse* summary);
  absl::StatusOr<crm::customer::v1::SearchCustomersResponse> Search(
      const server::CallScope& scope, const crm::customer::v1::SearchCustomersRequest& request);
  absl::StatusOr<crm::customer::v1::ExportCustomerDataResponse> Export(
      const server::CallScope& scope, const std::string& id);
  absl::StatusOr<crm::customer::v1::Customer> Erase(const server::CallScope& scope,
                                                    const std::string& id);
  absl::StatusOr<crm::customer::v1::CheckConsentResponse> CheckConsent(
      const server::CallScope& scope, const std::string& id,
      crm::customer::v1::ConsentChannel channel, crm::customer::v1::ConsentPurpose purpose);

 private:
  db::Pool& pool_;
  db::Reader& reader_;
  api::PageTokenCodec tokens_;
  db::Idempotency idempotency_;
};

}  // namespace crm::customer
