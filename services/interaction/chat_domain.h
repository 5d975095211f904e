// Pure rules of live chat: which frames are valid, and the notifications
// replicas exchange over Postgres (LISTEN/NOTIFY on kChatChannel). No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "crm/interaction/v1/chat_service.pb.h"

namespace crm::interaction {

inline constexpr char kChatChannel[] = "interaction_chat";
inline constexpr size_t kMaxChatText = 10000;

// The first frame: INVALID_ARGUMENT naming the field ("join.role: ...").
absl::Status ValidateChatJoin(const v1::ChatJoin& join);
absl::Status ValidateChatSend(const v1::ChatSend& send);

// The participant a valid join speaks as: `customer` (the conversation's)
// for the customer, the agent's name for an agent.
std::string ChatParticipant(const v1::ChatJoin& join, const std::string& customer);

// The external id a chat message is stored under: unique per tenant and
// channel, so the client's id is scoped by its conversation.
std::string ChatExternalId(absl::string_view conversation_id, absl::string_view client_message_id);

// What one replica tells the others (and itself) about a chat.
struct ChatSignal {
  enum class Kind { kMessage, kTyping, kRead };
  Kind kind = Kind::kMessage;
  std::string tenant;
  std::string conversation_id;
  std::string participant;  // typing and read
  int64_t seq = 0;          // message: its chat_seq; read: up to
  bool typing = false;
};

// Tab-separated, well under Postgres's 8000-byte payload limit (tenants,
// ids and participant names have no tabs).
std::string EncodeChatSignal(const ChatSignal& signal);
// nullopt for a payload this version does not know.
std::optional<ChatSignal> DecodeChatSignal(absl::string_view payload);

}  // namespace crm::interaction
