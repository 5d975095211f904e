#include "services/interaction/chat_domain.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/call.h"

namespace crm::interaction {

absl::Status ValidateChatJoin(const v1::ChatJoin& join) {
  std::string id;
  if (!join.conversation().empty()) {
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("join.conversation", join.conversation(), "conversations", &id));
    if (!join.customer().empty()) {
      return absl::InvalidArgumentError(
          "join.customer: only to start a chat, with join.conversation empty");
    }
  } else if (join.customer().empty()) {
    return absl::InvalidArgumentError(
        "join.conversation: required (or join.customer to start a chat)");
  } else {
    CRM_RETURN_IF_ERROR(api::ParseResourceName("join.customer", join.customer(), "customers", &id));
  }
  CRM_RETURN_IF_ERROR(api::RequiredEnum("join.role", join.role()));
  if (join.role() == v1::CHAT_ROLE_AGENT) {
    CRM_RETURN_IF_ERROR(api::ParseResourceName("join.agent", join.agent(), "agents", &id));
  } else if (!join.agent().empty()) {
    return absl::InvalidArgumentError("join.agent: only for CHAT_ROLE_AGENT");
  }
  if (join.after_seq() < 0) {
    return absl::InvalidArgumentError("join.after_seq: must not be negative");
  }
  return api::CheckText("join.subject", join.subject(), 200);
}

absl::Status ValidateChatSend(const v1::ChatSend& send) {
  if (!server::IsValidRequestId(send.client_message_id()) ||
      send.client_message_id().size() > 100) {
    return absl::InvalidArgumentError(
        "send.client_message_id: required, 1 to 100 characters of [A-Za-z0-9_.:-]");
  }
  if (send.text().empty()) return absl::InvalidArgumentError("send.text: required");
  if (!api::IsValidUtf8(send.text())) {
    return absl::InvalidArgumentError("send.text: not valid UTF-8");
  }
  // Characters, not bytes: UTF-8 continuation bytes do not start one.
  size_t characters = 0;
  for (char c : send.text()) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (characters > kMaxChatText) {
    return absl::InvalidArgumentError(
        absl::StrCat("send.text: longer than ", kMaxChatText, " characters"));
  }
  return absl::OkStatus();
}

std::string ChatParticipant(const v1::ChatJoin& join, const std::string& customer) {
  return join.role() == v1::CHAT_ROLE_AGENT ? join.agent() : customer;
}

std::string ChatExternalId(absl::string_view conversation_id, absl::string_view client_message_id) {
  return absl::StrCat("chat:", conversation_id, ":", client_message_id);
}

std::string EncodeChatSignal(const ChatSignal& s) {
  switch (s.kind) {
    case ChatSignal::Kind::kMessage:
      return absl::StrCat("m\t", s.tenant, "\t", s.conversation_id, "\t", s.seq);
    case ChatSignal::Kind::kTyping:
      return absl::StrCat("t\t", s.tenant, "\t", s.conversation_id, "\t", s.participant, "\t",
                          s.typing ? "1" : "0");
    case ChatSignal::Kind::kRead:
      return absl::StrCat("r\t", s.tenant, "\t", s.conversation_id, "\t", s.participant, "\t",
                          s.seq);
  }
  return "";
}

std::optional<ChatSignal> DecodeChatSignal(absl::string_view payload) {
  const std::vector<absl::string_view> f = absl::StrSplit(payload, '\t');
  if (f.size() < 4 || f[1].empty() || f[2].empty()) return std::nullopt;
  ChatSignal s;
  s.tenant = std::string(f[1]);
  s.conversation_id = std::string(f[2]);
  if (f[0] == "m" && f.size() == 4) {
    s.kind = ChatSignal::Kind::kMessage;
    if (!absl::SimpleAtoi(f[3], &s.seq)) return std::nullopt;
    return s;
  }
  if (f.size() != 5 || f[3].empty()) return std::nullopt;
  s.participant = std::string(f[3]);
  if (f[0] == "t" && (f[4] == "0" || f[4] == "1")) {
    s.kind = ChatSignal::Kind::kTyping;
    s.typing = f[4] == "1";
    return s;
  }
  if (f[0] == "r" && absl::SimpleAtoi(f[4], &s.seq)) {
    s.kind = ChatSignal::Kind::kRead;
    return s;
  }
  return std::nullopt;
}

}  // namespace crm::interaction
