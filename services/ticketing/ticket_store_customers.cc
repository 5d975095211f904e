// TicketStore's effects of the customer feed (docs/ticketing.md): erasure
// removes the customer's personal data from tickets, comments, events and
// stored responses; a merge re-points tickets to the survivor and an
// unmerge puts exactly those back. Each runs in the consumer's transaction
// of the event's tenant, with the event's cursor (exactly once).
#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/time_util.h>

#include <pqxx/binarystring>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "crm/customer/v1/merge.pb.h"
#include "crm/interaction/v1/conversation.pb.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_rows.h"
#include "services/ticketing/ticket_store.h"

namespace crm::ticketing {
namespace {

constexpr char kErased[] = "[erased]";

// The tickets after the change, each as `ticket.updated`.
void AppendUpdated(db::Tx& tx, const std::string& tenant, const pqxx::result& rows) {
  std::vector<v1::Ticket> tickets;
  for (const auto& row : rows) tickets.push_back(internal::TicketOf(row));
  std::vector<events::PendingEvent> pending;
  for (const v1::Ticket& t : tickets) pending.push_back({"ticket.updated", t.name(), &t});
  if (!pending.empty()) events::AppendEvents(tx, kSchema, tenant, pending);
}

}  // namespace

namespace internal {

const std::map<std::string, std::string>& CustomerEffectStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $2 the requester: what a ticket holds of them, replaced.
      {"ticketing_erase_requester_tickets",
       absl::StrCat("UPDATE ticketing.tickets t SET subject = '", kErased,
                    "', description = '', requester_tags = '{}', custom_fields = '{}', "
                    "satisfaction = t.satisfaction - 'comment', update_time = now(), version = "
                    "t.version + 1 WHERE t.tenant_id = "
                    "$1 AND t.requester = $2 RETURNING ",
                    TicketSelectColumns())},
      // $2 their tickets' ids, $3 the requester (their comments elsewhere).
      {"ticketing_erase_comments",
       absl::StrCat("UPDATE ticketing.ticket_comments SET body = '", kErased,
                    "', attachments = '{}' WHERE tenant_id = $1 AND (ticket_id = ANY($2::uuid[]) "
                    "OR author = $3)")},
      // Events about a ticket ($2) and its comments: payloads replaced by
      // $3 (the erased ticket) and $4 (an erased comment).
      {"ticketing_redact_ticket_events",
       "UPDATE ticketing.outbox SET payload = CASE WHEN subject = $2 THEN $3::bytea ELSE "
       "$4::bytea END WHERE tenant_id = $1 AND (subject = $2 OR subject LIKE $2 || "
       "'/comments/%')"},
      // Stored responses of CreateTicket and AddComment naming the ticket.
      {"ticketing_forget_ticket_responses",
       "DELETE FROM ticketing.idempotency_keys WHERE tenant_id = $1 AND position(convert_to($2, "
       "'UTF8') IN response) > 0"},
      // customer.merged: $2 the merged customer, $3 the merge; then
      // ticketing_move_requester to the survivor ($3).
      {"ticketing_record_requester_moves",
       "INSERT INTO ticketing.requester_moves (tenant_id, merge_id, ticket_id, from_requester) "
       "SELECT tenant_id, $3, id, requester FROM ticketing.tickets WHERE tenant_id = $1 AND "
       "requester = $2 ON CONFLICT DO NOTHING"},
      {"ticketing_move_requester",
       absl::StrCat("UPDATE ticketing.tickets t SET requester = $3, update_time = now(), version "
                    "= t.version + 1 WHERE t.tenant_id = $1 AND t.requester = $2 RETURNING ",
                    TicketSelectColumns())},
      // customer.unmerged: $2 the merge, $3 the survivor; tickets that were
      // re-pointed since stay where they are.
      {"ticketing_restore_requesters",
       absl::StrCat("UPDATE ticketing.tickets t SET requester = m.from_requester, update_time = "
                    "now(), version = t.version + 1 FROM ticketing.requester_moves m WHERE "
                    "m.tenant_id = $1 AND m.merge_id = $2 AND t.tenant_id = m.tenant_id AND t.id "
                    "= m.ticket_id AND t.requester = $3 RETURNING ",
                    TicketSelectColumns())},
      // The interaction feed: $2 a conversation, the newest ticket it opened
      // that still takes comments, if it was opened before the message ($3,
      // microseconds): a message the ticket started from is its
      // description, not a comment, however late the feed delivers it.
      {"ticketing_find_conversation_ticket",
       "SELECT id::text FROM ticketing.tickets WHERE tenant_id = $1 AND source_conversation = $2 "
       "AND status <> 'CLOSED' AND merged_into IS NULL AND create_time < 'epoch'::timestamptz + "
       "$3::bigint * interval '1 microsecond' ORDER BY create_time DESC LIMIT 1"},
      {"ticketing_forget_requester_moves",
       "DELETE FROM ticketing.requester_moves WHERE tenant_id = $1 AND merge_id = $2"},
  };
  return *statements;
}

}  // namespace internal

absl::Status TicketStore::ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  const std::string& tenant = event.tenant();
  if (event.type() == "customer.erased") {
    const std::string& customer = event.subject();
    const pqxx::result rows = db::Exec(tx, "ticketing_erase_requester_tickets", tenant, customer);
    std::vector<std::string> ids;
    google::protobuf::Any comment_payload;
    v1::Comment erased_comment;
    erased_comment.set_body(kErased);
    comment_payload.PackFrom(erased_comment);
    const std::string comment_bytes = comment_payload.SerializeAsString();
    for (const auto& row : rows) {
      const v1::Ticket t = internal::TicketOf(row);
      ids.push_back(t.name().substr(sizeof("tickets/") - 1));
      google::protobuf::Any ticket_payload;
      ticket_payload.PackFrom(t);
      const std::string ticket_bytes = ticket_payload.SerializeAsString();
      db::Exec(tx, "ticketing_redact_ticket_events", tenant, t.name(),
               pqxx::binarystring(ticket_bytes.data(), ticket_bytes.size()),
               pqxx::binarystring(comment_bytes.data(), comment_bytes.size()));
      db::Exec(tx, "ticketing_forget_ticket_responses", tenant, t.name());
    }
    db::Exec(tx, "ticketing_erase_comments", tenant, db::TextArray(ids), customer);
    AppendUpdated(tx, tenant, rows);
    return absl::OkStatus();
  }
  if (event.type() == "customer.merged" || event.type() == "customer.unmerged") {
    crm::customer::v1::MergeRecord merge;
    if (!event.payload().UnpackTo(&merge) || merge.survivor().empty() || merge.merged().empty() ||
        merge.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(event.type(), " ", event.cursor(), ": payload is not a MergeRecord"));
    }
    if (event.type() == "customer.merged") {
      db::Exec(tx, "ticketing_record_requester_moves", tenant, merge.merged(), merge.name());
      AppendUpdated(
          tx, tenant,
          db::Exec(tx, "ticketing_move_requester", tenant, merge.merged(), merge.survivor()));
    } else {
      AppendUpdated(
          tx, tenant,
          db::Exec(tx, "ticketing_restore_requesters", tenant, merge.name(), merge.survivor()));
      db::Exec(tx, "ticketing_forget_requester_moves", tenant, merge.name());
    }
  }
  return absl::OkStatus();  // other types are not asked for
}

absl::Status TicketStore::ApplyInteractionEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  if (event.type() != "message.received") return absl::OkStatus();
  crm::interaction::v1::Message message;
  if (!event.payload().UnpackTo(&message)) {
    return absl::InvalidArgumentError(
        absl::StrCat(event.type(), " ", event.cursor(), ": payload is not a Message"));
  }
  const std::string conversation = message.name().substr(0, message.name().find("/messages/"));
  const auto rows =
      db::Exec(tx, "ticketing_find_conversation_ticket", event.tenant(), conversation,
               google::protobuf::util::TimeUtil::TimestampToMicroseconds(message.create_time()));
  if (rows.empty()) return absl::OkStatus();  // no open ticket came from it
  v1::Comment comment;
  comment.set_author_kind(v1::AUTHOR_KIND_CUSTOMER);
  comment.set_author(message.customer());
  comment.set_body(message.text().empty() ? "(a message without text)" : message.text());
  comment.set_public_(true);
  for (const auto& a : message.attachments()) {
    v1::Attachment* out = comment.add_attachments();
    out->set_file_name(a.filename());
    out->set_content_type(a.content_type());
    out->set_size_bytes(a.size_bytes());
    out->set_uri(a.url());
  }
  return AddCommentInTx(tx, event.tenant(), rows[0][0].c_str(), comment).status();
}

}  // namespace crm::ticketing
