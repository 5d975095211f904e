// TicketStore's custom ticket fields and followers (docs/ticketing.md):
// the tenant's field definitions, and the checks of a ticket's values and
// followers that need them, in the transaction of the change.
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/api/filter.h"
#include "common/api/json.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "google/protobuf/util/time_util.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_fields.h"
#include "services/ticketing/ticket_rows.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kFieldColumns[] =
    "f.key, f.display_name, f.type, array_to_string(f.options, ','), f.description, "
    "(EXTRACT(EPOCH FROM f.create_time) * 1000000)::bigint";

v1::TicketField FieldFromRow(const pqxx::row& row) {
  v1::TicketField f;
  f.set_name(absl::StrCat("ticketFields/", row[0].as<std::string>()));
  f.set_key(row[0].as<std::string>());
  f.set_display_name(row[1].as<std::string>());
  f.set_type(CustomFieldTypeOf(row[2].as<std::string>()));
  for (const std::string& o : db::SplitJoined(row[3].as<std::string>())) f.add_options(o);
  f.set_description(row[4].as<std::string>());
  *f.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  return f;
}

}  // namespace

namespace internal {

const std::map<std::string, std::string>& FieldStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"ticketing_insert_ticket_field",
       absl::StrCat("INSERT INTO ticketing.ticket_fields AS f (tenant_id, key, display_name, type, "
                    "options, description) VALUES ($1, $2, $3, $4, $5::text[], $6) ON CONFLICT "
                    "DO NOTHING RETURNING ",
                    kFieldColumns)},
      {"ticketing_count_ticket_fields",
       "SELECT count(*) FROM ticketing.ticket_fields WHERE tenant_id = $1"},
      {"ticketing_list_ticket_fields",
       absl::StrCat("SELECT ", kFieldColumns,
                    " FROM ticketing.ticket_fields f WHERE f.tenant_id = $1 ORDER BY f.key")},
      // MergeTickets: the source's ($2) followers join the target's ($3).
      {"ticketing_merge_followers",
       "UPDATE ticketing.tickets t SET followers = ARRAY(SELECT DISTINCT f FROM unnest(t.followers "
       "|| s.followers) f ORDER BY f) FROM ticketing.tickets s WHERE s.tenant_id = $1 AND s.id = "
       "$2::uuid AND t.tenant_id = $1 AND t.id = $3::uuid"},
  };
  return *statements;
}

std::string CustomFieldsJson(const v1::Ticket& ticket) {
  v1::Ticket only;
  *only.mutable_custom_fields() = ticket.custom_fields();
  return api::ToJson(only);
}

}  // namespace internal

absl::StatusOr<v1::TicketField> TicketStore::CreateField(const server::CallScope& scope,
                                                         const v1::TicketField& field) {
  v1::TicketField created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "ticketing_count_ticket_fields", scope.tenant)[0][0].as<int64_t>() >=
        kMaxTicketFields) {
      return absl::ResourceExhaustedError(
          absl::StrCat("field: a tenant has at most ", kMaxTicketFields, " ticket fields"));
    }
    auto rows = db::Exec(tx, "ticketing_insert_ticket_field", scope.tenant, field.key(),
                         field.display_name(), CustomFieldTypeText(field.type()),
                         db::TextArray({field.options().begin(), field.options().end()}),
                         field.description());
    if (rows.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("field.key: ticketFields/", field.key(), " already exists"));
    }
    created = FieldFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::ListTicketFieldsResponse> TicketStore::ListFields(
    const server::CallScope& scope) {
  v1::ListTicketFieldsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_ticket_fields", scope.tenant)) {
      *response.add_fields() = FieldFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

std::map<std::string, v1::TicketField> TicketStore::FieldsOf(db::Tx& tx,
                                                             const std::string& tenant) {
  std::map<std::string, v1::TicketField> fields;
  for (const auto& row : db::Exec(tx, "ticketing_list_ticket_fields", tenant)) {
    v1::TicketField f = FieldFromRow(row);
    fields.emplace(f.key(), std::move(f));
  }
  return fields;
}

absl::Status TicketStore::CheckFieldsAndFollowers(db::Tx& tx, const std::string& tenant,
                                                  const v1::Ticket& ticket, bool fields,
                                                  bool followers) {
  if (fields && !ticket.custom_fields().empty()) {
    CRM_RETURN_IF_ERROR(CheckCustomFieldValues(ticket.custom_fields(), FieldsOf(tx, tenant),
                                               "ticket.custom_fields"));
  }
  if (followers) {
    CRM_RETURN_IF_ERROR(routing_.CheckAgentsExist(
        tx, tenant, {ticket.followers().begin(), ticket.followers().end()}, "ticket.followers"));
  }
  return absl::OkStatus();
}

std::vector<api::FilterField> TicketStore::CustomFieldFilters(db::Tx& tx,
                                                              const std::string& tenant) {
  std::vector<api::FilterField> filters;
  for (const auto& [key, field] : FieldsOf(tx, tenant)) {
    // Keys are [a-z0-9_] (CheckFieldKey), so they are safe in SQL text.
    const std::string member =
        absl::StrCat("(t.custom_fields->'", key, "'->>'", CustomFieldMember(field.type()), "')");
    switch (field.type()) {
      case v1::CUSTOM_FIELD_TYPE_NUMBER:
        filters.emplace_back(absl::StrCat("custom_fields.", key), absl::StrCat(member, "::numeric"),
                             api::FieldType::kNumber);
        break;
      case v1::CUSTOM_FIELD_TYPE_BOOLEAN:
        filters.emplace_back(absl::StrCat("custom_fields.", key), absl::StrCat(member, "::boolean"),
                             api::FieldType::kBool);
        break;
      default:
        filters.emplace_back(absl::StrCat("custom_fields.", key), member);
        break;
    }
  }
  return filters;
}

}  // namespace crm::ticketing
