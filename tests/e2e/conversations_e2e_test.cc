// End to end with the interaction service: inbound messages through the
// gateway with their scopes and tenancy, the customer service creating the
// sender, the interaction feed through the gateway, erasure following the
// customer feed across processes, and crmctl's conversation verbs.
#include "crm/interaction/v1/channel_account_service.grpc.pb.h"
#include "crm/interaction/v1/chat_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/interaction/v1/event_feed_service.grpc.pb.h"
#include "tests/e2e/customer_suite.h"
#include "tests/testing/chat_client.h"
#include "tests/testing/imap_sink.h"
#include "tests/testing/smtp_sink.h"

namespace crm::testing {
namespace {

namespace iv1 = crm::interaction::v1;
namespace cv1 = crm::customer::v1;

iv1::ReceiveMessageRequest Sms(const std::string& from, const std::string& id,
                               const std::string& text) {
  iv1::ReceiveMessageRequest req;
  req.set_channel(iv1::CHANNEL_SMS);
  req.set_from(from);
  req.set_external_id(id);
  req.set_text(text);
  return req;
}

}  // namespace

TEST_CASE("conversations through the gateway: scopes, tenancy, the sender's customer, the feed",
          "[e2e]") {
  Suite s;
  auto conversations = iv1::ConversationService::NewStub(s.channel());
  auto customers = cv1::CustomerService::NewStub(s.channel());
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "interaction.read");
  const std::string events = s.CreateKey("tenant-a", "events.read");
  const std::string other = s.CreateKey("tenant-b", "*");

  iv1::ReceiveMessageResponse first;
  grpc::Status denied = conversations->ReceiveMessage(Suite::Ctx(reader).get(),
                                                      Sms("+447700900100", "SM1", "Hello"), &first);
  CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(denied.error_message() == "API key lacks scope interaction.write");
  REQUIRE(conversations
              ->ReceiveMessage(Suite::Ctx(admin).get(),
                               Sms("+447700900100", "SM1", "Where is my parcel?"), &first)
              .ok());
  CHECK(first.customer_created());
  // The customer service has the sender, reachable through the gateway.
  cv1::GetCustomerRequest get_customer;
  get_customer.set_name(first.conversation().customer());
  cv1::Customer sender;
  REQUIRE(customers->GetCustomer(Suite::Ctx(admin).get(), get_customer, &sender).ok());

  iv1::ReceiveMessageResponse second;
  REQUIRE(conversations
              ->ReceiveMessage(Suite::Ctx(admin).get(), Sms("+447700900100", "SM2", "Order 1042"),
                               &second)
              .ok());
  CHECK(second.conversation().name() == first.conversation().name());

  iv1::ListTimelineRequest timeline;
  timeline.set_customer(sender.name());
  iv1::ListTimelineResponse entries;
  REQUIRE(conversations->ListTimeline(Suite::Ctx(reader).get(), timeline, &entries).ok());
  REQUIRE(entries.entries_size() == 2);
  CHECK(entries.entries(0).message().text() == "Order 1042");
  REQUIRE(conversations->ListTimeline(Suite::Ctx(other).get(), timeline, &entries).ok());
  CHECK(entries.entries_size() == 0);
  iv1::GetConversationRequest get;
  get.set_name(first.conversation().name());
  iv1::Conversation got;
  CHECK(conversations->GetConversation(Suite::Ctx(other).get(), get, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  // The interaction feed through the gateway, with only events.read.
  auto feed = iv1::EventFeedService::NewStub(s.channel());
  auto ctx = Suite::Ctx(events, 3);
  auto stream = feed->Subscribe(ctx.get(), crm::events::v1::SubscribeRequest());
  std::vector<std::string> types;
  crm::events::v1::SubscribeResponse resp;
  while (types.size() < 3 && stream->Read(&resp)) types.push_back(resp.event().type());
  ctx->TryCancel();
  stream->Finish();
  CHECK(types ==
        std::vector<std::string>{"conversation.created", "message.received", "message.received"});

  // Erasure in the customer service reaches the conversations.
  cv1::EraseCustomerRequest erase;
  erase.set_name(sender.name());
  cv1::EraseCustomerResponse erased;
  REQUIRE(customers->EraseCustomer(Suite::Ctx(admin).get(), erase, &erased).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  bool gone = false;
  while (!gone && absl::Now() < deadline) {
    REQUIRE(conversations->ListTimeline(Suite::Ctx(reader).get(), timeline, &entries).ok());
    gone = entries.entries_size() == 2 && entries.entries(0).message().text() == "[erased]" &&
           entries.entries(1).message().text() == "[erased]";
    if (!gone) absl::SleepFor(absl::Milliseconds(50));
  }
  CHECK(gone);
  CHECK(entries.entries(0).message().from().empty());
}

TEST_CASE("crmctl receives, lists and closes conversations through the gateway", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-cli", "*");
  const std::vector<std::string> base = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                         "--key=" + key};
  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out =
      crmctl({"conversations", "receive", "--channel=whatsapp", "--from=+447700900200",
              "--body=Is the blue one back?", "--external_id=wamid.1"},
             &code);
  REQUIRE(code == 0);
  CHECK(out.find("WHATSAPP  OPEN") != std::string::npos);
  CHECK(out.find("(new), new conversation") != std::string::npos);
  const std::string conversation =
      out.substr(out.find("conversations/"), std::string("conversations/").size() + 36);
  const size_t at = out.find("customer customers/");
  REQUIRE(at != std::string::npos);
  const std::string customer = out.substr(at + 9, std::string("customers/").size() + 36);

  const std::string mail = absl::StrCat("/tmp/crm-e2e-mail-", getpid(), ".eml");
  WriteFile(mail,
            "From: Ines Ito <ines@example.com>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
            "Message-ID: <e2e-1@example.com>\r\n\r\nHello from e-mail\r\n");
  out = crmctl({"conversations", "receive", "--raw_file=" + mail}, &code);
  std::remove(mail.c_str());
  CHECK(code == 0);
  CHECK(out.find("EMAIL") != std::string::npos);
  CHECK(out.find("Gr\xC3\xBC\xC3\x9F"
                 "e") != std::string::npos);

  out = crmctl({"conversations", "list", "--filter=channel = \"WHATSAPP\""}, &code);
  CHECK(code == 0);
  CHECK(out.find(conversation + "  WHATSAPP  OPEN") != std::string::npos);
  out = crmctl({"conversations", "timeline", customer}, &code);
  CHECK(code == 0);
  CHECK(out.find("<- WHATSAPP  CUSTOMER  RECEIVED   Is the blue one back?") != std::string::npos);
  out = crmctl({"conversations", "label", conversation, "--tags=vip"}, &code);
  CHECK(code == 0);
  CHECK(out.find("[vip]") != std::string::npos);
  out = crmctl({"conversations", "status", conversation, "--status=closed"}, &code);
  CHECK(code == 0);
  CHECK(out.find("CLOSED") != std::string::npos);
  out = crmctl({"conversations", "messages", conversation}, &code);
  CHECK(code == 0);
  CHECK(out.find("Is the blue one back?") != std::string::npos);
  out = crmctl({"conversations", "receive", "--channel=sms", "--from=not a number", "--body=x"},
               &code);
  CHECK(code == 1);
}

TEST_CASE("live chat through the gateway: scopes, one order, crmctl chat", "[e2e]") {
  Suite s;
  const std::string key = s.CreateKey("tenant-chat", "*");
  const std::string reader = s.CreateKey("tenant-chat", "interaction.read");
  const cv1::Customer customer = Create(s, key, "chat@example.com");
  auto stub = iv1::ChatService::NewStub(s.channel());

  iv1::ChatJoin start;
  start.set_customer(customer.name());
  start.set_role(iv1::CHAT_ROLE_CUSTOMER);
  {
    ChatClient denied(Suite::Ctx(reader, 10), *stub);
    iv1::ChatSessionRequest frame;
    *frame.mutable_join() = start;
    denied.Write(frame);
    const grpc::Status status = denied.Status();
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(status.error_message() == "API key lacks scope interaction.write");
  }

  ChatClient shopper(Suite::Ctx(key, 30), *stub);
  REQUIRE(shopper.Join(start));
  const std::string conversation = shopper.joined().conversation().name();
  REQUIRE(shopper.Send("s1", "Do you ship to Norway?"));
  REQUIRE(shopper.ReadMessages(1));

  // An agent answers from a terminal; the shopper gets it on the stream.
  const std::string input = absl::StrCat("/tmp/crm-e2e-chat-", getpid(), ".txt");
  WriteFile(input, "Yes, in 3 to 5 days.\n");
  int code = -1;
  const std::string out =
      RunCapture(CRM_CRMCTL_BIN,
                 {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()), "--key=" + key, "chat",
                  conversation, "--author=agents/6f1c2b9e-1d7a-4c55-9a3e-3d2b8e0f4a11"},
                 &code, input);
  std::remove(input.c_str());
  CHECK(code == 0);
  CHECK(out.find("joined " + conversation + " as agents/") != std::string::npos);
  CHECK(out.find(absl::StrCat("#1 ")) != std::string::npos);
  CHECK(out.find(absl::StrCat(customer.name(), ": Do you ship to Norway?")) != std::string::npos);
  CHECK(out.find("you: Yes, in 3 to 5 days.") != std::string::npos);
  REQUIRE(shopper.ReadMessages(2));
  CHECK(shopper.messages()[1].text() == "Yes, in 3 to 5 days.");
  CHECK(shopper.messages()[1].chat_seq() == 2);
  CHECK(shopper.messages()[1].author_kind() == iv1::AUTHOR_KIND_AGENT);
  CHECK(shopper.Close().ok());
}

TEST_CASE("an agent's e-mail reply through the gateway reaches a real SMTP server", "[e2e]") {
  Suite s;
  SmtpSink sink;
  auto conversations = iv1::ConversationService::NewStub(s.channel());
  auto accounts = iv1::ChannelAccountService::NewStub(s.channel());
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "interaction.read");

  iv1::CreateChannelAccountRequest account;
  account.mutable_account()->set_channel(iv1::CHANNEL_EMAIL);
  account.mutable_account()->set_display_name("Support");
  account.mutable_account()->set_sender("support@shop.example");
  account.mutable_account()->mutable_smtp()->set_host("127.0.0.1");
  account.mutable_account()->mutable_smtp()->set_port(sink.port());
  account.mutable_account()->mutable_smtp()->set_security(iv1::SMTP_SECURITY_NONE);
  iv1::ChannelAccount created;
  REQUIRE(accounts->CreateChannelAccount(Suite::Ctx(admin).get(), account, &created).ok());

  iv1::ReceiveMessageRequest mail;
  mail.set_channel(iv1::CHANNEL_EMAIL);
  mail.set_raw_email(
      "From: Ada <ada@example.com>\r\nSubject: Lid cracked\r\nMessage-ID: <e2e-m1@x>\r\n\r\n"
      "The lid arrived cracked.\r\n");
  iv1::ReceiveMessageResponse received;
  REQUIRE(conversations->ReceiveMessage(Suite::Ctx(admin).get(), mail, &received).ok());

  iv1::SendMessageRequest reply;
  reply.set_conversation(received.conversation().name());
  reply.set_purpose(iv1::PURPOSE_TRANSACTIONAL);
  reply.set_author_kind(iv1::AUTHOR_KIND_AGENT);
  reply.set_text("A new lid is on its way.");
  iv1::SendMessageResponse sent;
  grpc::Status denied = conversations->SendMessage(Suite::Ctx(reader).get(), reply, &sent);
  CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(conversations->SendMessage(Suite::Ctx(admin).get(), reply, &sent).ok());
  const auto messages = sink.AwaitMessages(1, absl::Seconds(20));
  REQUIRE(messages.size() == 1);
  CHECK(absl::StrContains(messages[0], "In-Reply-To: <e2e-m1@x>"));
  CHECK(absl::StrContains(messages[0], "A new lid is on its way."));

  // The delivery shows as SENT on the timeline.
  iv1::ListTimelineRequest timeline;
  timeline.set_customer(received.conversation().customer());
  iv1::ListTimelineResponse entries;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool delivered = false;
  while (!delivered && absl::Now() < deadline) {
    REQUIRE(conversations->ListTimeline(Suite::Ctx(reader).get(), timeline, &entries).ok());
    delivered = entries.entries_size() == 2 &&
                entries.entries(0).message().delivery_status() == iv1::DELIVERY_STATUS_SENT;
    if (!delivered) absl::SleepFor(absl::Milliseconds(50));
  }
  CHECK(delivered);

  // crmctl: the account, a reply, the suppression list.
  const std::vector<std::string> base = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                         "--key=" + admin};
  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out = crmctl({"accounts", "list"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, created.name() + "  EMAIL     default support@shop.example"));
  out = crmctl(
      {"conversations", "send", received.conversation().name(), "--body=Tracking number: 42"},
      &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "-> EMAIL     AGENT     QUEUED     Tracking number: 42"));
  CHECK(sink.AwaitMessages(2, absl::Seconds(20)).size() == 2);
  out =
      crmctl({"suppressions", "add", "Eve@Example.com", "--status=manual", "--source=e2e"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "suppressions/EMAIL:eve@example.com  MANUAL"));
  out = crmctl({"suppressions", "list"}, &code);
  CHECK(absl::StrContains(out, "eve@example.com"));

  // The account's support mailbox, polled over IMAP: set with crmctl, and
  // a customer's mail there becomes a conversation.
  ImapSink mailbox;
  s.WriteChannelSecret("e2e-imap-password", "imap-pass\n");
  mailbox.Add(1,
              "From: Bo Lind <bo@example.com>\nSubject: Size exchange\nMessage-ID: "
              "<e2e-imap-1@example.com>\n\nCan I swap the M for an L?\n");
  out = crmctl(
      {"accounts", "update", created.name(),
       absl::StrCat(R"(--json={"inbound": {"imap": {"host": "127.0.0.1", "port": )", mailbox.port(),
                    R"(, "security": "SMTP_SECURITY_NONE", "username": )"
                    R"("support@shop.example", "passwordSecret": "e2e-imap-password"}}})")},
      &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "inbound imap support@shop.example@127.0.0.1:"));
  const absl::Time polled_by = absl::Now() + absl::Seconds(20);
  while (!absl::StrContains(out, "1 received") && absl::Now() < polled_by) {
    absl::SleepFor(absl::Milliseconds(200));
    out = crmctl({"accounts", "list"}, &code);
  }
  CHECK(absl::StrContains(out, "1 received, 0 skipped"));
  out = crmctl({"conversations", "list", "--filter=status = \"OPEN\""}, &code);
  CHECK(absl::StrContains(out, "Size exchange"));
}

}  // namespace crm::testing
