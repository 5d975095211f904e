// What the source files of TicketStore share: the columns every ticket read
// selects and the ticket such a row holds, and the statements of the
// effects of the customer feed (ticket_store_customers.cc).
#pragma once

#include <map>
#include <pqxx/row>
#include <string>

#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing::internal {

// Of `ticketing.tickets t`.
const std::string& TicketSelectColumns();
v1::Ticket TicketOf(const pqxx::row& row);
const std::map<std::string, std::string>& CustomerEffectStatements();

}  // namespace crm::ticketing::internal
