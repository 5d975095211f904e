// ConversationStore's outbound path (SendMessage): the checks that need the
// database (suppression, account), the conversation it goes into, e-mail
// threading, and the message queued with its delivery in one transaction.
#include <google/protobuf/util/time_util.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/events/outbox.h"
#include "crm/ticketing/v1/ticket.pb.h"
#include "services/interaction/channel_account_store.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/delivery_domain.h"
#include "services/interaction/delivery_store.h"
#include "services/interaction/email_builder.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kMaxReferences = 20;

}  // namespace

namespace internal {

const std::map<std::string, std::string>& SendStatements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"interaction_last_inbound_address",
       "SELECT from_address FROM interaction.messages WHERE tenant_id = $1 AND conversation_id = "
       "$2::uuid AND direction = 'INBOUND' AND from_address <> '' ORDER BY create_time DESC "
       "LIMIT 1"},
      // The latest e-mail of the conversation with a Message-ID: a reply
      // answers it.
      {"interaction_last_threaded_email",
       "SELECT external_id, array_to_json(refs)::text, in_reply_to FROM interaction.messages "
       "WHERE tenant_id = $1 AND conversation_id = $2::uuid AND channel = 'EMAIL' AND "
       "external_id IS NOT NULL ORDER BY create_time DESC LIMIT 1"},
      // The customer's latest conversation on the channel that is still
      // open or snoozed, through any account.
      {"interaction_find_latest_open",
       absl::StrCat("SELECT ", ConversationSelectColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.customer = "
                    "$2 AND c.channel = $3 AND c.status <> 'CLOSED' AND c.merged_into IS NULL "
                    "ORDER BY c.last_message_time DESC LIMIT 1 FOR UPDATE")},
      {"interaction_first_text",
       "SELECT text_body FROM interaction.messages WHERE tenant_id = $1 AND conversation_id = "
       "$2::uuid ORDER BY create_time, id LIMIT 1"},
      // The ticketing feed: $2 a ticket, the newest conversation linked to
      // it.
      {"interaction_find_ticket_conversation",
       absl::StrCat("SELECT ", ConversationSelectColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.ticket = $2 "
                    "AND c.merged_into IS NULL ORDER BY c.create_time DESC LIMIT 1")},
      {"interaction_insert_delivery",
       "INSERT INTO interaction.deliveries (tenant_id, message_id) VALUES ($1, $2::uuid)"},
  };
  return *statements;
}

}  // namespace internal

absl::StatusOr<std::pair<v1::Conversation, std::string>> ConversationStore::ReplyTarget(
    const server::CallScope& scope, const std::string& conversation_id) {
  std::pair<v1::Conversation, std::string> target;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_get_conversation", scope.tenant, conversation_id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("conversations/", conversation_id, " not found"));
    }
    target.first = internal::ConversationOf(rows[0]);
    const auto from =
        db::Exec(tx, "interaction_last_inbound_address", scope.tenant, conversation_id);
    target.second = from.empty() ? "" : from[0][0].c_str();
    return absl::OkStatus();
  }));
  if (!target.first.merged_into().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("conversation: ", target.first.name(),
                                                      " was merged into ",
                                                      target.first.merged_into(), "; reply there"));
  }
  return target;
}

absl::StatusOr<std::optional<v1::SendMessageResponse>> ConversationStore::ReplaySend(
    const server::CallScope& scope, const std::string& request_id,
    const std::string& request_hash) {
  std::optional<v1::SendMessageResponse> replay;
  if (request_id.empty()) return replay;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    v1::SendMessageResponse stored;
    CRM_ASSIGN_OR_RETURN(bool found, idempotency_.Replay(tx, scope.tenant, "SendMessage",
                                                         request_id, request_hash, &stored));
    if (found) replay = std::move(stored);
    return absl::OkStatus();
  }));
  return replay;
}

absl::StatusOr<v1::SendMessageResponse> ConversationStore::Send(
    const server::CallScope& scope, const v1::SendMessageRequest& request,
    const std::string& customer, v1::Channel channel, const ContactAddress& to,
    const std::string& request_hash) {
  v1::SendMessageResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    CRM_ASSIGN_OR_RETURN(response,
                         SendInTx(tx, scope.tenant, request, customer, channel, to, request_hash));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::SendMessageResponse> ConversationStore::SendInTx(
    db::Tx& tx, const std::string& tenant, const v1::SendMessageRequest& request,
    const std::string& customer, v1::Channel channel, const ContactAddress& to,
    const std::string& request_hash) {
  v1::SendMessageResponse response;
  {
    CRM_ASSIGN_OR_RETURN(bool replayed,
                         idempotency_.Replay(tx, tenant, "SendMessage", request.request_id(),
                                             request_hash, &response));
    if (replayed) return response;
    if (auto reason = SuppressionOf(tx, tenant, to.kind, to.address)) {
      if (Suppresses(*reason, request.purpose())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "to: ", to.address, " is on the suppression list (", api::EnumText(*reason), "); ",
            *reason == v1::SUPPRESSION_REASON_HARD_BOUNCE ? "nothing is sent to it"
                                                          : "no marketing is sent to it"));
      }
    }
    const std::string channel_text = api::EnumText(channel);
    // The conversation: the one named, else the customer's latest open one
    // on the channel, else a new one.
    std::optional<v1::Conversation> conversation;
    if (!request.conversation().empty()) {
      const auto rows = db::Exec(tx, "interaction_lock_conversation", tenant,
                                 api::LastSegment(request.conversation()));
      if (rows.empty()) {
        return absl::NotFoundError(absl::StrCat(request.conversation(), " not found"));
      }
      conversation = internal::ConversationOf(rows[0]);
    }
    const std::string account_name = !request.channel_account().empty()
                                         ? request.channel_account()
                                         : (conversation ? conversation->channel_account() : "");
    CRM_ASSIGN_OR_RETURN(
        v1::ChannelAccount account,
        ChannelAccountStore::Resolve(tx, tenant, channel, account_name, "channel_account"));
    if (!conversation) {
      const auto rows =
          db::Exec(tx, "interaction_find_latest_open", tenant, customer, channel_text);
      if (!rows.empty()) conversation = internal::ConversationOf(rows[0]);
    }
    bool created = false;
    if (!conversation) {
      conversation = internal::ConversationOf(
          db::Exec(tx, "interaction_insert_conversation", tenant, customer, channel_text,
                   account.name(), request.subject().substr(0, 200), NewConversationToken())[0]);
      created = true;
    }
    const std::string conversation_id = api::LastSegment(conversation->name());
    // E-mail: the subject with the conversation's token, the Message-ID,
    // and the thread it answers.
    const std::string message_id = crypto::NewUuid();
    std::string subject, external_id, in_reply_to;
    std::vector<std::string> refs;
    if (channel == v1::CHANNEL_EMAIL) {
      subject = request.subject();
      if (subject.empty() && !conversation->subject().empty()) {
        subject = absl::StartsWithIgnoreCase(conversation->subject(), "re:")
                      ? conversation->subject()
                      : absl::StrCat("Re: ", conversation->subject());
      }
      subject = SubjectWithToken(subject, conversation->token());
      external_id = MessageIdFor(message_id, account.sender());
      const auto last = db::Exec(tx, "interaction_last_threaded_email", tenant, conversation_id);
      if (!last.empty()) {
        in_reply_to = last[0][0].c_str();
        v1::Message holder;
        (void)api::MergeJson(absl::StrCat("{\"references\":", last[0][1].c_str(), "}"), &holder);
        refs.assign(holder.references().begin(), holder.references().end());
        // RFC 5322 3.6.4: the parent's References, or else its In-Reply-To,
        // then the parent.
        if (refs.empty() && *last[0][2].c_str() != '\0') refs.push_back(last[0][2].c_str());
        refs.push_back(in_reply_to);
        if (refs.size() > kMaxReferences) refs.erase(refs.begin(), refs.end() - kMaxReferences);
      }
    }
    const v1::Message message = internal::MessageOf(db::Exec(
        tx, "interaction_insert_message", tenant, conversation_id, customer, channel_text,
        "OUTBOUND", api::EnumText(request.author_kind()), request.author(), account.sender(),
        to.address, subject, request.text(), request.html(), "{}", external_id, in_reply_to,
        db::TextArray(refs), "", "QUEUED", 0, api::EnumText(request.purpose()), account.name(),
        message_id, 0, request.template_())[0]);
    db::Exec(tx, "interaction_insert_delivery", tenant, message_id);
    if (!external_id.empty()) {
      db::Exec(tx, "interaction_upsert_thread_key", tenant, channel_text, external_id,
               conversation_id);
    }
    const v1::Conversation touched = internal::ConversationOf(
        db::Exec(tx, "interaction_touch_conversation", tenant, conversation_id,
                 TimeUtil::TimestampToMicroseconds(message.create_time()), false, 0)[0]);
    if (created) {
      events::AppendEvent(tx, kSchema, tenant, "conversation.created", touched.name(), touched);
    }
    *response.mutable_message() = message;
    *response.mutable_conversation() = touched;
    idempotency_.Store(tx, tenant, "SendMessage", request.request_id(), request_hash, response);
  }
  return response;
}

absl::StatusOr<std::string> ConversationStore::FirstText(const server::CallScope& scope,
                                                         const std::string& conversation_id) {
  std::string text;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_first_text", scope.tenant, conversation_id);
    text = rows.empty() ? "" : rows[0][0].c_str();
    return absl::OkStatus();
  }));
  return text;
}

absl::Status ConversationStore::ApplyTicketEvent(db::Tx& tx, const crm::events::v1::Event& event) {
  if (event.type() != "ticket.comment_added") return absl::OkStatus();
  crm::ticketing::v1::Comment comment;
  if (!event.payload().UnpackTo(&comment)) {
    return absl::InvalidArgumentError(
        absl::StrCat(event.type(), " ", event.cursor(), ": payload is not a Comment"));
  }
  // Only what an agent says to the customer: not notes, not the customer's
  // own messages this service handed over.
  if (!comment.public_() || comment.author_kind() != crm::ticketing::v1::AUTHOR_KIND_AGENT) {
    return absl::OkStatus();
  }
  const std::string& tenant = event.tenant();
  const std::string ticket = comment.name().substr(0, comment.name().find("/comments/"));
  const auto rows = db::Exec(tx, "interaction_find_ticket_conversation", tenant, ticket);
  if (rows.empty()) return absl::OkStatus();  // the ticket came from elsewhere
  const v1::Conversation conversation = internal::ConversationOf(rows[0]);
  if (conversation.channel() == v1::CHANNEL_LIVE_CHAT) {
    // Into the chat, where the customer's stream (on any replica) gets it.
    v1::ChatSend send;
    send.set_client_message_id(absl::StrCat("ticket-comment-", api::LastSegment(comment.name())));
    send.set_text(comment.body());
    auto posted = PostChatInTx(tx, tenant, api::LastSegment(conversation.name()),
                               v1::CHAT_ROLE_AGENT, comment.author().substr(0, 200), send);
    if (absl::IsFailedPrecondition(posted.status())) {
      log::Warning("ticket comment not posted to the chat",
                   {{"ticket", ticket}, {"reason", std::string(posted.status().message())}});
      return absl::OkStatus();
    }
    return posted.status();
  }
  if (conversation.channel() != v1::CHANNEL_EMAIL && conversation.channel() != v1::CHANNEL_SMS &&
      conversation.channel() != v1::CHANNEL_WHATSAPP) {
    return absl::OkStatus();  // no sending on this channel yet
  }
  const auto from = db::Exec(tx, "interaction_last_inbound_address", tenant,
                             api::LastSegment(conversation.name()));
  if (from.empty()) return absl::OkStatus();  // nobody to answer
  auto to = ContactOf(conversation.channel(), from[0][0].c_str(), "to");
  if (!to.ok()) return absl::OkStatus();
  v1::SendMessageRequest request;
  request.set_conversation(conversation.name());
  request.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  request.set_author_kind(v1::AUTHOR_KIND_AGENT);
  request.set_author(comment.author().substr(0, 200));
  request.set_text(comment.body());
  request.set_request_id(absl::StrCat("ticket-comment-", api::LastSegment(ticket), "-",
                                      api::LastSegment(comment.name())));
  auto sent = SendInTx(tx, tenant, request, conversation.customer(), conversation.channel(), *to,
                       api::RequestFingerprint(request));
  if (absl::IsFailedPrecondition(sent.status())) {
    // Suppressed, or no account for the channel: the comment stays on the
    // ticket; nothing is sent.
    log::Warning("ticket comment not sent",
                 {{"ticket", ticket}, {"reason", std::string(sent.status().message())}});
    return absl::OkStatus();
  }
  return sent.status();
}

}  // namespace crm::interaction
