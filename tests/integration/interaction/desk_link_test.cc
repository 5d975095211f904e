// The support desk link with the three services in-process over real
// Postgres and a real SMTP sink: an e-mail arrives, the conversation opens a
// ticket, the agent's public reply on the ticket reaches the customer as an
// e-mail in the same thread (an internal note does not), and the customer's
// answer becomes a public comment that reopens the solved ticket.
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/integration/interaction/outbox_fixture.h"
#include "tests/testing/chat_client.h"
#include "tests/testing/net.h"

namespace crm::testing {
namespace {

namespace tv1 = crm::ticketing::v1;

// Each service knows the other's address before either starts.
struct Desk {
  Desk() { SetFlags(); }
  int ticketing_port = FreePort();
  int interaction_port = FreePort();
  CustomerHarness customers{"desk_customers"};
  std::string customer_address = absl::StrCat("127.0.0.1:", customers.runtime().port());
  ServiceHarness ticketing{
      ticketing::Definition(), "desk_ticketing", [this](server::RuntimeConfig& c) {
        c.server.grpc_port = ticketing_port;
        c.services["customer"] = customer_address;
        c.services["interaction"] = absl::StrCat("127.0.0.1:", interaction_port);
      }};
  ServiceHarness interaction{interaction::Definition(), "desk_interaction",
                             [this](server::RuntimeConfig& c) {
                               c.server.grpc_port = interaction_port;
                               c.services["customer"] = customer_address;
                               c.services["ticketing"] = absl::StrCat("127.0.0.1:", ticketing_port);
                             }};
  std::unique_ptr<v1::ConversationService::Stub> conversations =
      interaction.Stub<v1::ConversationService>();
  std::unique_ptr<tv1::TicketService::Stub> tickets = ticketing.Stub<tv1::TicketService>();

  tv1::Ticket Ticket(const std::string& name) {
    tv1::GetTicketRequest req;
    req.set_name(name);
    tv1::Ticket out;
    grpc::Status s = tickets->GetTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("GetTicket: " << s.error_message());
    return out;
  }

  void Comment(const std::string& ticket, const std::string& body, bool is_public) {
    tv1::AddCommentRequest req;
    req.set_parent(ticket);
    req.mutable_comment()->set_author_kind(tv1::AUTHOR_KIND_AGENT);
    req.mutable_comment()->set_author("agents/ann");
    req.mutable_comment()->set_body(body);
    req.mutable_comment()->set_public_(is_public);
    tv1::Comment out;
    grpc::Status s = tickets->AddComment(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("AddComment: " << s.error_message());
  }
};

}  // namespace

TEST_CASE(
    "an e-mail becomes a ticket, the agent's reply an e-mail in the thread, the answer a "
    "comment",
    "[integration][interaction]") {
  Desk d;
  SmtpSink sink;
  auto accounts = d.interaction.Stub<v1::ChannelAccountService>();
  v1::CreateChannelAccountRequest account;
  account.mutable_account()->set_channel(v1::CHANNEL_EMAIL);
  account.mutable_account()->set_display_name("Support");
  account.mutable_account()->set_sender("support@shop.example");
  account.mutable_account()->mutable_smtp()->set_host("127.0.0.1");
  account.mutable_account()->mutable_smtp()->set_port(sink.port());
  account.mutable_account()->mutable_smtp()->set_security(v1::SMTP_SECURITY_NONE);
  v1::ChannelAccount created;
  REQUIRE(accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), account, &created).ok());

  v1::ReceiveMessageRequest mail;
  mail.set_channel(v1::CHANNEL_EMAIL);
  mail.set_raw_email(
      "From: Ada <ada@example.com>\r\nSubject: Lid cracked\r\nMessage-ID: <desk-1@mail.example>\r\n"
      "\r\nThe lid of my teapot arrived cracked.\r\n");
  v1::ReceiveMessageResponse received;
  REQUIRE(d.conversations->ReceiveMessage(ServiceHarness::Ctx().get(), mail, &received).ok());

  v1::OpenTicketRequest open;
  open.set_conversation(received.conversation().name());
  v1::OpenTicketResponse opened;
  grpc::Status os = d.conversations->OpenTicket(ServiceHarness::Ctx().get(), open, &opened);
  INFO(os.error_message());
  REQUIRE(os.ok());
  CHECK(opened.created());
  CHECK(opened.conversation().ticket() == opened.ticket());
  const tv1::Ticket ticket = d.Ticket(opened.ticket());
  CHECK(ticket.subject() == "Lid cracked");
  CHECK(absl::StartsWith(ticket.description(), "The lid of my teapot arrived cracked."));
  CHECK(ticket.requester() == received.conversation().customer());
  CHECK(ticket.source_conversation() == received.conversation().name());
  CHECK(ticket.channel() == tv1::CHANNEL_EMAIL);
  v1::OpenTicketResponse again;
  REQUIRE(d.conversations->OpenTicket(ServiceHarness::Ctx().get(), open, &again).ok());
  CHECK_FALSE(again.created());
  CHECK(again.ticket() == opened.ticket());

  // The agent answers on the ticket: the customer gets an e-mail in the
  // thread; the internal note stays inside.
  d.Comment(opened.ticket(), "Checked with the warehouse.", false);
  d.Comment(opened.ticket(), "A new lid is on its way to you.", true);
  const auto sent = sink.AwaitMessages(1, absl::Seconds(20));
  REQUIRE(sent.size() == 1);
  v1::ReceiveMessageRequest parsed;
  REQUIRE(interaction::ParseRawEmail(sent[0], &parsed).ok());
  CHECK(parsed.in_reply_to() == "desk-1@mail.example");
  CHECK(absl::StartsWith(parsed.subject(), "Re: Lid cracked [#"));
  CHECK(absl::StrContains(parsed.text(), "A new lid is on its way to you."));
  CHECK_FALSE(absl::StrContains(sent[0], "warehouse"));

  // Solved; the customer answers our e-mail: a public comment that reopens.
  tv1::ChangeTicketStatusRequest solve;
  solve.set_name(opened.ticket());
  solve.set_status(tv1::STATUS_SOLVED);
  tv1::Ticket solved;
  REQUIRE(d.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &solved).ok());
  mail.set_raw_email(
      absl::StrCat("From: ada@example.com\r\nSubject: Re: Lid cracked\r\n"
                   "Message-ID: <desk-2@mail.example>\r\nIn-Reply-To: <",
                   parsed.external_id(), ">\r\n\r\nThanks! It has not arrived yet though.\r\n"));
  v1::ReceiveMessageResponse answer;
  REQUIRE(d.conversations->ReceiveMessage(ServiceHarness::Ctx().get(), mail, &answer).ok());
  CHECK(answer.conversation().name() == received.conversation().name());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  tv1::Ticket reopened = d.Ticket(opened.ticket());
  while (reopened.status() != tv1::STATUS_OPEN && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    reopened = d.Ticket(opened.ticket());
  }
  CHECK(reopened.status() == tv1::STATUS_OPEN);
  tv1::ListCommentsRequest comments;
  comments.set_parent(opened.ticket());
  tv1::ListCommentsResponse listed;
  REQUIRE(d.tickets->ListComments(ServiceHarness::Ctx().get(), comments, &listed).ok());
  REQUIRE(listed.comments_size() == 3);
  const tv1::Comment& last = listed.comments(2);
  CHECK(last.author_kind() == tv1::AUTHOR_KIND_CUSTOMER);
  CHECK(last.public_());
  CHECK(absl::StrContains(last.body(), "It has not arrived yet"));
  // The customer's comment is not mailed back to them.
  absl::SleepFor(absl::Milliseconds(300));
  CHECK(sink.Messages().size() == 1);
}

}  // namespace crm::testing

namespace crm::testing {

TEST_CASE("a live chat opens a ticket, the agent's ticket reply appears in the chat",
          "[integration][interaction][chat]") {
  Desk d;
  const std::string customer = d.customers.NewCustomer("chat-desk@example.com").name();
  ChatClient shopper(d.interaction.channel());
  v1::ChatJoin start;
  start.set_customer(customer);
  start.set_role(v1::CHAT_ROLE_CUSTOMER);
  start.set_subject("Broken handle");
  REQUIRE(shopper.Join(start));
  const std::string conversation = shopper.joined().conversation().name();
  REQUIRE(shopper.Send("c1", "The handle came off my mug."));
  REQUIRE(shopper.ReadMessages(1));

  v1::OpenTicketRequest open;
  open.set_conversation(conversation);
  v1::OpenTicketResponse opened;
  REQUIRE(d.conversations->OpenTicket(ServiceHarness::Ctx().get(), open, &opened).ok());
  CHECK(d.Ticket(opened.ticket()).channel() == tv1::CHANNEL_CHAT);

  // The agent answers on the ticket: the shopper's stream gets it, in the
  // chat's order, as the agent's message.
  d.Comment(opened.ticket(), "Sorry! A new mug is on its way.", true);
  d.Comment(opened.ticket(), "internal: reship from stock", false);
  REQUIRE(shopper.ReadMessages(2));
  const v1::Message& reply = shopper.messages()[1];
  CHECK(reply.text() == "Sorry! A new mug is on its way.");
  CHECK(reply.author_kind() == v1::AUTHOR_KIND_AGENT);
  CHECK(reply.author() == "agents/ann");
  CHECK(reply.chat_seq() == 2);

  // The shopper's answer in the chat becomes a comment on the ticket.
  REQUIRE(shopper.Send("c2", "Thank you!"));
  tv1::ListCommentsRequest comments;
  comments.set_parent(opened.ticket());
  tv1::ListCommentsResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    listed.Clear();
    REQUIRE(d.tickets->ListComments(ServiceHarness::Ctx().get(), comments, &listed).ok());
    if (listed.comments_size() >= 3) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  REQUIRE(listed.comments_size() == 3);
  CHECK(listed.comments(2).body() == "Thank you!");
  CHECK(listed.comments(2).author_kind() == tv1::AUTHOR_KIND_CUSTOMER);
  // The internal note never reached the chat.
  CHECK(shopper.Close().ok());
  for (const auto& m : shopper.messages()) CHECK(m.text() != "internal: reship from stock");
}

}  // namespace crm::testing
