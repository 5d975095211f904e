// Snapshot-then-stream for the customer source: the facts the service
// builds from the customer feed (orders and their lines, the order moves of
// undoable merges, customers, the currency counts) rebuilt from the
// customer service's ExportOrders snapshot, in one transaction that also
// moves the feed consumer to the snapshot's cursor. The consumer calls it
// before its first event and when the feed answers OUT_OF_RANGE (events it
// had not read were pruned), so the facts never depend on how long the
// customer service keeps its events. Reports keep answering from the old
// facts until the transaction commits.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/db/pool.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"

namespace crm::analytics {

// The consumer of the customer feed whose facts this rebuilds.
inline constexpr char kOrdersConsumer[] = "analytics.orders";

class SnapshotRebuild {
 public:
  SnapshotRebuild(db::Pool& pool,
                  std::shared_ptr<crm::customer::v1::CustomerService::StubInterface> customers);

  // Every tenant's customer facts, replaced.
  absl::Status Run();

 private:
  db::Pool& pool_;
  std::shared_ptr<crm::customer::v1::CustomerService::StubInterface> customers_;
};

}  // namespace crm::analytics
