// ConversationStore's effects of the customer feed (docs/interaction.md):
// erasure removes the customer's personal data from conversations,
// messages, thread keys, contacts, events and stored responses; a merge
// re-points conversations and messages to the survivor and an unmerge puts
// exactly those back. Each runs in the consumer's transaction of the
// event's tenant, with the event's cursor (exactly once).
#include <google/protobuf/any.pb.h>

#include <pqxx/binarystring>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "crm/customer/v1/merge.pb.h"
#include "services/interaction/conversation_store.h"

namespace crm::interaction {
namespace {

constexpr char kErased[] = "[erased]";

void AppendUpdated(db::Tx& tx, const std::string& tenant, const pqxx::result& rows) {
  std::vector<v1::Conversation> conversations;
  for (const auto& row : rows) conversations.push_back(internal::ConversationOf(row));
  std::vector<events::PendingEvent> pending;
  for (const v1::Conversation& c : conversations) {
    pending.push_back({"conversation.updated", c.name(), &c});
  }
  if (!pending.empty()) events::AppendEvents(tx, kSchema, tenant, pending);
}

std::string Packed(const google::protobuf::Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any.SerializeAsString();
}

}  // namespace

namespace internal {

const std::map<std::string, std::string>& CustomerEffectStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $2 the customer: every text a message holds of them, replaced. The
      // external id stays unique per channel (it may hold an address).
      {"interaction_erase_messages",
       absl::StrCat("UPDATE interaction.messages SET from_address = '', to_address = '', subject "
                    "= '', text_body = '",
                    kErased,
                    "', html_body = '', attachments = '{}', external_id = CASE WHEN external_id "
                    "IS NULL THEN NULL ELSE 'erased:' || id::text END, in_reply_to = '', refs = "
                    "'{}', thread_id = '', delivery_reason = '', delivery_history = "
                    "jsonb_build_object('deliveryHistory', COALESCE((SELECT jsonb_agg(e - "
                    "'reason') FROM jsonb_array_elements(delivery_history->'deliveryHistory') e), "
                    "'[]'::jsonb)) WHERE tenant_id = $1 AND customer = $2")},
      // Provider errors may quote the address.
      {"interaction_erase_delivery_errors",
       "UPDATE interaction.deliveries d SET last_error = '' FROM interaction.messages m WHERE "
       "d.tenant_id = $1 AND m.tenant_id = $1 AND m.id = d.message_id AND m.customer = $2 AND "
       "d.last_error <> ''"},
      {"interaction_forget_chat_reads",
       "DELETE FROM interaction.chat_reads WHERE tenant_id = $1 AND participant = $2"},
      {"interaction_erase_conversations",
       absl::StrCat("UPDATE interaction.conversations c SET subject = '", kErased,
                    "', update_time = now(), version = c.version + 1 WHERE c.tenant_id = $1 AND "
                    "c.customer = $2 RETURNING ",
                    ConversationSelectColumns())},
      // $2 their conversations' ids.
      {"interaction_forget_thread_keys",
       "DELETE FROM interaction.thread_keys WHERE tenant_id = $1 AND conversation_id = "
       "ANY($2::uuid[])"},
      {"interaction_forget_contacts",
       "DELETE FROM interaction.contacts WHERE tenant_id = $1 AND customer = $2"},
      // Events about a conversation ($2) and its messages: payloads
      // replaced by $3 (the erased conversation) and $4 (an erased
      // message).
      {"interaction_redact_conversation_events",
       "UPDATE interaction.outbox SET payload = CASE WHEN subject = $2 THEN $3::bytea ELSE "
       "$4::bytea END WHERE tenant_id = $1 AND (subject = $2 OR subject LIKE $2 || "
       "'/messages/%')"},
      // Stored responses naming the conversation (MergeConversations).
      {"interaction_forget_conversation_responses",
       "DELETE FROM interaction.idempotency_keys WHERE tenant_id = $1 AND position(convert_to($2, "
       "'UTF8') IN response) > 0"},
      // customer.merged: $2 the merged customer, $3 the merge, $4 the
      // survivor.
      {"interaction_record_customer_moves",
       "INSERT INTO interaction.customer_moves (tenant_id, merge_id, conversation_id, "
       "from_customer) SELECT tenant_id, $3, id, customer FROM interaction.conversations WHERE "
       "tenant_id = $1 AND customer = $2 ON CONFLICT DO NOTHING"},
      {"interaction_move_customer",
       absl::StrCat("UPDATE interaction.conversations c SET customer = $3, update_time = now(), "
                    "version = c.version + 1 WHERE c.tenant_id = $1 AND c.customer = $2 "
                    "RETURNING ",
                    ConversationSelectColumns())},
      {"interaction_move_customer_messages",
       "UPDATE interaction.messages SET customer = $3 WHERE tenant_id = $1 AND customer = $2"},
      {"interaction_move_contacts",
       "UPDATE interaction.contacts SET customer = $3 WHERE tenant_id = $1 AND customer = $2"},
      // customer.unmerged: $2 the merge, $3 the survivor; conversations
      // re-pointed since stay where they are.
      {"interaction_restore_customers",
       absl::StrCat("UPDATE interaction.conversations c SET customer = m.from_customer, "
                    "update_time = now(), version = c.version + 1 FROM "
                    "interaction.customer_moves m WHERE m.tenant_id = $1 AND m.merge_id = $2 AND "
                    "c.tenant_id = m.tenant_id AND c.id = m.conversation_id AND c.customer = $3 "
                    "RETURNING ",
                    ConversationSelectColumns())},
      {"interaction_restore_customer_messages",
       "UPDATE interaction.messages x SET customer = m.from_customer FROM "
       "interaction.customer_moves m WHERE m.tenant_id = $1 AND m.merge_id = $2 AND x.tenant_id "
       "= m.tenant_id AND x.conversation_id = m.conversation_id AND x.customer = $3"},
      {"interaction_forget_customer_moves",
       "DELETE FROM interaction.customer_moves WHERE tenant_id = $1 AND merge_id = $2"},
  };
  return *statements;
}

}  // namespace internal

absl::Status ConversationStore::ApplyCustomerEvent(db::Tx& tx,
                                                   const crm::events::v1::Event& event) {
  const std::string& tenant = event.tenant();
  if (event.type() == "customer.erased") {
    const std::string& customer = event.subject();
    db::Exec(tx, "interaction_erase_messages", tenant, customer);
    db::Exec(tx, "interaction_erase_delivery_errors", tenant, customer);
    db::Exec(tx, "interaction_forget_chat_reads", tenant, customer);
    const pqxx::result rows = db::Exec(tx, "interaction_erase_conversations", tenant, customer);
    v1::Message erased_message;
    erased_message.set_text(kErased);
    const std::string message_bytes = Packed(erased_message);
    std::vector<std::string> ids;
    for (const auto& row : rows) {
      const v1::Conversation c = internal::ConversationOf(row);
      ids.push_back(c.name().substr(sizeof("conversations/") - 1));
      const std::string conversation_bytes = Packed(c);
      db::Exec(tx, "interaction_redact_conversation_events", tenant, c.name(),
               pqxx::binarystring(conversation_bytes.data(), conversation_bytes.size()),
               pqxx::binarystring(message_bytes.data(), message_bytes.size()));
      db::Exec(tx, "interaction_forget_conversation_responses", tenant, c.name());
    }
    db::Exec(tx, "interaction_forget_thread_keys", tenant, db::TextArray(ids));
    db::Exec(tx, "interaction_forget_contacts", tenant, customer);
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
      db::Exec(tx, "interaction_record_customer_moves", tenant, merge.merged(), merge.name());
      db::Exec(tx, "interaction_move_customer_messages", tenant, merge.merged(), merge.survivor());
      db::Exec(tx, "interaction_move_contacts", tenant, merge.merged(), merge.survivor());
      AppendUpdated(
          tx, tenant,
          db::Exec(tx, "interaction_move_customer", tenant, merge.merged(), merge.survivor()));
    } else {
      db::Exec(tx, "interaction_restore_customer_messages", tenant, merge.name(), merge.survivor());
      // The merged customer's addresses go back to it in the customer
      // service; they are asked again on their next message.
      db::Exec(tx, "interaction_forget_contacts", tenant, merge.survivor());
      AppendUpdated(
          tx, tenant,
          db::Exec(tx, "interaction_restore_customers", tenant, merge.name(), merge.survivor()));
      db::Exec(tx, "interaction_forget_customer_moves", tenant, merge.name());
    }
  }
  return absl::OkStatus();  // other types are not asked for
}

}  // namespace crm::interaction
