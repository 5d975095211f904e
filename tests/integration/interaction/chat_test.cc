// Live chat over ChatService.ChatSession against real Postgres: a chat
// started by the customer reaches every participant in one order, a
// message is acknowledged once stored and a resend is not stored twice,
// typing and read receipts cross, a reconnect resumes after the last
// message seen, two replicas of the service share a chat through
// LISTEN/NOTIFY, and bad frames end the stream naming the field.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/server/service_runtime.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "services/interaction/interaction_app.h"
#include "tests/testing/chat_client.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::interaction::v1;

constexpr char kAgent[] = "agents/6f1c2b9e-1d7a-4c55-9a3e-3d2b8e0f4a11";

struct Chat {
  CustomerHarness customers{"chat_customers"};
  ServiceHarness h{
      interaction::Definition(), "chat",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::string customer = customers.NewCustomer("ada@example.com").name();

  static v1::ChatJoin Start(const std::string& customer) {
    v1::ChatJoin join;
    join.set_customer(customer);
    join.set_role(v1::CHAT_ROLE_CUSTOMER);
    join.set_subject("Where is my parcel?");
    return join;
  }
  static v1::ChatJoin AsAgent(const std::string& conversation, int64_t after = 0) {
    v1::ChatJoin join;
    join.set_conversation(conversation);
    join.set_role(v1::CHAT_ROLE_AGENT);
    join.set_agent(kAgent);
    join.set_after_seq(after);
    return join;
  }
  static v1::ChatJoin AsCustomer(const std::string& conversation, int64_t after = 0) {
    v1::ChatJoin join;
    join.set_conversation(conversation);
    join.set_role(v1::CHAT_ROLE_CUSTOMER);
    join.set_after_seq(after);
    return join;
  }
};

// (chat_seq, text) of what a participant received.
std::vector<std::pair<int64_t, std::string>> Order(const ChatClient& c) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& m : c.messages()) out.emplace_back(m.chat_seq(), m.text());
  return out;
}

TEST_CASE("Live chat: customer and agent receive one order, resends are stored once",
          "[interaction][chat]") {
  Chat chat;
  ChatClient customer(chat.h.channel());
  REQUIRE(customer.Join(Chat::Start(chat.customer)));
  const v1::Conversation& conversation = customer.joined().conversation();
  CHECK(conversation.channel() == v1::CHANNEL_LIVE_CHAT);
  CHECK(conversation.customer() == chat.customer);
  CHECK(conversation.subject() == "Where is my parcel?");
  CHECK(customer.joined().last_seq() == 0);
  CHECK(customer.joined().participant() == chat.customer);

  ChatClient agent(chat.h.channel());
  REQUIRE(agent.Join(Chat::AsAgent(conversation.name())));
  CHECK(agent.joined().participant() == kAgent);

  // Both write without waiting for each other.
  REQUIRE(customer.Send("c1", "Hello?"));
  REQUIRE(agent.Send("a1", "Hi Ada, how can I help?"));
  REQUIRE(customer.Send("c2", "My parcel is late"));
  REQUIRE(agent.Send("a2", "Let me look"));
  REQUIRE(customer.ReadMessages(4));
  REQUIRE(agent.ReadMessages(4));
  const auto order = Order(customer);
  CHECK(order == Order(agent));
  for (size_t i = 0; i < order.size(); ++i) CHECK(order[i].first == static_cast<int64_t>(i + 1));
  // Each side's own messages keep the order it sent them in.
  std::vector<std::string> from_customer;
  for (const auto& m : customer.messages()) {
    if (m.author_kind() == v1::AUTHOR_KIND_CUSTOMER) {
      from_customer.push_back(m.text());
      CHECK(m.direction() == v1::DIRECTION_INBOUND);
      CHECK(m.author() == chat.customer);
    } else {
      CHECK(m.direction() == v1::DIRECTION_OUTBOUND);
      CHECK(m.author() == kAgent);
      CHECK(m.delivery_status() == v1::DELIVERY_STATUS_DELIVERED);
    }
  }
  CHECK(from_customer == std::vector<std::string>{"Hello?", "My parcel is late"});

  // Acknowledged after storing; a resend answers the stored message.
  REQUIRE(customer.ReadAcks(2));
  CHECK(customer.acks()[0].client_message_id() == "c1");
  CHECK_FALSE(customer.acks()[0].replay());
  REQUIRE(customer.Send("c1", "Hello?"));
  REQUIRE(customer.ReadAcks(3));
  CHECK(customer.acks()[2].replay());
  CHECK(customer.acks()[2].message() == customer.acks()[0].message());
  CHECK(customer.acks()[2].chat_seq() == customer.acks()[0].chat_seq());

  // Typing crosses to the others, not back to the typist.
  REQUIRE(agent.Typing(true));
  REQUIRE(customer.ReadUntil([&] { return !customer.typing().empty(); }));
  CHECK(customer.typing()[0].participant() == kAgent);
  CHECK(customer.typing()[0].typing());

  // A read receipt reaches the agent and is there for whoever joins next.
  REQUIRE(customer.MarkRead(4));
  REQUIRE(agent.ReadUntil([&] { return !agent.reads().empty(); }));
  CHECK(agent.reads()[0].participant() == chat.customer);
  CHECK(agent.reads()[0].seq() == 4);

  ChatClient late(chat.h.channel());
  REQUIRE(late.Join(Chat::AsAgent(conversation.name())));
  CHECK(late.joined().last_seq() == 4);
  REQUIRE(late.joined().reads_size() == 1);
  CHECK(late.joined().reads(0).seq() == 4);
  REQUIRE(late.ReadMessages(4));
  CHECK(Order(late) == order);  // the replay was not stored again

  // The chat is in the conversation's messages and the timeline.
  auto stub = chat.h.Stub<v1::ConversationService>();
  v1::ListMessagesRequest list;
  list.set_parent(conversation.name());
  v1::ListMessagesResponse messages;
  REQUIRE(stub->ListMessages(ServiceHarness::Ctx().get(), list, &messages).ok());
  CHECK(messages.messages_size() == 4);
  v1::GetConversationRequest get;
  get.set_name(conversation.name());
  v1::Conversation stored;
  REQUIRE(stub->GetConversation(ServiceHarness::Ctx().get(), get, &stored).ok());
  CHECK(stored.message_count() == 4);

  CHECK(customer.Close().ok());
  CHECK(agent.Close().ok());
  CHECK(late.Close().ok());
}

TEST_CASE("Live chat: a reconnect resumes after the last message seen", "[interaction][chat]") {
  Chat chat;
  ChatClient first(chat.h.channel());
  REQUIRE(first.Join(Chat::Start(chat.customer)));
  const std::string conversation = first.joined().conversation().name();
  ChatClient agent(chat.h.channel());
  REQUIRE(agent.Join(Chat::AsAgent(conversation)));
  REQUIRE(agent.Send("a1", "one"));
  REQUIRE(agent.Send("a2", "two"));
  REQUIRE(first.ReadMessages(2));
  const int64_t seen = first.messages().back().chat_seq();
  first.Cancel();  // the customer's connection drops

  REQUIRE(agent.Send("a3", "three"));
  REQUIRE(agent.Send("a4", "four"));
  REQUIRE(agent.ReadAcks(4));

  ChatClient again(chat.h.channel());
  REQUIRE(again.Join(Chat::AsCustomer(conversation, seen)));
  REQUIRE(again.ReadMessages(2));
  CHECK(Order(again) == std::vector<std::pair<int64_t, std::string>>{{3, "three"}, {4, "four"}});
  // Live traffic follows without repeating anything.
  REQUIRE(agent.Send("a5", "five"));
  REQUIRE(again.ReadMessages(3));
  CHECK(again.messages()[2].chat_seq() == 5);
  CHECK(again.messages().size() == 3);

  // From the start, and a resume at the very end.
  ChatClient all(chat.h.channel());
  REQUIRE(all.Join(Chat::AsCustomer(conversation, 0)));
  REQUIRE(all.ReadMessages(5));
  CHECK(all.messages()[0].text() == "one");
  ChatClient end(chat.h.channel());
  REQUIRE(end.Join(Chat::AsCustomer(conversation, 5)));
  REQUIRE(agent.Send("a6", "six"));
  REQUIRE(end.ReadMessages(1));
  CHECK(end.messages()[0].chat_seq() == 6);

  CHECK(again.Close().ok());
  CHECK(all.Close().ok());
  CHECK(end.Close().ok());
  CHECK(agent.Close().ok());
}

TEST_CASE("Live chat: two replicas share a chat through Postgres notifications",
          "[interaction][chat]") {
  Chat chat;
  // A second replica of the service on the same database.
  server::RuntimeConfig config;
  config.db_url = chat.h.db_url();
  config.db_pool_size = 6;
  config.page_token_secret = "integration-test-secret-0123456789";
  config.server.grpc_port = 0;
  config.server.shutdown_grace = absl::Seconds(2);
  config.services["customer"] = absl::StrCat("127.0.0.1:", chat.customers.runtime().port());
  auto replica = server::ServiceRuntime::Start(config, interaction::Definition());
  REQUIRE(replica.ok());
  auto replica_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*replica)->port()),
                                             grpc::InsecureChannelCredentials());

  ChatClient customer(chat.h.channel());
  REQUIRE(customer.Join(Chat::Start(chat.customer)));
  const std::string conversation = customer.joined().conversation().name();
  ChatClient agent(replica_channel);
  REQUIRE(agent.Join(Chat::AsAgent(conversation)));

  constexpr int kEach = 25;
  for (int i = 0; i < kEach; ++i) {
    REQUIRE(customer.Send(absl::StrCat("c", i), absl::StrCat("customer ", i)));
    REQUIRE(agent.Send(absl::StrCat("a", i), absl::StrCat("agent ", i)));
  }
  REQUIRE(customer.ReadMessages(2 * kEach));
  REQUIRE(agent.ReadMessages(2 * kEach));
  const auto order = Order(customer);
  CHECK(order == Order(agent));
  for (size_t i = 0; i < order.size(); ++i) CHECK(order[i].first == static_cast<int64_t>(i + 1));

  REQUIRE(customer.Typing(true));
  REQUIRE(agent.ReadUntil([&] { return !agent.typing().empty(); }));
  CHECK(agent.typing()[0].participant() == chat.customer);

  // A participant moving to the other replica resumes there.
  const int64_t seen = agent.messages()[9].chat_seq();
  agent.Cancel();
  ChatClient moved(chat.h.channel());
  REQUIRE(moved.Join(Chat::AsAgent(conversation, seen)));
  REQUIRE(moved.ReadMessages(2 * kEach - 10));
  CHECK(moved.messages().front().chat_seq() == seen + 1);
  CHECK(moved.messages().back().chat_seq() == 2 * kEach);

  CHECK(customer.Close().ok());
  CHECK(moved.Close().ok());
  (*replica)->Shutdown();
}

TEST_CASE("Live chat: bad frames end the stream naming the field", "[interaction][chat]") {
  Chat chat;
  auto status = [&](const v1::ChatSessionRequest& first, const std::string& tenant = "acme") {
    ChatClient c(chat.h.channel(), tenant);
    c.Write(first);
    return c.Status();
  };
  v1::ChatSessionRequest send;
  send.mutable_send()->set_client_message_id("x");
  send.mutable_send()->set_text("hi");
  grpc::Status s = status(send);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(s.error_message(), "send: join first"));

  v1::ChatSessionRequest join;
  join.mutable_join()->set_customer(chat.customer);
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "join.role"));

  *join.mutable_join() = Chat::AsAgent("conversations/0b7a2d4e-8f1c-4e6a-9d3b-5c2e1f0a9b88");
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);

  join.mutable_join()->set_agent("bob");
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "join.agent"));

  // An SMS conversation is not a live chat.
  auto stub = chat.h.Stub<v1::ConversationService>();
  v1::ReceiveMessageRequest sms;
  sms.set_channel(v1::CHANNEL_SMS);
  sms.set_from("+14155550123");
  sms.set_external_id("SM1");
  sms.set_text("hello");
  v1::ReceiveMessageResponse received;
  REQUIRE(stub->ReceiveMessage(ServiceHarness::Ctx().get(), sms, &received).ok());
  *join.mutable_join() = Chat::AsAgent(received.conversation().name());
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "not a live chat"));

  // A chat of another tenant does not exist for this one.
  ChatClient owner(chat.h.channel());
  REQUIRE(owner.Join(Chat::Start(chat.customer)));
  const std::string conversation = owner.joined().conversation().name();
  *join.mutable_join() = Chat::AsAgent(conversation);
  s = status(join, "globex");
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);

  *join.mutable_join() = Chat::AsAgent(conversation, 7);
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "join.after_seq"));

  // After a good join: an empty text, then a second join.
  REQUIRE(owner.Send("m1", ""));
  s = owner.Status();
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "send.text"));

  ChatClient twice(chat.h.channel());
  REQUIRE(twice.Join(Chat::AsCustomer(conversation)));
  v1::ChatSessionRequest again;
  *again.mutable_join() = Chat::AsCustomer(conversation);
  twice.Write(again);
  s = twice.Status();
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  // Starting a chat needs a customer the customer service knows.
  *join.mutable_join() = Chat::Start("customers/7d9f0c1e-2b3a-4c5d-8e6f-0a1b2c3d4e5f");
  s = status(join);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(s.error_message(), "join.customer"));
}

}  // namespace
}  // namespace crm::testing
