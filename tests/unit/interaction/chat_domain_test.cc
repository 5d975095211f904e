// Live chat's pure rules: which join and send frames are valid (errors
// name the field), and the notifications replicas exchange, round trip
// and refusal of what they do not know.
#include "services/interaction/chat_domain.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"

namespace crm::interaction {
namespace {

v1::ChatJoin AgentJoin() {
  v1::ChatJoin j;
  j.set_conversation("conversations/0b7a2d4e-8f1c-4e6a-9d3b-5c2e1f0a9b88");
  j.set_role(v1::CHAT_ROLE_AGENT);
  j.set_agent("agents/6f1c2b9e-1d7a-4c55-9a3e-3d2b8e0f4a11");
  return j;
}

std::string FieldOf(const absl::Status& s) {
  return std::string(s.message().substr(0, s.message().find(':')));
}

TEST_CASE("Chat join frames: a conversation or a customer, a role, an agent for agents",
          "[interaction][chat]") {
  CHECK(ValidateChatJoin(AgentJoin()).ok());
  v1::ChatJoin j = AgentJoin();
  j.clear_conversation();
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.conversation");
  j.set_customer("customers/7d9f0c1e-2b3a-4c5d-8e6f-0a1b2c3d4e5f");
  CHECK(ValidateChatJoin(j).ok());
  j.set_conversation("conversations/0b7a2d4e-8f1c-4e6a-9d3b-5c2e1f0a9b88");
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.customer");  // not both
  j = AgentJoin();
  j.set_conversation("tickets/1");
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.conversation");
  j = AgentJoin();
  j.set_role(v1::CHAT_ROLE_UNSPECIFIED);
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.role");
  j.set_role(static_cast<v1::ChatRole>(42));
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.role");
  j = AgentJoin();
  j.clear_agent();
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.agent");
  j = AgentJoin();
  j.set_role(v1::CHAT_ROLE_CUSTOMER);
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.agent");  // customers name no agent
  j.clear_agent();
  CHECK(ValidateChatJoin(j).ok());
  j.set_after_seq(-1);
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.after_seq");
  j.set_after_seq(0);
  j.set_subject(std::string(201, 'x'));
  CHECK(FieldOf(ValidateChatJoin(j)) == "join.subject");
}

TEST_CASE("Chat send frames: a client id and 1 to 10,000 characters of UTF-8",
          "[interaction][chat]") {
  v1::ChatSend s;
  s.set_client_message_id("m-1");
  s.set_text("Hi");
  CHECK(ValidateChatSend(s).ok());
  s.set_client_message_id("");
  CHECK(FieldOf(ValidateChatSend(s)) == "send.client_message_id");
  s.set_client_message_id("has space");
  CHECK(FieldOf(ValidateChatSend(s)) == "send.client_message_id");
  s.set_client_message_id(std::string(101, 'a'));
  CHECK(FieldOf(ValidateChatSend(s)) == "send.client_message_id");
  s.set_client_message_id("m-1");
  s.set_text("");
  CHECK(FieldOf(ValidateChatSend(s)) == "send.text");
  s.set_text("\xff\xfe");
  CHECK(FieldOf(ValidateChatSend(s)) == "send.text");
  // Characters, not bytes: 10,000 two-byte characters pass, one more fails.
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "\xc3\xa9";
  s.set_text(text);
  CHECK(ValidateChatSend(s).ok());
  s.set_text(text + "a");
  CHECK(FieldOf(ValidateChatSend(s)) == "send.text");
}

TEST_CASE("Chat participants and external ids", "[interaction][chat]") {
  v1::ChatJoin j = AgentJoin();
  CHECK(ChatParticipant(j, "customers/c1") == j.agent());
  j.set_role(v1::CHAT_ROLE_CUSTOMER);
  CHECK(ChatParticipant(j, "customers/c1") == "customers/c1");
  CHECK(ChatExternalId("conv", "m-1") == "chat:conv:m-1");
  CHECK(ChatExternalId("conv", "m-1") != ChatExternalId("other", "m-1"));
}

TEST_CASE("Chat signals round trip and unknown payloads are ignored", "[interaction][chat]") {
  ChatSignal m;
  m.tenant = "acme";
  m.conversation_id = "c-1";
  m.seq = 42;
  auto back = DecodeChatSignal(EncodeChatSignal(m));
  REQUIRE(back);
  CHECK(back->kind == ChatSignal::Kind::kMessage);
  CHECK(back->tenant == "acme");
  CHECK(back->conversation_id == "c-1");
  CHECK(back->seq == 42);

  ChatSignal t = m;
  t.kind = ChatSignal::Kind::kTyping;
  t.participant = "agents/a";
  t.typing = true;
  back = DecodeChatSignal(EncodeChatSignal(t));
  REQUIRE(back);
  CHECK(back->kind == ChatSignal::Kind::kTyping);
  CHECK(back->participant == "agents/a");
  CHECK(back->typing);

  ChatSignal r = t;
  r.kind = ChatSignal::Kind::kRead;
  r.seq = 7;
  back = DecodeChatSignal(EncodeChatSignal(r));
  REQUIRE(back);
  CHECK(back->kind == ChatSignal::Kind::kRead);
  CHECK(back->seq == 7);

  for (const char* bad : {"", "m", "m\tacme\tc-1", "m\tacme\tc-1\tx", "x\tacme\tc-1\t1",
                          "t\tacme\tc-1\tagents/a\t2", "r\tacme\tc-1\t\t1", "m\t\tc-1\t1"}) {
    CHECK_FALSE(DecodeChatSignal(bad));
  }
}

}  // namespace
}  // namespace crm::interaction
