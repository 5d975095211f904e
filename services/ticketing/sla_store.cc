#include "services/ticketing/sla_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kCalendarColumns[] =
    "c.id::text, c.display_name, c.time_zone, c.hours::text, c.holidays::text, "
    "(EXTRACT(EPOCH FROM c.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM c.update_time) * 1000000)::bigint, c.version";

constexpr char kPolicyColumns[] =
    "p.id::text, p.display_name, p.position, p.conditions::text, p.targets::text, "
    "COALESCE(p.calendar_id::text, ''), p.warn_before_min, "
    "(EXTRACT(EPOCH FROM p.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM p.update_time) * 1000000)::bigint, p.version";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"ticketing_insert_calendar",
       absl::StrCat("INSERT INTO ticketing.business_calendars AS c (tenant_id, display_name, "
                    "time_zone, hours, holidays) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) "
                    "RETURNING ",
                    kCalendarColumns)},
      {"ticketing_get_calendar",
       absl::StrCat("SELECT ", kCalendarColumns,
                    " FROM ticketing.business_calendars c WHERE c.tenant_id = $1 AND c.id = "
                    "$2::uuid")},
      {"ticketing_lock_calendar",
       absl::StrCat("SELECT ", kCalendarColumns,
                    " FROM ticketing.business_calendars c WHERE c.tenant_id = $1 AND c.id = "
                    "$2::uuid FOR UPDATE")},
      {"ticketing_list_calendars",
       absl::StrCat("SELECT ", kCalendarColumns,
                    " FROM ticketing.business_calendars c WHERE c.tenant_id = $1 ORDER BY "
                    "lower(c.display_name), c.id")},
      {"ticketing_update_calendar",
       absl::StrCat("UPDATE ticketing.business_calendars c SET display_name = $3, time_zone = "
                    "$4, hours = $5::jsonb, holidays = $6::jsonb, update_time = now(), version = "
                    "c.version + 1 WHERE c.tenant_id = $1 AND c.id = $2::uuid RETURNING ",
                    kCalendarColumns)},
      {"ticketing_delete_calendar",
       "DELETE FROM ticketing.business_calendars WHERE tenant_id = $1 AND id = $2::uuid"},
      {"ticketing_policy_using_calendar",
       "SELECT id::text FROM ticketing.sla_policies WHERE tenant_id = $1 AND calendar_id = "
       "$2::uuid ORDER BY position LIMIT 1"},
      {"ticketing_insert_policy",
       absl::StrCat("INSERT INTO ticketing.sla_policies AS p (tenant_id, display_name, position, "
                    "conditions, targets, calendar_id, warn_before_min) VALUES ($1, $2, $3, "
                    "$4::jsonb, $5::jsonb, NULLIF($6, '')::uuid, $7) RETURNING ",
                    kPolicyColumns)},
      {"ticketing_get_policy",
       absl::StrCat("SELECT ", kPolicyColumns,
                    " FROM ticketing.sla_policies p WHERE p.tenant_id = $1 AND p.id = $2::uuid")},
      {"ticketing_lock_policy",
       absl::StrCat("SELECT ", kPolicyColumns,
                    " FROM ticketing.sla_policies p WHERE p.tenant_id = $1 AND p.id = $2::uuid "
                    "FOR UPDATE")},
      {"ticketing_list_policies",
       absl::StrCat("SELECT ", kPolicyColumns,
                    " FROM ticketing.sla_policies p WHERE p.tenant_id = $1 ORDER BY p.position, "
                    "p.create_time, p.id")},
      {"ticketing_update_policy",
       absl::StrCat("UPDATE ticketing.sla_policies p SET display_name = $3, position = $4, "
                    "conditions = $5::jsonb, targets = $6::jsonb, calendar_id = NULLIF($7, "
                    "'')::uuid, warn_before_min = $8, update_time = now(), version = p.version + "
                    "1 WHERE p.tenant_id = $1 AND p.id = $2::uuid RETURNING ",
                    kPolicyColumns)},
      {"ticketing_delete_policy",
       "DELETE FROM ticketing.sla_policies WHERE tenant_id = $1 AND id = $2::uuid"},
  };
  return *statements;
}

// The parts of a calendar kept as JSON: its hours, and its holidays.
std::string HoursJson(const v1::BusinessCalendar& c) {
  v1::BusinessCalendar part;
  *part.mutable_hours() = c.hours();
  return api::ToJson(part);
}
std::string HolidaysJson(const v1::BusinessCalendar& c) {
  v1::BusinessCalendar part;
  *part.mutable_holidays() = c.holidays();
  return api::ToJson(part);
}
std::string TargetsJson(const v1::SlaPolicy& p) {
  v1::SlaPolicy part;
  *part.mutable_targets() = p.targets();
  return api::ToJson(part);
}

v1::BusinessCalendar CalendarFromRow(const pqxx::row& row) {
  v1::BusinessCalendar c;
  c.set_name(absl::StrCat("calendars/", row[0].as<std::string>()));
  c.set_display_name(row[1].as<std::string>());
  c.set_time_zone(row[2].as<std::string>());
  api::MergeJson(row[3].c_str(), &c).IgnoreError();  // written by us
  api::MergeJson(row[4].c_str(), &c).IgnoreError();
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  *c.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
  c.set_etag(api::EtagOf(row[7].as<int64_t>()));
  return c;
}

v1::SlaPolicy PolicyFromRow(const pqxx::row& row) {
  v1::SlaPolicy p;
  p.set_name(absl::StrCat("slaPolicies/", row[0].as<std::string>()));
  p.set_display_name(row[1].as<std::string>());
  p.set_position(row[2].as<int32_t>());
  api::MergeJson(row[3].c_str(), p.mutable_conditions()).IgnoreError();  // written by us
  api::MergeJson(row[4].c_str(), &p).IgnoreError();
  if (!row[5].as<std::string>().empty()) {
    p.set_calendar(absl::StrCat("calendars/", row[5].as<std::string>()));
  }
  p.set_warn_before_minutes(row[6].as<int32_t>());
  *p.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[7].as<int64_t>());
  *p.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[8].as<int64_t>());
  p.set_etag(api::EtagOf(row[9].as<int64_t>()));
  return p;
}

absl::Status CalendarNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("calendars/", id, " not found"));
}
absl::Status PolicyNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("slaPolicies/", id, " not found"));
}

// The id of a policy's calendar ('' for none); FAILED_PRECONDITION when it
// does not exist in the tenant.
absl::StatusOr<std::string> CalendarIdOf(db::Tx& tx, const std::string& tenant,
                                         const v1::SlaPolicy& policy) {
  if (policy.calendar().empty()) return std::string();
  std::string id;
  CRM_RETURN_IF_ERROR(
      api::ParseResourceName("policy.calendar", policy.calendar(), "calendars", &id));
  if (db::Exec(tx, "ticketing_get_calendar", tenant, id).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy.calendar: ", policy.calendar(), " does not exist"));
  }
  return id;
}

}  // namespace

SlaStore::SlaStore(db::Pool& pool) : pool_(pool) { pool_.Prepare(Statements()); }

absl::StatusOr<v1::BusinessCalendar> SlaStore::CreateCalendar(
    const server::CallScope& scope, const v1::BusinessCalendar& calendar) {
  v1::BusinessCalendar created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    created = CalendarFromRow(db::Exec(tx, "ticketing_insert_calendar", scope.tenant,
                                       calendar.display_name(), calendar.time_zone(),
                                       HoursJson(calendar), HolidaysJson(calendar))[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::BusinessCalendar> SlaStore::GetCalendar(const server::CallScope& scope,
                                                           const std::string& id) {
  v1::BusinessCalendar found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_get_calendar", scope.tenant, id);
    if (rows.empty()) return CalendarNotFound(id);
    found = CalendarFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListBusinessCalendarsResponse> SlaStore::ListCalendars(
    const server::CallScope& scope) {
  v1::ListBusinessCalendarsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_calendars", scope.tenant)) {
      *response.add_calendars() = CalendarFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::BusinessCalendar> SlaStore::UpdateCalendar(
    const server::CallScope& scope, const std::string& id, const v1::BusinessCalendar& calendar) {
  v1::BusinessCalendar updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_calendar", scope.tenant, id);
    if (rows.empty()) return CalendarNotFound(id);
    CRM_RETURN_IF_ERROR(
        api::CheckEtag(calendar.etag(), CalendarFromRow(rows[0]).etag(), "calendar"));
    updated = CalendarFromRow(db::Exec(tx, "ticketing_update_calendar", scope.tenant, id,
                                       calendar.display_name(), calendar.time_zone(),
                                       HoursJson(calendar), HolidaysJson(calendar))[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::Status SlaStore::DeleteCalendar(const server::CallScope& scope, const std::string& id,
                                      const std::string& etag) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_calendar", scope.tenant, id);
    if (rows.empty()) return CalendarNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, CalendarFromRow(rows[0]).etag(), "calendar"));
    auto users = db::Exec(tx, "ticketing_policy_using_calendar", scope.tenant, id);
    if (!users.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "calendars/", id, " is used by slaPolicies/", users[0][0].as<std::string>()));
    }
    db::Exec(tx, "ticketing_delete_calendar", scope.tenant, id);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::SlaPolicy> SlaStore::CreatePolicy(const server::CallScope& scope,
                                                     const v1::SlaPolicy& policy) {
  v1::SlaPolicy created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(std::string calendar_id, CalendarIdOf(tx, scope.tenant, policy));
    created =
        PolicyFromRow(db::Exec(tx, "ticketing_insert_policy", scope.tenant, policy.display_name(),
                               policy.position(), api::ToJson(policy.conditions()),
                               TargetsJson(policy), calendar_id, policy.warn_before_minutes())[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::SlaPolicy> SlaStore::GetPolicy(const server::CallScope& scope,
                                                  const std::string& id) {
  v1::SlaPolicy found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_get_policy", scope.tenant, id);
    if (rows.empty()) return PolicyNotFound(id);
    found = PolicyFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListSlaPoliciesResponse> SlaStore::ListPolicies(const server::CallScope& scope) {
  v1::ListSlaPoliciesResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_policies", scope.tenant)) {
      *response.add_policies() = PolicyFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::SlaPolicy> SlaStore::UpdatePolicy(const server::CallScope& scope,
                                                     const std::string& id,
                                                     const v1::SlaPolicy& policy) {
  v1::SlaPolicy updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_policy", scope.tenant, id);
    if (rows.empty()) return PolicyNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(policy.etag(), PolicyFromRow(rows[0]).etag(), "policy"));
    CRM_ASSIGN_OR_RETURN(std::string calendar_id, CalendarIdOf(tx, scope.tenant, policy));
    updated = PolicyFromRow(db::Exec(tx, "ticketing_update_policy", scope.tenant, id,
                                     policy.display_name(), policy.position(),
                                     api::ToJson(policy.conditions()), TargetsJson(policy),
                                     calendar_id, policy.warn_before_minutes())[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::Status SlaStore::DeletePolicy(const server::CallScope& scope, const std::string& id,
                                    const std::string& etag) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_policy", scope.tenant, id);
    if (rows.empty()) return PolicyNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, PolicyFromRow(rows[0]).etag(), "policy"));
    db::Exec(tx, "ticketing_delete_policy", scope.tenant, id);
    return absl::OkStatus();
  });
}

}  // namespace crm::ticketing
