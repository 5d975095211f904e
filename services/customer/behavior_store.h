// Behavioural events: stored in bulk, one statement per call.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/server/call.h"
#include "crm/customer/v1/customer_service.pb.h"

namespace crm::customer {

class BehaviorStore {
 public:
  explicit BehaviorStore(db::Pool& pool);

  // `events` passed ValidateBehaviorEvent; `indices` are their positions in
  // the request, for rejections. Adds accepted/duplicates/rejected to
  // `response`.
  absl::Status Track(const server::CallScope& scope,
                     const std::vector<crm::customer::v1::BehaviorEvent>& events,
                     const std::vector<int>& indices,
                     crm::customer::v1::TrackEventsResponse* response);

 private:
  db::Pool& pool_;
};

}  // namespace crm::customer
