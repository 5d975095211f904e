// Conversations, their messages and thread keys in the `interaction`
// schema, tenant-scoped by row-level security; every change appends its
// event to the outbox in the same transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/page_token.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/events/v1/event_feed.pb.h"
#include "crm/interaction/v1/chat_service.pb.h"
#include "crm/interaction/v1/conversation_service.pb.h"
#include "services/interaction/conversation_domain.h"

namespace crm::interaction {

// A live chat as a participant joins it (conversation_store_chat.cc).
struct ChatState {
  v1::Conversation conversation;
  int64_t last_seq = 0;
  std::vector<v1::ChatReadState> reads;
};

struct ChatPosted {
  v1::Message message;
  bool replay = false;  // stored before under the same client id
};

// What is known of an inbound message before its transaction.
struct Receipt {
  // The stored message's id when (channel, external id) was received before.
  std::string replay_of;
  // The customer the sender's address belongs to, when remembered.
  std::string customer;
};

class ConversationStore {
 public:
  ConversationStore(db::Pool& pool, api::PageTokenCodec tokens, absl::Duration reopen_window);

  // One read: whether the message was received before, and who `contact`
  // (optional) is.
  absl::StatusOr<Receipt> Look(const server::CallScope& scope, v1::Channel channel,
                               const std::string& external_id, const ContactAddress* contact);
  // The stored message `message_id` and its conversation, as a replay.
  absl::StatusOr<v1::ReceiveMessageResponse> Replay(const server::CallScope& scope,
                                                    const std::string& message_id);
  // Stores an inbound message (validated) of `customer`, threading it, and
  // remembers `contact` (optional) as theirs. ALREADY_EXISTS when a
  // concurrent call stored the same external id first.
  absl::StatusOr<v1::ReceiveMessageResponse> Receive(const server::CallScope& scope,
                                                     const v1::ReceiveMessageRequest& request,
                                                     const std::string& customer,
                                                     const ContactAddress* contact);
  // SendMessage (conversation_store_send.cc). Before the checks: the
  // conversation to reply in and the address its customer last wrote from
  // on its channel ("" when none).
  absl::StatusOr<std::pair<v1::Conversation, std::string>> ReplyTarget(
      const server::CallScope& scope, const std::string& conversation_id);
  // The stored answer of an earlier SendMessage with `request_id`.
  absl::StatusOr<std::optional<v1::SendMessageResponse>> ReplaySend(
      const server::CallScope& scope, const std::string& request_id,
      const std::string& request_hash);
  // Queues an outbound message (request validated, `customer` active, `to`
  // normalised, consent checked): refuses a suppressed address, picks the
  // account, joins or starts the conversation, threads e-mail replies, and
  // stores the message QUEUED with its delivery.
  // The same in a transaction of `tenant` (the ticketing feed's replies).
  absl::StatusOr<v1::SendMessageResponse> SendInTx(db::Tx& tx, const std::string& tenant,
                                                   const v1::SendMessageRequest& request,
                                                   const std::string& customer, v1::Channel channel,
                                                   const ContactAddress& to,
                                                   const std::string& request_hash);
  // The text of the conversation's first message ("" for none), for the
  // ticket it opens.
  absl::StatusOr<std::string> FirstText(const server::CallScope& scope,
                                        const std::string& conversation_id);
  // The effect of a ticketing feed event (ticket.comment_added: an agent's
  // public comment on a ticket a conversation opened goes to the customer
  // on the conversation's channel), in the consumer's transaction.
  absl::Status ApplyTicketEvent(db::Tx& tx, const crm::events::v1::Event& event);
  absl::StatusOr<v1::SendMessageResponse> Send(const server::CallScope& scope,
                                               const v1::SendMessageRequest& request,
                                               const std::string& customer, v1::Channel channel,
                                               const ContactAddress& to,
                                               const std::string& request_hash);
  absl::StatusOr<v1::Conversation> Get(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListConversationsResponse> List(const server::CallScope& scope,
                                                     const v1::ListConversationsRequest& request);
  // `patch` validated for `paths`.
  absl::StatusOr<v1::Conversation> Update(const server::CallScope& scope, const std::string& id,
                                          const v1::Conversation& patch,
                                          const std::vector<std::string>& paths);
  absl::StatusOr<v1::MergeConversationsResponse> Merge(const server::CallScope& scope,
                                                       const std::string& source_id,
                                                       const std::string& target_id,
                                                       const std::string& request_id,
                                                       const std::string& request_hash);
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(const server::CallScope& scope,
                                                        const std::string& conversation_id,
                                                        const v1::ListMessagesRequest& request);
  absl::StatusOr<v1::ListTimelineResponse> ListTimeline(const server::CallScope& scope,
                                                        const v1::ListTimelineRequest& request);
  // ExportMessages: every message (without bodies) and unsubscribe of the
  // scope's tenant (or of every tenant) as of one snapshot, through `emit`.
  absl::Status Export(const server::CallScope& scope, int batch,
                      const std::function<bool(const v1::ExportMessagesResponse&)>& emit);
  // Live chat (conversation_store_chat.cc), in transactions of `tenant`
  // with a 10 s deadline (streams have none of their own).
  // The chat `conversation_id`: NOT_FOUND, or FAILED_PRECONDITION when it is
  // not a live chat or was merged.
  absl::StatusOr<ChatState> OpenChat(const std::string& tenant, const std::string& conversation_id);
  // A new LIVE_CHAT conversation of `customer` (checked active).
  absl::StatusOr<ChatState> StartChat(const std::string& tenant, const std::string& customer,
                                      const std::string& subject);
  // Stores `send` (validated) as the chat's next message, by `participant`
  // in `role`, and tells every replica (kChatChannel) on commit; a resend
  // of a client id answers the stored message.
  absl::StatusOr<ChatPosted> PostChat(const std::string& tenant, const std::string& conversation_id,
                                      v1::ChatRole role, const std::string& participant,
                                      const v1::ChatSend& send);
  // The same in `tx` (an agent's ticket comment on a chat's ticket).
  absl::StatusOr<ChatPosted> PostChatInTx(db::Tx& tx, const std::string& tenant,
                                          const std::string& conversation_id, v1::ChatRole role,
                                          const std::string& participant, const v1::ChatSend& send);
  // The chat's messages after `after_seq`, in order, at most `limit`.
  absl::StatusOr<std::vector<v1::Message>> ChatAfter(const std::string& tenant,
                                                     const std::string& conversation_id,
                                                     int64_t after_seq, int limit);
  // Records that `participant` read up to `seq` (never backwards) and tells
  // every replica.
  absl::Status MarkChatRead(const std::string& tenant, const std::string& conversation_id,
                            const std::string& participant, int64_t seq);
  // Tells every replica that `participant` is typing (nothing stored).
  absl::Status SignalTyping(const std::string& tenant, const std::string& conversation_id,
                            const std::string& participant, bool typing);

  // The effect of a customer feed event (customer.erased, customer.merged,
  // customer.unmerged) in the consumer's transaction of its tenant
  // (conversation_store_customers.cc).
  absl::Status ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event);

 private:
  // The conversation an inbound message belongs to, locked; none when it
  // starts a new one.
  absl::StatusOr<std::optional<v1::Conversation>> Thread(db::Tx& tx, const std::string& tenant,
                                                         const v1::ReceiveMessageRequest& request,
                                                         const std::string& customer);
  // `conversation`, or what it was merged into, locked.
  absl::StatusOr<v1::Conversation> FollowMerges(db::Tx& tx, const std::string& tenant,
                                                v1::Conversation conversation);

  db::Pool& pool_;
  api::PageTokenCodec tokens_;
  absl::Duration reopen_window_;
  db::Idempotency idempotency_;
};

namespace internal {
// Statements and row readers shared by the store's files.
const std::map<std::string, std::string>& CustomerEffectStatements();
const std::map<std::string, std::string>& SendStatements();
const std::map<std::string, std::string>& ChatStatements();
const std::string& ConversationSelectColumns();
const std::string& MessageSelectColumns();
v1::Conversation ConversationOf(const pqxx::row& row, int first = 0);
v1::Message MessageOf(const pqxx::row& row, int first = 0);
}  // namespace internal

}  // namespace crm::interaction
