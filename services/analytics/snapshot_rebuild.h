// Snapshot-then-stream for the three sources analytics follows: what the
// service builds from a producer's feed rebuilt from that producer's
// snapshot export, in one transaction that also moves the feed consumer
// to the snapshot's cursor (events::LoadSnapshot). Each consumer calls its
// rebuild before its first event and when the feed answers OUT_OF_RANGE
// (events it had not read were pruned), so the facts never depend on how
// long a producer keeps its events. Reports keep answering from the old
// facts until the transaction commits.
//   customer (ExportOrders): orders and their lines, the order moves of
//     undoable merges, customers, currency counts, customer summaries;
//   ticketing (ExportTickets): tickets with CSAT, SLA outcomes, breaches;
//   interaction (ExportMessages): messages with the delivery steps they
//     reached, unsubscribes.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/db/pool.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/analytics/activity_store.h"

namespace crm::analytics {

// The consumers of the three feeds, whose facts these rebuild.
inline constexpr char kOrdersConsumer[] = "analytics.orders";
inline constexpr char kSupportConsumer[] = "analytics.support";
inline constexpr char kEngagementConsumer[] = "analytics.engagement";

class SnapshotRebuild {
 public:
  SnapshotRebuild(db::Pool& pool, ActivityStore& activity);

  // Every tenant's facts from one source, replaced.
  absl::Status Orders(crm::customer::v1::CustomerService::StubInterface& customers);
  absl::Status Support(crm::ticketing::v1::TicketService::StubInterface& tickets);
  absl::Status Engagement(crm::interaction::v1::ConversationService::StubInterface& conversations);

 private:
  db::Pool& pool_;
  ActivityStore& activity_;
};

}  // namespace crm::analytics
