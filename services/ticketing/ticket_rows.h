// What the source files of TicketStore share: the columns every ticket read
// selects and the ticket such a row holds, and the statements of the
// effects of the customer feed (ticket_store_customers.cc).
#pragma once

#include <map>
#include <pqxx/dbtransaction>
#include <pqxx/row>
#include <string>

#include "absl/status/statusor.h"
#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing::internal {

// Of `ticketing.tickets t`.
const std::string& TicketSelectColumns();
v1::Ticket TicketOf(const pqxx::row& row);
// Of `ticketing.ticket_comments c` (the columns ticketing_insert_comment
// returns).
v1::Comment CommentOf(const pqxx::row& row);
const std::map<std::string, std::string>& CustomerEffectStatements();
const std::map<std::string, std::string>& RoutingStatements();
const std::map<std::string, std::string>& FieldStatements();
// The ticket's custom fields as the JSON the ticket statements take
// (`{"customFields": {...}}`).
std::string CustomFieldsJson(const v1::Ticket& ticket);
// The ticket, locked for the rest of the transaction; NOT_FOUND when absent.
absl::StatusOr<v1::Ticket> LockTicketRow(pqxx::dbtransaction& tx, const std::string& tenant,
                                         const std::string& id);

}  // namespace crm::ticketing::internal
