// ConversationStore's live chat: the chat's numbering (chat_seq under the
// conversation's row lock, so numbers follow commit order), idempotent
// posting by client id, read receipts, and the notifications that carry
// both to every replica.
#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/interaction/chat_domain.h"
#include "services/interaction/conversation_store.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;

db::TxOptions ChatTx(const std::string& tenant, bool read_only) {
  db::TxOptions options;
  options.tenant = tenant;
  options.read_only = read_only;
  options.deadline = absl::Now() + absl::Seconds(10);
  return options;
}

absl::Status CheckIsOpenChat(const v1::Conversation& c) {
  if (c.channel() != v1::CHANNEL_LIVE_CHAT) {
    return absl::FailedPreconditionError(
        absl::StrCat("join.conversation: ", c.name(), " is not a live chat"));
  }
  if (!c.merged_into().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "join.conversation: ", c.name(), " was merged into ", c.merged_into(), "; join that one"));
  }
  return absl::OkStatus();
}

void Notify(db::Tx& tx, const ChatSignal& signal) {
  db::Exec(tx, "interaction_chat_notify", kChatChannel, EncodeChatSignal(signal));
}

}  // namespace

namespace internal {

const std::map<std::string, std::string>& ChatStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // $2 conversation; $3 whether to lock it.
      {"interaction_chat_conversation",
       absl::StrCat(
           "SELECT c.chat_seq, ", ConversationSelectColumns(),
           " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.id = $2::uuid")},
      {"interaction_chat_lock",
       absl::StrCat("SELECT c.chat_seq, ", ConversationSelectColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.id = $2::uuid "
                    "FOR UPDATE")},
      {"interaction_chat_reads",
       "SELECT participant, seq FROM interaction.chat_reads WHERE tenant_id = $1 AND "
       "conversation_id = $2::uuid ORDER BY participant"},
      // $2 the message's external id.
      {"interaction_chat_find",
       absl::StrCat("SELECT ", MessageSelectColumns(),
                    " FROM interaction.messages m WHERE m.tenant_id = $1 AND m.channel = "
                    "'LIVE_CHAT' AND m.external_id = $2")},
      // $3 after, $4 limit.
      {"interaction_chat_after",
       absl::StrCat("SELECT ", MessageSelectColumns(),
                    " FROM interaction.messages m WHERE m.tenant_id = $1 AND m.conversation_id = "
                    "$2::uuid AND m.chat_seq > $3::bigint ORDER BY m.chat_seq LIMIT $4::int")},
      {"interaction_chat_mark_read",
       "INSERT INTO interaction.chat_reads AS r (tenant_id, conversation_id, participant, seq) "
       "VALUES ($1, $2::uuid, $3, $4::bigint) ON CONFLICT (tenant_id, conversation_id, "
       "participant) DO UPDATE SET seq = GREATEST(r.seq, EXCLUDED.seq), update_time = now() "
       "RETURNING seq"},
      {"interaction_chat_notify", "SELECT pg_notify($1, $2)"},
  };
  return *statements;
}

}  // namespace internal

absl::StatusOr<ChatState> ConversationStore::OpenChat(const std::string& tenant,
                                                      const std::string& conversation_id) {
  ChatState state;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, ChatTx(tenant, true), [&](db::Tx& tx) {
    state = ChatState();
    auto rows = db::Exec(tx, "interaction_chat_conversation", tenant, conversation_id);
    if (rows.empty()) {
      return absl::NotFoundError(
          absl::StrCat("join.conversation: conversations/", conversation_id, " not found"));
    }
    state.last_seq = rows[0][0].as<int64_t>();
    state.conversation = internal::ConversationOf(rows[0], 1);
    CRM_RETURN_IF_ERROR(CheckIsOpenChat(state.conversation));
    for (const auto& row : db::Exec(tx, "interaction_chat_reads", tenant, conversation_id)) {
      v1::ChatReadState read;
      read.set_participant(row[0].c_str());
      read.set_seq(row[1].as<int64_t>());
      state.reads.push_back(std::move(read));
    }
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<ChatState> ConversationStore::StartChat(const std::string& tenant,
                                                       const std::string& customer,
                                                       const std::string& subject) {
  ChatState state;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, ChatTx(tenant, false), [&](db::Tx& tx) {
    state = ChatState();
    state.conversation =
        internal::ConversationOf(db::Exec(tx, "interaction_insert_conversation", tenant, customer,
                                          "LIVE_CHAT", "", subject, NewConversationToken())[0]);
    events::AppendEvent(tx, kSchema, tenant, "conversation.created", state.conversation.name(),
                        state.conversation);
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<ChatPosted> ConversationStore::PostChat(const std::string& tenant,
                                                       const std::string& conversation_id,
                                                       v1::ChatRole role,
                                                       const std::string& participant,
                                                       const v1::ChatSend& send) {
  ChatPosted posted;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, ChatTx(tenant, false), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(posted,
                         PostChatInTx(tx, tenant, conversation_id, role, participant, send));
    return absl::OkStatus();
  }));
  return posted;
}

absl::StatusOr<ChatPosted> ConversationStore::PostChatInTx(db::Tx& tx, const std::string& tenant,
                                                           const std::string& conversation_id,
                                                           v1::ChatRole role,
                                                           const std::string& participant,
                                                           const v1::ChatSend& send) {
  ChatPosted posted;
  {
    // The row lock orders the chat: the next number is taken only after
    // the previous message committed.
    auto rows = db::Exec(tx, "interaction_chat_lock", tenant, conversation_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("conversations/", conversation_id, " not found"));
    }
    const int64_t seq = rows[0][0].as<int64_t>() + 1;
    const v1::Conversation conversation = internal::ConversationOf(rows[0], 1);
    CRM_RETURN_IF_ERROR(CheckIsOpenChat(conversation));
    const std::string external_id = ChatExternalId(conversation_id, send.client_message_id());
    auto existing = db::Exec(tx, "interaction_chat_find", tenant, external_id);
    if (!existing.empty()) {
      posted.message = internal::MessageOf(existing[0]);
      posted.replay = true;
      return posted;
    }
    const bool inbound = role == v1::CHAT_ROLE_CUSTOMER;
    posted.message = internal::MessageOf(db::Exec(
        tx, "interaction_insert_message", tenant, conversation_id, conversation.customer(),
        "LIVE_CHAT", inbound ? "INBOUND" : "OUTBOUND", inbound ? "CUSTOMER" : "AGENT", participant,
        "", "", "", send.text(), "", "{}", external_id, "", "{}", "",
        inbound ? "RECEIVED" : "DELIVERED", 0, inbound ? "" : "TRANSACTIONAL", "", "", seq, "")[0]);
    const bool wakes = inbound && conversation.status() != v1::CONVERSATION_STATUS_OPEN;
    const v1::Conversation touched = internal::ConversationOf(
        db::Exec(tx, "interaction_touch_conversation", tenant, conversation_id,
                 TimeUtil::TimestampToMicroseconds(posted.message.create_time()), inbound, seq)[0]);
    std::vector<events::PendingEvent> pending;
    if (wakes) pending.push_back({"conversation.updated", touched.name(), &touched});
    pending.push_back(
        {inbound ? "message.received" : "message.sent", posted.message.name(), &posted.message});
    events::AppendEvents(tx, kSchema, tenant, pending);
    ChatSignal signal;
    signal.tenant = tenant;
    signal.conversation_id = conversation_id;
    signal.seq = seq;
    Notify(tx, signal);
  }
  return posted;
}

absl::StatusOr<std::vector<v1::Message>> ConversationStore::ChatAfter(
    const std::string& tenant, const std::string& conversation_id, int64_t after_seq, int limit) {
  std::vector<v1::Message> messages;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, ChatTx(tenant, true), [&](db::Tx& tx) {
    messages.clear();
    for (const auto& row :
         db::Exec(tx, "interaction_chat_after", tenant, conversation_id, after_seq, limit)) {
      messages.push_back(internal::MessageOf(row));
    }
    return absl::OkStatus();
  }));
  return messages;
}

absl::Status ConversationStore::MarkChatRead(const std::string& tenant,
                                             const std::string& conversation_id,
                                             const std::string& participant, int64_t seq) {
  return db::RunInTransaction(pool_, ChatTx(tenant, false), [&](db::Tx& tx) {
    ChatSignal signal;
    signal.kind = ChatSignal::Kind::kRead;
    signal.tenant = tenant;
    signal.conversation_id = conversation_id;
    signal.participant = participant;
    signal.seq =
        db::Exec(tx, "interaction_chat_mark_read", tenant, conversation_id, participant, seq)[0][0]
            .as<int64_t>();
    Notify(tx, signal);
    return absl::OkStatus();
  });
}

absl::Status ConversationStore::SignalTyping(const std::string& tenant,
                                             const std::string& conversation_id,
                                             const std::string& participant, bool typing) {
  return db::RunInTransaction(pool_, ChatTx(tenant, false), [&](db::Tx& tx) {
    ChatSignal signal;
    signal.kind = ChatSignal::Kind::kTyping;
    signal.tenant = tenant;
    signal.conversation_id = conversation_id;
    signal.participant = participant;
    signal.typing = typing;
    Notify(tx, signal);
    return absl::OkStatus();
  });
}

}  // namespace crm::interaction
