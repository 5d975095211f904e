#include "services/interaction/conversation_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/filter.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/events/outbox.h"
#include "common/server/snapshot_export.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;
using v1::Conversation;
using v1::Message;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kDefaultMessagePageSize = 100;
constexpr int kMaxMessagePageSize = 1000;

std::string Micros(absl::string_view column) {
  return absl::StrCat("(EXTRACT(EPOCH FROM ", column, ") * 1000000)::bigint");
}

// Columns every conversation read selects from `interaction.conversations
// c`, in the order ConversationOf expects.
const std::string& ConversationColumns() {
  static const auto* columns = new std::string(absl::StrCat(
      "c.id::text, c.customer, c.channel, c.channel_account, c.subject, c.status, ",
      Micros("c.snooze_until_time"), ", c.assignee, array_to_string(c.labels, ','), c.ticket, ",
      "c.token, c.message_count, ", Micros("c.create_time"), ", ", Micros("c.update_time"), ", ",
      Micros("c.last_message_time"), ", ", Micros("c.close_time"),
      ", COALESCE(c.merged_into::text, ''), c.version"));
  return *columns;
}

// The same for `interaction.messages m` and MessageOf. Attachments, the
// delivery history and the references travel as one JSON object that
// api::MergeJson reads into the message.
const std::string& MessageColumns() {
  static const auto* columns = new std::string(absl::StrCat(
      "m.id::text, m.conversation_id::text, m.customer, m.channel, m.direction, m.author_kind, "
      "m.author, m.from_address, m.to_address, m.subject, m.text_body, m.html_body, "
      "(m.attachments || m.delivery_history || jsonb_build_object('references', m.refs))::text, "
      "COALESCE(m.external_id, ''), m.in_reply_to, m.thread_id, m.delivery_status, "
      "m.delivery_reason, ",
      Micros("m.sent_time"), ", ", Micros("m.create_time"), ", m.purpose, m.attempts, ",
      "m.channel_account, COALESCE(m.chat_seq, 0), m.template"));
  return *columns;
}
constexpr int kMessageColumnCount = 25;

// $1 tenant, $2 id: the conversation locked.
std::string LockConversationSql() {
  return absl::StrCat("SELECT ", ConversationColumns(),
                      " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.id = "
                      "$2::uuid FOR UPDATE");
}

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // ReceiveMessage's first read: $2 channel, $3 external id, $4/$5 the
      // sender's contact kind and address ('' for none).
      {"interaction_find_receipt",
       "SELECT (SELECT m.id::text FROM interaction.messages m WHERE m.tenant_id = $1 AND "
       "m.channel = $2 AND m.external_id = $3), (SELECT k.customer FROM interaction.contacts k "
       "WHERE k.tenant_id = $1 AND k.kind = $4 AND k.address = $5)"},
      // ExportMessages (server::kExportAfter): messages, then unsubscribes.
      {"interaction_export_messages",
       absl::StrCat("SELECT ", MessageColumns(), ", m.tenant_id FROM interaction.messages m WHERE ",
                    server::kExportAfter)},
      {"interaction_export_unsubscribes",
       absl::StrCat("SELECT m.tenant_id, m.id::text, m.conversation_id::text, m.customer, "
                    "m.channel, m.to_address, ",
                    Micros("m.unsubscribe_time"),
                    " FROM interaction.messages m WHERE m.unsubscribe_time IS NOT NULL AND ",
                    server::kExportAfter)},
      {"interaction_get_message",
       absl::StrCat("SELECT ", MessageColumns(),
                    " FROM interaction.messages m WHERE m.tenant_id = $1 AND m.id = $2::uuid")},
      {"interaction_get_conversation",
       absl::StrCat("SELECT ", ConversationColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.id = "
                    "$2::uuid")},
      {"interaction_lock_conversation", LockConversationSql()},
      // $2 channel, $3 thread keys, $4 the customer: conversations the keys
      // lead to, with the key, locked.
      {"interaction_find_thread",
       absl::StrCat("SELECT k.thread_key, ", ConversationColumns(),
                    " FROM interaction.thread_keys k JOIN interaction.conversations c ON "
                    "c.tenant_id = k.tenant_id AND c.id = k.conversation_id WHERE k.tenant_id = "
                    "$1 AND k.channel = $2 AND k.thread_key = ANY($3::text[]) AND c.customer = "
                    "$4 FOR UPDATE OF c")},
      {"interaction_find_by_token",
       absl::StrCat("SELECT ", ConversationColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.token = $2 "
                    "AND c.customer = $3 FOR UPDATE")},
      // $2 customer, $3 channel, $4 channel account: their latest
      // conversation there.
      {"interaction_find_latest",
       absl::StrCat("SELECT ", ConversationColumns(),
                    " FROM interaction.conversations c WHERE c.tenant_id = $1 AND c.customer = "
                    "$2 AND c.channel = $3 AND c.channel_account = $4 AND c.merged_into IS NULL "
                    "ORDER BY c.last_message_time DESC LIMIT 1 FOR UPDATE")},
      {"interaction_insert_conversation",
       absl::StrCat("INSERT INTO interaction.conversations AS c (tenant_id, customer, channel, "
                    "channel_account, subject, token) VALUES ($1, $2, $3, $4, $5, $6) "
                    "RETURNING ",
                    ConversationColumns())},
      // $2 conversation, then the message's columns; $18 its delivery
      // status (the first step of its history), $19 sent_time in
      // microseconds (0 for now), $20 purpose, $21 channel account, $22 its
      // id ('' for a new one), $23 its place in a live chat (0: none), $24
      // the template it was rendered from ('' for none).
      {"interaction_insert_message",
       absl::StrCat(
           "INSERT INTO interaction.messages AS m (tenant_id, conversation_id, customer, "
           "channel, direction, author_kind, author, from_address, to_address, subject, "
           "text_body, html_body, attachments, external_id, in_reply_to, refs, thread_id, "
           "delivery_status, delivery_history, sent_time, purpose, channel_account, id, chat_seq, "
           "template) "
           "VALUES "
           "($1, $2::uuid, $3, $4, $5, $6, "
           "$7, $8, $9, $10, $11, $12, $13::jsonb, NULLIF($14, ''), $15, $16::text[], $17, $18, "
           "jsonb_build_object('deliveryHistory', jsonb_build_array(jsonb_build_object('status', "
           "'DELIVERY_STATUS_' || $18::text, 'time', to_char(clock_timestamp() AT TIME ZONE 'UTC', "
           "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))), CASE WHEN $19::bigint = 0 THEN "
           "clock_timestamp() ELSE 'epoch'::timestamptz + $19::bigint * interval '1 "
           "microsecond' END, $20, $21, COALESCE(NULLIF($22, '')::uuid, gen_random_uuid()), "
           "NULLIF($23::bigint, 0), $24) "
           "RETURNING ",
           MessageColumns())},
      // After a message: $3 its time (microseconds), $4 whether it opens
      // the conversation (an inbound message wakes a snoozed or closed one),
      // $5 its chat_seq (0 outside live chat).
      {"interaction_touch_conversation",
       absl::StrCat("UPDATE interaction.conversations c SET message_count = c.message_count + "
                    "1, last_message_time = GREATEST(c.last_message_time, 'epoch'::timestamptz "
                    "+ $3::bigint * interval '1 microsecond'), update_time = now(), version = "
                    "c.version + 1, status = CASE WHEN $4::boolean THEN 'OPEN' ELSE c.status "
                    "END, snooze_until_time = CASE WHEN $4::boolean THEN NULL ELSE "
                    "c.snooze_until_time END, chat_seq = GREATEST(c.chat_seq, $5::bigint) WHERE "
                    "c.tenant_id = $1 AND c.id = $2::uuid RETURNING ",
                    ConversationColumns())},
      // $2 channel, $3 key, $4 conversation: a key leads to the conversation
      // that last used it.
      {"interaction_upsert_thread_key",
       "INSERT INTO interaction.thread_keys (tenant_id, channel, thread_key, conversation_id) "
       "VALUES ($1, $2, $3, $4::uuid) ON CONFLICT (tenant_id, channel, thread_key) DO UPDATE SET "
       "conversation_id = EXCLUDED.conversation_id"},
      {"interaction_remember_contact",
       "INSERT INTO interaction.contacts (tenant_id, kind, address, customer) VALUES ($1, $2, "
       "$3, $4) ON CONFLICT (tenant_id, kind, address) DO UPDATE SET customer = "
       "EXCLUDED.customer"},
      // UpdateConversation: every updatable field as changed.
      {"interaction_update_conversation",
       absl::StrCat(
           "UPDATE interaction.conversations c SET subject = $3, status = $4, snooze_until_time "
           "= CASE WHEN $5::bigint = 0 THEN NULL ELSE 'epoch'::timestamptz + $5::bigint * "
           "interval '1 microsecond' END, assignee = $6, labels = $7::text[], ticket = $8, "
           "close_time = CASE WHEN $4 = 'CLOSED' AND c.status <> 'CLOSED' THEN now() WHEN $4 <> "
           "'CLOSED' THEN NULL ELSE c.close_time END, update_time = now(), version = c.version "
           "+ 1 WHERE c.tenant_id = $1 AND c.id = $2::uuid RETURNING ",
           ConversationColumns())},
      // MergeConversations: $2 source, $3 target.
      {"interaction_move_messages",
       "UPDATE interaction.messages SET conversation_id = $3::uuid, chat_seq = NULL WHERE "
       "tenant_id = $1 AND conversation_id = $2::uuid"},
      {"interaction_move_thread_keys",
       "UPDATE interaction.thread_keys SET conversation_id = $3::uuid WHERE tenant_id = $1 AND "
       "conversation_id = $2::uuid"},
      // $4 messages moved, $5 the source's last message time (microseconds).
      {"interaction_absorb_conversation",
       absl::StrCat("UPDATE interaction.conversations c SET message_count = c.message_count + "
                    "$4::bigint, last_message_time = GREATEST(c.last_message_time, "
                    "'epoch'::timestamptz + $5::bigint * interval '1 microsecond'), update_time "
                    "= now(), version = c.version + 1 WHERE c.tenant_id = $1 AND c.id = $3::uuid "
                    "AND c.id <> $2::uuid RETURNING ",
                    ConversationColumns())},
      {"interaction_close_merged",
       absl::StrCat("UPDATE interaction.conversations c SET status = 'CLOSED', close_time = "
                    "COALESCE(c.close_time, now()), snooze_until_time = NULL, merged_into = "
                    "$3::uuid, message_count = 0, update_time = now(), version = c.version + 1 "
                    "WHERE c.tenant_id = $1 AND c.id = $2::uuid RETURNING ",
                    ConversationColumns())},
      // $3 the last (create_time, id) of the previous page, or none.
      {"interaction_list_messages",
       absl::StrCat("SELECT ", MessageColumns(),
                    " FROM interaction.messages m WHERE m.tenant_id = $1 AND m.conversation_id = "
                    "$2::uuid AND ($3 = '' OR (m.create_time, m.id) > ('epoch'::timestamptz + "
                    "NULLIF($3, '')::bigint * interval '1 microsecond', NULLIF($4, '')::uuid)) "
                    "ORDER BY m.create_time, m.id LIMIT $5::int")},
  };
  return *statements;
}

template <typename Row>
google::protobuf::Timestamp MicrosAt(const Row& row, int i) {
  int64_t value = 0;
  absl::SimpleAtoi(row[i].c_str(), &value);
  return TimeUtil::MicrosecondsToTimestamp(value);
}

template <typename Row>
Conversation ConversationFromRow(const Row& row, int f = 0) {
  const auto text = [&row, f](int i) { return std::string(row[f + i].c_str()); };
  const auto set = [&row, f](int i) { return !row[f + i].is_null(); };
  Conversation c;
  c.set_name(absl::StrCat("conversations/", text(0)));
  c.set_customer(text(1));
  c.set_channel(api::EnumOf<v1::Channel>(text(2)));
  c.set_channel_account(text(3));
  c.set_subject(text(4));
  c.set_status(api::EnumOf<v1::ConversationStatus>(text(5)));
  if (set(6)) *c.mutable_snooze_until_time() = MicrosAt(row, f + 6);
  c.set_assignee(text(7));
  for (std::string& label : db::SplitJoined(text(8))) c.add_labels(std::move(label));
  c.set_ticket(text(9));
  c.set_token(text(10));
  c.set_message_count(row[f + 11].template as<int64_t>());
  *c.mutable_create_time() = MicrosAt(row, f + 12);
  *c.mutable_update_time() = MicrosAt(row, f + 13);
  *c.mutable_last_message_time() = MicrosAt(row, f + 14);
  if (set(15)) *c.mutable_close_time() = MicrosAt(row, f + 15);
  if (!text(16).empty()) c.set_merged_into(absl::StrCat("conversations/", text(16)));
  c.set_etag(api::EtagOf(row[f + 17].template as<int64_t>()));
  return c;
}

template <typename Row>
Message MessageFromRow(const Row& row, int f = 0) {
  const auto text = [&row, f](int i) { return std::string(row[f + i].c_str()); };
  Message m;
  m.set_name(absl::StrCat("conversations/", text(1), "/messages/", text(0)));
  m.set_customer(text(2));
  m.set_channel(api::EnumOf<v1::Channel>(text(3)));
  m.set_direction(api::EnumOf<v1::Direction>(text(4)));
  m.set_author_kind(api::EnumOf<v1::AuthorKind>(text(5)));
  m.set_author(text(6));
  m.set_from(text(7));
  m.set_to(text(8));
  m.set_subject(text(9));
  m.set_text(text(10));
  m.set_html(text(11));
  // Written by this service only; a row it cannot read is a bug, so the
  // fields it holds are left out rather than failing the read.
  (void)api::MergeJson(text(12), &m);
  m.set_external_id(text(13));
  m.set_in_reply_to(text(14));
  m.set_thread_id(text(15));
  m.set_delivery_status(api::EnumOf<v1::DeliveryStatus>(text(16)));
  m.set_delivery_reason(text(17));
  *m.mutable_sent_time() = MicrosAt(row, f + 18);
  *m.mutable_create_time() = MicrosAt(row, f + 19);
  m.set_purpose(api::EnumOf<v1::Purpose>(text(20)));
  m.set_attempts(row[f + 21].template as<int>());
  m.set_channel_account(text(22));
  m.set_chat_seq(row[f + 23].template as<int64_t>());
  m.set_template_(text(24));
  return m;
}

int64_t MicrosOf(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("conversations/", id, " not found"));
}

// The JSON the attachments column holds.
std::string AttachmentsJson(const v1::ReceiveMessageRequest& request) {
  Message holder;
  *holder.mutable_attachments() = request.attachments();
  return api::ToJson(holder);
}

std::vector<api::FilterField> ConversationFilterFields() {
  using api::FieldType;
  return {
      {"customer", "c.customer"},
      {"channel", "c.channel"},
      {"channel_account", "c.channel_account"},
      {"status", "c.status"},
      {"assignee", "c.assignee"},
      {"labels", "c.labels", FieldType::kStringList},
      {"ticket", "c.ticket"},
      {"subject", "c.subject", FieldType::kString, true},
      {"create_time", "c.create_time", FieldType::kTimestamp},
      {"update_time", "c.update_time", FieldType::kTimestamp},
      {"last_message_time", "c.last_message_time", FieldType::kTimestamp},
  };
}

std::vector<api::FilterField> TimelineFilterFields() {
  using api::FieldType;
  return {
      {"channel", "m.channel"},
      {"direction", "m.direction"},
      {"author_kind", "m.author_kind"},
      {"create_time", "m.create_time", FieldType::kTimestamp},
  };
}

// A page token's (microseconds, uuid) key.
absl::Status DecodeKey(const api::PageTokenCodec& tokens, const std::string& token,
                       const std::string& query, std::vector<std::string>* key) {
  CRM_ASSIGN_OR_RETURN(*key, tokens.Decode(token, query));
  int64_t micros = 0;
  if (key->size() != 2 || !absl::SimpleAtoi((*key)[0], &micros)) {
    return absl::InvalidArgumentError("page_token: invalid token");
  }
  return absl::OkStatus();
}

}  // namespace

namespace internal {
const std::string& ConversationSelectColumns() { return ConversationColumns(); }
const std::string& MessageSelectColumns() { return MessageColumns(); }
v1::Conversation ConversationOf(const pqxx::row& row, int first) {
  return ConversationFromRow(row, first);
}
v1::Message MessageOf(const pqxx::row& row, int first) { return MessageFromRow(row, first); }
}  // namespace internal

ConversationStore::ConversationStore(db::Pool& pool, api::PageTokenCodec tokens,
                                     absl::Duration reopen_window)
    : pool_(pool),
      tokens_(std::move(tokens)),
      reopen_window_(reopen_window),
      idempotency_(pool, kSchema) {
  pool_.Prepare(Statements());
  pool_.Prepare(internal::CustomerEffectStatements());
  pool_.Prepare(internal::SendStatements());
  pool_.Prepare(internal::ChatStatements());
}

absl::StatusOr<Receipt> ConversationStore::Look(const server::CallScope& scope, v1::Channel channel,
                                                const std::string& external_id,
                                                const ContactAddress* contact) {
  Receipt receipt;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "interaction_find_receipt", scope.tenant, api::EnumText(channel),
                         external_id, contact == nullptr ? "" : contact->kind,
                         contact == nullptr ? "" : contact->address);
    receipt.replay_of = rows[0][0].c_str();
    receipt.customer = rows[0][1].c_str();
    return absl::OkStatus();
  }));
  return receipt;
}

absl::StatusOr<v1::ReceiveMessageResponse> ConversationStore::Replay(
    const server::CallScope& scope, const std::string& message_id) {
  v1::ReceiveMessageResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "interaction_get_message", scope.tenant, message_id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("message ", message_id));
    *response.mutable_message() = MessageFromRow(rows[0]);
    auto conversation = db::Exec(tx, "interaction_get_conversation", scope.tenant,
                                 api::LastSegment(response.message().name().substr(
                                     0, response.message().name().find("/messages/"))));
    *response.mutable_conversation() = ConversationFromRow(conversation[0]);
    response.set_replayed(true);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<Conversation> ConversationStore::FollowMerges(db::Tx& tx, const std::string& tenant,
                                                             Conversation conversation) {
  for (int hop = 0; hop < 10 && !conversation.merged_into().empty(); ++hop) {
    auto rows = db::Exec(tx, "interaction_lock_conversation", tenant,
                         api::LastSegment(conversation.merged_into()));
    if (rows.empty()) return absl::InternalError("a merge target is missing");
    conversation = ConversationFromRow(rows[0]);
  }
  return conversation;
}

absl::StatusOr<std::optional<Conversation>> ConversationStore::Thread(
    db::Tx& tx, const std::string& tenant, const v1::ReceiveMessageRequest& request,
    const std::string& customer) {
  const std::string channel = api::EnumText(request.channel());
  std::optional<Conversation> found;
  if (!request.conversation().empty()) {
    auto rows = db::Exec(tx, "interaction_lock_conversation", tenant,
                         api::LastSegment(request.conversation()));
    if (rows.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("conversation: ", request.conversation(), " does not exist"));
    }
    CRM_ASSIGN_OR_RETURN(Conversation c, FollowMerges(tx, tenant, ConversationFromRow(rows[0])));
    if (c.customer() != customer || c.channel() != request.channel()) {
      return absl::FailedPreconditionError(absl::StrCat("conversation: ", request.conversation(),
                                                        " is not ", customer, "'s conversation on ",
                                                        channel));
    }
    return std::optional<Conversation>(std::move(c));
  }
  std::vector<std::string> keys;
  if (request.channel() == v1::CHANNEL_EMAIL) {
    keys = ThreadCandidates(request);
  } else if (!request.thread_id().empty()) {
    keys = {request.thread_id()};
  }
  if (!keys.empty()) {
    auto rows =
        db::Exec(tx, "interaction_find_thread", tenant, channel, db::TextArray(keys), customer);
    size_t best = keys.size();
    for (const auto& row : rows) {
      const std::string key = row[0].c_str();
      for (size_t i = 0; i < best; ++i) {
        if (keys[i] == key) {
          best = i;
          found = ConversationFromRow(row, 1);
        }
      }
    }
  }
  if (!found && request.channel() == v1::CHANNEL_EMAIL) {
    const std::string token = TokenInSubject(request.subject());
    if (!token.empty()) {
      auto rows = db::Exec(tx, "interaction_find_by_token", tenant, token, customer);
      if (!rows.empty()) found = ConversationFromRow(rows[0]);
    }
  }
  if (!found && request.channel() != v1::CHANNEL_EMAIL && request.thread_id().empty()) {
    auto rows = db::Exec(tx, "interaction_find_latest", tenant, customer, channel,
                         request.channel_account());
    if (!rows.empty()) found = ConversationFromRow(rows[0]);
  }
  if (!found) return found;
  CRM_ASSIGN_OR_RETURN(Conversation c, FollowMerges(tx, tenant, *std::move(found)));
  if (c.status() == v1::CONVERSATION_STATUS_CLOSED) {
    const absl::Time closed = absl::FromUnixMicros(MicrosOf(c.close_time()));
    if (absl::Now() - closed > reopen_window_) return std::optional<Conversation>();
  }
  return std::optional<Conversation>(std::move(c));
}

absl::StatusOr<v1::ReceiveMessageResponse> ConversationStore::Receive(
    const server::CallScope& scope, const v1::ReceiveMessageRequest& request,
    const std::string& customer, const ContactAddress* contact) {
  v1::ReceiveMessageResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    const std::string& tenant = scope.tenant;
    const std::string channel = api::EnumText(request.channel());
    CRM_ASSIGN_OR_RETURN(std::optional<Conversation> thread, Thread(tx, tenant, request, customer));
    Conversation conversation;
    if (thread) {
      conversation = *std::move(thread);
    } else {
      std::string subject = request.subject().substr(0, 200);
      if (subject.empty() && request.channel() != v1::CHANNEL_EMAIL) {
        subject = request.text().substr(0, 80);  // what a list of chats shows
      }
      conversation = ConversationFromRow(db::Exec(tx, "interaction_insert_conversation", tenant,
                                                  customer, channel, request.channel_account(),
                                                  api::IsValidUtf8(subject) ? subject : "",
                                                  NewConversationToken())[0]);
      response.set_conversation_created(true);
    }
    const std::string conversation_id = api::LastSegment(conversation.name());
    const std::vector<std::string> refs(request.references().begin(), request.references().end());
    const Message message = MessageFromRow(
        db::Exec(tx, "interaction_insert_message", tenant, conversation_id, customer, channel,
                 "INBOUND", "CUSTOMER", customer, request.from(), request.to(), request.subject(),
                 request.text(), request.html(), AttachmentsJson(request), request.external_id(),
                 BareMessageId(request.in_reply_to()), db::TextArray(refs), request.thread_id(),
                 "RECEIVED", request.has_sent_time() ? MicrosOf(request.sent_time()) : 0, "",
                 request.channel_account(), "", 0, "")[0]);
    const bool wakes = conversation.status() != v1::CONVERSATION_STATUS_OPEN;
    const Conversation touched =
        ConversationFromRow(db::Exec(tx, "interaction_touch_conversation", tenant, conversation_id,
                                     MicrosOf(message.create_time()), true, 0)[0]);
    response.set_conversation_reopened(wakes && !response.conversation_created());
    if (request.channel() == v1::CHANNEL_EMAIL) {
      db::Exec(tx, "interaction_upsert_thread_key", tenant, channel, request.external_id(),
               conversation_id);
    } else if (!request.thread_id().empty()) {
      db::Exec(tx, "interaction_upsert_thread_key", tenant, channel, request.thread_id(),
               conversation_id);
    }
    if (contact != nullptr) {
      db::Exec(tx, "interaction_remember_contact", tenant, contact->kind, contact->address,
               customer);
    }
    std::vector<events::PendingEvent> pending;
    if (response.conversation_created()) {
      pending.push_back({"conversation.created", touched.name(), &touched});
    } else if (response.conversation_reopened()) {
      pending.push_back({"conversation.updated", touched.name(), &touched});
    }
    pending.push_back({"message.received", message.name(), &message});
    events::AppendEvents(tx, kSchema, tenant, pending);
    *response.mutable_message() = message;
    *response.mutable_conversation() = touched;
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<Conversation> ConversationStore::Get(const server::CallScope& scope,
                                                    const std::string& id) {
  Conversation found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "interaction_get_conversation", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    found = ConversationFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListConversationsResponse> ConversationStore::List(
    const server::CallScope& scope, const v1::ListConversationsRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter,
                       api::CompileFilter(request.filter(), ConversationFilterFields(), 4));
  std::vector<std::string> params = {scope.tenant, "", ""};
  std::string keyset = "($2 = '' AND $3 = '')";
  if (!request.page_token().empty()) {
    std::vector<std::string> key;
    CRM_RETURN_IF_ERROR(DecodeKey(tokens_, request.page_token(), request.filter(), &key));
    params[1] = key[0];
    params[2] = key[1];
    keyset =
        "(c.create_time, c.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', "
        "$3::uuid)";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const std::string sql =
      absl::StrCat("SELECT ", ConversationColumns(),
                   " FROM interaction.conversations c WHERE c.tenant_id = $1 "
                   "AND ",
                   keyset, " AND ", filter.sql, " ORDER BY c.create_time DESC, c.id DESC LIMIT ",
                   db::PageLimit(page_size));
  v1::ListConversationsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "interaction_list_conversations", sql, params,
                                db::Planning::kOncePerConnection);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, request.filter(),
        [&](const pqxx::row& row) { *response.add_conversations() = ConversationFromRow(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[12].as<std::string>(), last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<Conversation> ConversationStore::Update(const server::CallScope& scope,
                                                       const std::string& id,
                                                       const Conversation& patch,
                                                       const std::vector<std::string>& paths) {
  Conversation updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "interaction_lock_conversation", scope.tenant, id);
    if (rows.empty()) return NotFound(id);
    const Conversation current = ConversationFromRow(rows[0]);
    CRM_RETURN_IF_ERROR(api::CheckEtag(patch.etag(), current.etag(), "conversation"));
    if (!current.merged_into().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          current.name(), " was merged into ", current.merged_into(), " and does not change"));
    }
    CRM_ASSIGN_OR_RETURN(Conversation next, ApplyConversationUpdate(current, patch, paths));
    updated = ConversationFromRow(db::Exec(
        tx, "interaction_update_conversation", scope.tenant, id, next.subject(),
        api::EnumText(next.status()),
        next.has_snooze_until_time() ? MicrosOf(next.snooze_until_time()) : 0, next.assignee(),
        db::TextArray({next.labels().begin(), next.labels().end()}), next.ticket())[0]);
    events::AppendEvent(tx, kSchema, scope.tenant, "conversation.updated", updated.name(), updated);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<v1::MergeConversationsResponse> ConversationStore::Merge(
    const server::CallScope& scope, const std::string& source_id, const std::string& target_id,
    const std::string& request_id, const std::string& request_hash) {
  v1::MergeConversationsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    CRM_ASSIGN_OR_RETURN(bool replayed, idempotency_.Replay(tx, scope.tenant, "MergeConversations",
                                                            request_id, request_hash, &response));
    if (replayed) return absl::OkStatus();
    // Locked in id order, so that two merges of the same pair cannot
    // deadlock.
    std::map<std::string, Conversation> locked;
    for (const std::string& id : {std::min(source_id, target_id), std::max(source_id, target_id)}) {
      auto rows = db::Exec(tx, "interaction_lock_conversation", scope.tenant, id);
      if (rows.empty()) {
        return absl::NotFoundError(absl::StrCat("conversations/", id, " not found"));
      }
      locked[id] = ConversationFromRow(rows[0]);
    }
    const Conversation& source = locked[source_id];
    const Conversation& target = locked[target_id];
    for (const Conversation* c : {&source, &target}) {
      if (!c->merged_into().empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(c->name(), " was already merged into ", c->merged_into()));
      }
    }
    if (source.customer() != target.customer()) {
      return absl::FailedPreconditionError(
          absl::StrCat("source: ", source.name(), " is ", source.customer(), "'s, target ",
                       target.name(), " is ", target.customer(), "'s; merge the customers first"));
    }
    const auto moved = db::Exec(tx, "interaction_move_messages", scope.tenant, source_id, target_id)
                           .affected_rows();
    db::Exec(tx, "interaction_move_thread_keys", scope.tenant, source_id, target_id);
    *response.mutable_target() = ConversationFromRow(
        db::Exec(tx, "interaction_absorb_conversation", scope.tenant, source_id, target_id,
                 static_cast<int64_t>(moved), MicrosOf(source.last_message_time()))[0]);
    *response.mutable_source() = ConversationFromRow(
        db::Exec(tx, "interaction_close_merged", scope.tenant, source_id, target_id)[0]);
    response.set_moved_messages(static_cast<int64_t>(moved));
    events::AppendEvents(tx, kSchema, scope.tenant,
                         {{"conversation.merged", response.source().name(), &response.source()},
                          {"conversation.updated", response.target().name(), &response.target()}});
    idempotency_.Store(tx, scope.tenant, "MergeConversations", request_id, request_hash, response);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::ListMessagesResponse> ConversationStore::ListMessages(
    const server::CallScope& scope, const std::string& conversation_id,
    const v1::ListMessagesRequest& request) {
  CRM_ASSIGN_OR_RETURN(
      int page_size,
      api::EffectivePageSize(request.page_size(), kDefaultMessagePageSize, kMaxMessagePageSize));
  std::vector<std::string> key = {"", ""};
  if (!request.page_token().empty()) {
    CRM_RETURN_IF_ERROR(DecodeKey(tokens_, request.page_token(), conversation_id, &key));
  }
  v1::ListMessagesResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    if (db::Exec(tx, "interaction_get_conversation", scope.tenant, conversation_id).empty()) {
      return NotFound(conversation_id);
    }
    auto rows = db::Exec(tx, "interaction_list_messages", scope.tenant, conversation_id, key[0],
                         key[1], db::PageLimit(page_size));
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, conversation_id,
        [&](const pqxx::row& row) { *response.add_messages() = MessageFromRow(row); },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[19].as<std::string>(), last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::ListTimelineResponse> ConversationStore::ListTimeline(
    const server::CallScope& scope, const v1::ListTimelineRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size,
                       api::EffectivePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  CRM_ASSIGN_OR_RETURN(api::CompiledFilter filter,
                       api::CompileFilter(request.filter(), TimelineFilterFields(), 5));
  const std::string query = absl::StrCat(request.customer(), "\n", request.filter());
  std::vector<std::string> params = {scope.tenant, request.customer(), "", ""};
  std::string keyset = "($3 = '' AND $4 = '')";
  if (!request.page_token().empty()) {
    std::vector<std::string> key;
    CRM_RETURN_IF_ERROR(DecodeKey(tokens_, request.page_token(), query, &key));
    params[2] = key[0];
    params[3] = key[1];
    keyset =
        "(m.create_time, m.id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', "
        "$4::uuid)";
  }
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  const std::string sql = absl::StrCat(
      "SELECT ", MessageColumns(), ", ", ConversationColumns(),
      " FROM interaction.messages m JOIN interaction.conversations c ON c.tenant_id = "
      "m.tenant_id AND c.id = m.conversation_id WHERE m.tenant_id = $1 AND m.customer = $2 AND ",
      keyset, " AND ", filter.sql, " ORDER BY m.create_time DESC, m.id DESC LIMIT ",
      db::PageLimit(page_size));
  v1::ListTimelineResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::ExecDynamic(tx, "interaction_list_timeline", sql, params,
                                db::Planning::kOncePerConnection);
    response.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, query,
        [&](const pqxx::row& row) {
          v1::TimelineEntry* entry = response.add_entries();
          *entry->mutable_message() = MessageFromRow(row);
          *entry->mutable_conversation() = ConversationFromRow(row, kMessageColumnCount);
        },
        [](const pqxx::row& last) {
          return std::vector<std::string>{last[19].as<std::string>(), last[0].as<std::string>()};
        }));
    return absl::OkStatus();
  }));
  return response;
}

absl::Status ConversationStore::Export(
    const server::CallScope& scope, int batch,
    const std::function<bool(const v1::ExportMessagesResponse&)>& emit) {
  using Response = v1::ExportMessagesResponse;
  return server::ExportSnapshot<Response>(
      pool_, scope, batch, emit, [](server::SnapshotPager<Response>& pager) {
        pager.PageThrough(
            "interaction_export_messages",
            [](const pqxx::row& row, Response& response) {
              Message* m = response.add_messages();
              *m = MessageFromRow(row);
              m->clear_text();
              m->clear_html();
              m->clear_attachments();
            },
            kMessageColumnCount, 0);
        pager.PageThrough(
            "interaction_export_unsubscribes",
            [](const pqxx::row& row, Response& response) {
              v1::Unsubscribe* u = response.add_unsubscribes();
              u->set_message(absl::StrCat("conversations/", row[2].as<std::string>(), "/messages/",
                                          row[1].as<std::string>()));
              u->set_customer(row[3].as<std::string>());
              u->set_channel(api::EnumOf<v1::Channel>(row[4].as<std::string>()));
              u->set_address(row[5].as<std::string>());
              u->set_source("list-unsubscribe");
              *u->mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
            },
            0, 1);
      });
}

}  // namespace crm::interaction
