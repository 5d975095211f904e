// Order persistence. Every change updates the customer's facts in the same
// transaction and writes its event to the outbox.
#pragma once

#include <functional>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

// Every order of a customer, newest first, inside an open transaction (for
// exports and erasure).
std::vector<crm::customer::v1::Order> LoadCustomerOrders(db::Tx& tx, const std::string& tenant,
                                                         const std::string& customer_id);

class OrderStore {
 public:
  OrderStore(db::Pool& pool, api::PageTokenCodec tokens);

  // `order` must have passed ValidateOrder; `request_hash` fingerprints it.
  absl::StatusOr<crm::customer::v1::Order> Record(const server::CallScope& scope,
                                                  const crm::customer::v1::Order& order,
                                                  const std::string& request_hash);
  absl::StatusOr<crm::customer::v1::Order> Get(const server::CallScope& scope,
                                               const std::string& id);
  absl::StatusOr<crm::customer::v1::Order> UpdateStatus(
      const server::CallScope& scope, const std::string& id,
      const crm::customer::v1::UpdateOrderStatusRequest& request);
  // Upserts validated orders by order_id in one statement; `rows` are their
  // row numbers in the stream and `hashes` their fingerprints. Adds to the
  // counts and errors of `summary`.
  absl::Status ImportBatch(const server::CallScope& scope,
                           const std::vector<crm::customer::v1::Order>& orders,
                           const std::vector<int64_t>& rows, const std::vector<std::string>& hashes,
                           crm::customer::v1::ImportOrdersResponse* summary);
  // `customer_id` empty: the whole tenant.
  absl::StatusOr<crm::customer::v1::ListOrdersResponse> List(
      const server::CallScope& scope, const crm::customer::v1::ListOrdersRequest& request,
      const std::string& customer_id);
  // ExportOrders: the order book as of one REPEATABLE READ snapshot, in
  // messages of up to `batch` records handed to `emit` (false: the client
  // is gone, stop). `scope.tenant` may be server::kAllTenants.
  absl::Status Export(
      const server::CallScope& scope, int batch,
      const std::function<bool(const crm::customer::v1::ExportOrdersResponse&)>& emit);

 private:
  db::Pool& pool_;
  api::PageTokenCodec tokens_;
};

}  // namespace crm::customer
