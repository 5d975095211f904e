// A tenant's SLA policies and business-hours calendars in the `ticketing`
// schema (SlaService). Inputs arrive validated (ValidateSlaPolicy,
// CalendarOf); the store checks what needs the database: that a policy's
// calendar exists, that a calendar in use is not deleted, and etags.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/server/call.h"
#include "crm/ticketing/v1/sla_service.pb.h"

namespace crm::ticketing {

class SlaStore {
 public:
  explicit SlaStore(db::Pool& pool);

  absl::StatusOr<v1::BusinessCalendar> CreateCalendar(const server::CallScope& scope,
                                                      const v1::BusinessCalendar& calendar);
  absl::StatusOr<v1::BusinessCalendar> GetCalendar(const server::CallScope& scope,
                                                   const std::string& id);
  absl::StatusOr<v1::ListBusinessCalendarsResponse> ListCalendars(const server::CallScope& scope);
  // `calendar.name` is `calendars/{id}`.
  absl::StatusOr<v1::BusinessCalendar> UpdateCalendar(const server::CallScope& scope,
                                                      const std::string& id,
                                                      const v1::BusinessCalendar& calendar);
  absl::Status DeleteCalendar(const server::CallScope& scope, const std::string& id,
                              const std::string& etag);

  absl::StatusOr<v1::SlaPolicy> CreatePolicy(const server::CallScope& scope,
                                             const v1::SlaPolicy& policy);
  absl::StatusOr<v1::SlaPolicy> GetPolicy(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListSlaPoliciesResponse> ListPolicies(const server::CallScope& scope);
  absl::StatusOr<v1::SlaPolicy> UpdatePolicy(const server::CallScope& scope, const std::string& id,
                                             const v1::SlaPolicy& policy);
  absl::Status DeletePolicy(const server::CallScope& scope, const std::string& id,
                            const std::string& etag);

 private:
  db::Pool& pool_;
};

}  // namespace crm::ticketing
