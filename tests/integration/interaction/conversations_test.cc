// The interaction service over real Postgres, with the customer service
// in-process: inbound messages resolve their senders, thread by e-mail
// headers, subject tokens and channel thread ids, are idempotent by
// external id, reopen closed conversations within the window, wake snoozed
// ones; conversations merge; a customer's timeline pages newest first; and
// tenants never see each other's conversations.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "services/interaction/interaction_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"

ABSL_DECLARE_FLAG(int, reopen_window_hours);

namespace crm::testing {
namespace {

namespace v1 = crm::interaction::v1;
namespace cv1 = crm::customer::v1;

struct Inbox {
  CustomerHarness customers{"inbox_customers"};
  ServiceHarness h{
      interaction::Definition(), "inbox",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::ConversationService::Stub> stub = h.Stub<v1::ConversationService>();

  grpc::Status TryReceive(const v1::ReceiveMessageRequest& req, v1::ReceiveMessageResponse* out,
                          const std::string& tenant = "acme") {
    return stub->ReceiveMessage(ServiceHarness::Ctx(tenant).get(), req, out);
  }

  v1::ReceiveMessageResponse Receive(const v1::ReceiveMessageRequest& req,
                                     const std::string& tenant = "acme") {
    v1::ReceiveMessageResponse out;
    grpc::Status s = TryReceive(req, &out, tenant);
    if (!s.ok()) FAIL("ReceiveMessage: " << s.error_message());
    return out;
  }

  v1::ReceiveMessageResponse Sms(const std::string& from, const std::string& id,
                                 const std::string& text, const std::string& tenant = "acme") {
    v1::ReceiveMessageRequest req;
    req.set_channel(v1::CHANNEL_SMS);
    req.set_from(from);
    req.set_external_id(id);
    req.set_text(text);
    return Receive(req, tenant);
  }

  v1::ReceiveMessageResponse Email(const std::string& raw) {
    v1::ReceiveMessageRequest req;
    req.set_channel(v1::CHANNEL_EMAIL);
    req.set_raw_email(absl::StrReplaceAll(raw, {{"\n", "\r\n"}}));
    return Receive(req);
  }

  v1::Conversation Get(const std::string& name, grpc::Status* status = nullptr,
                       const std::string& tenant = "acme") {
    v1::GetConversationRequest req;
    req.set_name(name);
    v1::Conversation out;
    grpc::Status s = stub->GetConversation(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (status != nullptr) {
      *status = s;
    } else if (!s.ok()) {
      FAIL("GetConversation: " << s.error_message());
    }
    return out;
  }

  grpc::Status TryUpdate(const v1::Conversation& patch, const std::vector<std::string>& paths,
                         v1::Conversation* out) {
    v1::UpdateConversationRequest req;
    *req.mutable_conversation() = patch;
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    return stub->UpdateConversation(ServiceHarness::Ctx().get(), req, out);
  }

  v1::Conversation SetStatus(const std::string& name, v1::ConversationStatus status) {
    v1::Conversation patch;
    patch.set_name(name);
    patch.set_status(status);
    v1::Conversation out;
    grpc::Status s = TryUpdate(patch, {"status"}, &out);
    if (!s.ok()) FAIL("UpdateConversation: " << s.error_message());
    return out;
  }

  std::vector<std::string> EventTypes() {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    std::vector<std::string> types;
    for (const auto& row : tx.exec("SELECT type FROM interaction.outbox ORDER BY tx_id, seq")) {
      types.push_back(row[0].as<std::string>());
    }
    return types;
  }
};

}  // namespace

TEST_CASE("an SMS from an unknown number creates the customer and a conversation",
          "[integration][interaction]") {
  Inbox in;
  const auto first = in.Sms("+44 7700 900123", "SM1", "Where is my parcel?");
  CHECK(first.customer_created());
  CHECK(first.conversation_created());
  CHECK_FALSE(first.replayed());
  CHECK(absl::StartsWith(first.conversation().name(), "conversations/"));
  CHECK(first.conversation().channel() == v1::CHANNEL_SMS);
  CHECK(first.conversation().status() == v1::CONVERSATION_STATUS_OPEN);
  CHECK(first.conversation().message_count() == 1);
  CHECK(first.conversation().subject() == "Where is my parcel?");
  CHECK(first.message().direction() == v1::DIRECTION_INBOUND);
  CHECK(first.message().author_kind() == v1::AUTHOR_KIND_CUSTOMER);
  CHECK(first.message().delivery_status() == v1::DELIVERY_STATUS_RECEIVED);
  REQUIRE(first.message().delivery_history_size() == 1);
  CHECK(first.message().delivery_history(0).status() == v1::DELIVERY_STATUS_RECEIVED);
  CHECK(absl::StartsWith(first.message().name(), first.conversation().name() + "/messages/"));

  // The customer service has them, with the number as their identity.
  cv1::GetCustomerRequest get;
  get.set_name(first.conversation().customer());
  cv1::Customer customer;
  REQUIRE(in.customers.stub().GetCustomer(ServiceHarness::Ctx().get(), get, &customer).ok());
  bool has_phone = customer.phone() == "+447700900123";
  for (const auto& id : customer.identities()) has_phone |= id.value() == "+447700900123";
  CHECK(has_phone);

  // The next message from the number joins the same conversation, known
  // without asking the customer service again.
  const auto second = in.Sms("+447700900123", "SM2", "Order 1042");
  CHECK_FALSE(second.customer_created());
  CHECK_FALSE(second.conversation_created());
  CHECK(second.conversation().name() == first.conversation().name());
  CHECK(second.conversation().message_count() == 2);
  CHECK(second.conversation().etag() != first.conversation().etag());

  // A retry of the first is answered with what was stored, changing nothing.
  const auto retry = in.Sms("+447700900123", "SM1", "Where is my parcel?");
  CHECK(retry.replayed());
  CHECK(retry.message().name() == first.message().name());
  CHECK(in.Get(first.conversation().name()).message_count() == 2);
  CHECK(in.EventTypes() ==
        std::vector<std::string>{"conversation.created", "message.received", "message.received"});

  // Another tenant: its own customer and conversation; ours is invisible.
  const auto globex = in.Sms("+447700900123", "SM1", "Hello", "globex");
  CHECK(globex.customer_created());
  CHECK(globex.conversation().name() != first.conversation().name());
  grpc::Status hidden;
  in.Get(first.conversation().name(), &hidden, "globex");
  CHECK(hidden.error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("e-mail threads by In-Reply-To, References and the subject token",
          "[integration][interaction]") {
  Inbox in;
  const auto first = in.Email(
      "From: Ada Lovelace <ada@example.com>\n"
      "To: support@shop.example\n"
      "Subject: Jacket too big\n"
      "Message-ID: <m1@mail.example.com>\n"
      "\n"
      "Can I swap it for a smaller one?\n");
  CHECK(first.customer_created());
  CHECK(first.conversation_created());
  CHECK(first.message().external_id() == "m1@mail.example.com");
  CHECK(first.conversation().subject() == "Jacket too big");
  const std::string conversation = first.conversation().name();
  const std::string token = first.conversation().token();
  REQUIRE(token.size() == 10);

  // Named from the sender's display name.
  cv1::GetCustomerRequest get;
  get.set_name(first.conversation().customer());
  cv1::Customer ada;
  REQUIRE(in.customers.stub().GetCustomer(ServiceHarness::Ctx().get(), get, &ada).ok());
  CHECK(ada.given_name() == "Ada");
  CHECK(ada.family_name() == "Lovelace");
  CHECK(ada.email() == "ada@example.com");

  const auto reply = in.Email(
      "From: ada@example.com\n"
      "Subject: Re: Jacket too big\n"
      "Message-ID: <m2@mail.example.com>\n"
      "In-Reply-To: <m1@mail.example.com>\n"
      "References: <m1@mail.example.com>\n"
      "\n"
      "Size S please.\n");
  CHECK(reply.conversation().name() == conversation);
  CHECK(reply.message().in_reply_to() == "m1@mail.example.com");

  // Only the older id in References: still found.
  const auto deep = in.Email(
      "From: ada@example.com\n"
      "Subject: Re: Re: Jacket too big\n"
      "Message-ID: <m3@mail.example.com>\n"
      "References: <unknown@elsewhere> <m1@mail.example.com>\n"
      "\n"
      "Any news?\n");
  CHECK(deep.conversation().name() == conversation);

  // Headers lost, the token kept in the subject.
  const auto by_token =
      in.Email(absl::StrCat("From: ada@example.com\n"
                            "Subject: Fwd: Jacket [#",
                            token,
                            "]\n"
                            "Message-ID: <m4@mail.example.com>\n"
                            "\n"
                            "Forwarding from my phone.\n"));
  CHECK(by_token.conversation().name() == conversation);
  CHECK(by_token.conversation().message_count() == 4);

  // Another sender using the same headers does not join Ada's conversation.
  const auto stranger = in.Email(
      "From: eve@example.com\n"
      "Subject: Re: Jacket too big\n"
      "Message-ID: <m5@mail.example.com>\n"
      "In-Reply-To: <m1@mail.example.com>\n"
      "\n"
      "Me too.\n");
  CHECK(stranger.conversation().name() != conversation);

  // A new e-mail without references starts a new conversation.
  const auto fresh = in.Email(
      "From: ada@example.com\n"
      "Subject: Invoice\n"
      "Message-ID: <m6@mail.example.com>\n"
      "\n"
      "Please send the invoice.\n");
  CHECK(fresh.conversation_created());
  CHECK(fresh.conversation().name() != conversation);

  // A redelivered e-mail is a replay.
  const auto again = in.Email(
      "From: ada@example.com\n"
      "Subject: Invoice\n"
      "Message-ID: <m6@mail.example.com>\n"
      "\n"
      "Please send the invoice.\n");
  CHECK(again.replayed());
  CHECK(again.message().name() == fresh.message().name());
}

TEST_CASE("social thread ids, snoozing and reopening", "[integration][interaction]") {
  Inbox in;
  v1::ReceiveMessageRequest dm;
  dm.set_channel(v1::CHANNEL_MESSENGER);
  dm.set_from("5512345678901234");
  dm.set_sender_name("Bo Brun");
  dm.set_thread_id("t_100");
  dm.set_external_id("mid.1");
  dm.set_text("Hi!");
  const auto first = in.Receive(dm);
  CHECK(first.customer_created());
  dm.set_external_id("mid.2");
  dm.set_text("Still there?");
  const auto second = in.Receive(dm);
  CHECK(second.conversation().name() == first.conversation().name());
  // Another thread of the same person is another conversation.
  dm.set_thread_id("t_200");
  dm.set_external_id("mid.3");
  const auto other = in.Receive(dm);
  CHECK(other.conversation_created());
  CHECK(other.conversation().name() != first.conversation().name());

  // Snoozed: a message wakes it.
  v1::Conversation snooze;
  snooze.set_name(first.conversation().name());
  snooze.set_status(v1::CONVERSATION_STATUS_SNOOZED);
  snooze.mutable_snooze_until_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
  v1::Conversation snoozed;
  REQUIRE(in.TryUpdate(snooze, {"status", "snooze_until_time"}, &snoozed).ok());
  CHECK(snoozed.status() == v1::CONVERSATION_STATUS_SNOOZED);
  dm.set_thread_id("t_100");
  dm.set_external_id("mid.4");
  const auto woke = in.Receive(dm);
  CHECK(woke.conversation_reopened());
  CHECK(woke.conversation().status() == v1::CONVERSATION_STATUS_OPEN);
  CHECK_FALSE(woke.conversation().has_snooze_until_time());

  // Closed within the window: reopened.
  const v1::Conversation closed =
      in.SetStatus(first.conversation().name(), v1::CONVERSATION_STATUS_CLOSED);
  CHECK(closed.has_close_time());
  dm.set_external_id("mid.5");
  const auto reopened = in.Receive(dm);
  CHECK(reopened.conversation_reopened());
  CHECK(reopened.conversation().name() == first.conversation().name());
  CHECK(reopened.conversation().status() == v1::CONVERSATION_STATUS_OPEN);

  // A stale etag is refused.
  v1::Conversation stale;
  stale.set_name(first.conversation().name());
  stale.set_etag(closed.etag());
  stale.add_labels("vip");
  v1::Conversation out;
  CHECK(in.TryUpdate(stale, {"labels"}, &out).error_code() == grpc::StatusCode::ABORTED);
}

TEST_CASE("a conversation closed longer than the window is not reopened",
          "[integration][interaction]") {
  absl::SetFlag(&FLAGS_reopen_window_hours, 0);
  Inbox in;
  absl::SetFlag(&FLAGS_reopen_window_hours, 168);
  const auto first = in.Sms("+14155550100", "A1", "Hello");
  in.SetStatus(first.conversation().name(), v1::CONVERSATION_STATUS_CLOSED);
  const auto next = in.Sms("+14155550100", "A2", "Hello again");
  CHECK(next.conversation_created());
  CHECK_FALSE(next.conversation_reopened());
  CHECK(next.conversation().name() != first.conversation().name());
  CHECK(in.Get(first.conversation().name()).status() == v1::CONVERSATION_STATUS_CLOSED);
}

TEST_CASE("merging conversations moves the messages and keeps the threads",
          "[integration][interaction]") {
  Inbox in;
  const auto a = in.Email(
      "From: cy@example.com\n"
      "Subject: Order 7\n"
      "Message-ID: <a1@x>\n"
      "\n"
      "First\n");
  const auto b = in.Email(
      "From: cy@example.com\n"
      "Subject: Order 7 again\n"
      "Message-ID: <b1@x>\n"
      "\n"
      "Second\n");
  REQUIRE(a.conversation().name() != b.conversation().name());
  v1::MergeConversationsRequest merge;
  merge.set_source(b.conversation().name());
  merge.set_target(a.conversation().name());
  merge.set_request_id("merge-ab");
  v1::MergeConversationsResponse done;
  const grpc::Status merged =
      in.stub->MergeConversations(ServiceHarness::Ctx().get(), merge, &done);
  INFO(merged.error_message());
  REQUIRE(merged.ok());
  CHECK(done.moved_messages() == 1);
  CHECK(done.target().message_count() == 2);
  CHECK(done.source().merged_into() == a.conversation().name());
  CHECK(done.source().status() == v1::CONVERSATION_STATUS_CLOSED);
  // A retry answers the same.
  v1::MergeConversationsResponse retried;
  REQUIRE(in.stub->MergeConversations(ServiceHarness::Ctx().get(), merge, &retried).ok());
  CHECK(retried.target().etag() == done.target().etag());

  // A reply to the source's thread lands in the target.
  const auto reply = in.Email(
      "From: cy@example.com\n"
      "Subject: Re: Order 7 again\n"
      "Message-ID: <b2@x>\n"
      "In-Reply-To: <b1@x>\n"
      "\n"
      "Third\n");
  CHECK(reply.conversation().name() == a.conversation().name());
  v1::ListMessagesRequest list;
  list.set_parent(a.conversation().name());
  v1::ListMessagesResponse messages;
  REQUIRE(in.stub->ListMessages(ServiceHarness::Ctx().get(), list, &messages).ok());
  REQUIRE(messages.messages_size() == 3);
  CHECK(messages.messages(0).text() == "First\r\n");
  CHECK(messages.messages(2).text() == "Third\r\n");

  // The merged conversation is read-only.
  v1::Conversation label;
  label.set_name(b.conversation().name());
  label.add_labels("x");
  v1::Conversation out;
  CHECK(in.TryUpdate(label, {"labels"}, &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  // Different customers' conversations do not merge.
  const auto other = in.Sms("+14155550111", "S1", "hi");
  merge.set_source(other.conversation().name());
  merge.set_request_id("");
  CHECK(in.stub->MergeConversations(ServiceHarness::Ctx().get(), merge, &done).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(in.EventTypes().back() == "message.received");
}

TEST_CASE("a customer's timeline: every channel, newest first, in pages",
          "[integration][interaction]") {
  Inbox in;
  const cv1::Customer dee = in.customers.NewCustomer("dee@example.com");
  std::vector<std::string> sent;
  for (int i = 0; i < 5; ++i) {
    v1::ReceiveMessageRequest req;
    req.set_channel(i % 2 == 0 ? v1::CHANNEL_LIVE_CHAT : v1::CHANNEL_EMAIL);
    req.set_customer(dee.name());
    req.set_external_id(absl::StrCat("t", i));
    req.set_text(absl::StrCat("message ", i));
    sent.push_back(in.Receive(req).message().name());
  }
  in.Sms("+14155550199", "noise", "someone else");
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListTimelineRequest req;
    req.set_customer(dee.name());
    req.set_page_size(2);
    req.set_page_token(token);
    v1::ListTimelineResponse page;
    REQUIRE(in.stub->ListTimeline(ServiceHarness::Ctx().get(), req, &page).ok());
    for (const auto& e : page.entries()) {
      seen.push_back(e.message().name());
      CHECK(e.conversation().customer() == dee.name());
      CHECK(e.message().name().rfind(e.conversation().name(), 0) == 0);
    }
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(seen == std::vector<std::string>(sent.rbegin(), sent.rend()));

  v1::ListTimelineRequest email_only;
  email_only.set_customer(dee.name());
  email_only.set_filter("channel = \"EMAIL\"");
  v1::ListTimelineResponse emails;
  REQUIRE(in.stub->ListTimeline(ServiceHarness::Ctx().get(), email_only, &emails).ok());
  CHECK(emails.entries_size() == 2);
  // Another tenant sees nothing of Dee.
  v1::ListTimelineResponse none;
  REQUIRE(in.stub->ListTimeline(ServiceHarness::Ctx("globex").get(), email_only, &none).ok());
  CHECK(none.entries_size() == 0);

  v1::ListConversationsRequest open_chats;
  open_chats.set_filter(
      absl::StrCat("customer = \"", dee.name(), "\" AND channel = \"LIVE_CHAT\""));
  v1::ListConversationsResponse chats;
  REQUIRE(in.stub->ListConversations(ServiceHarness::Ctx().get(), open_chats, &chats).ok());
  CHECK(chats.conversations_size() == 1);  // the chat messages share one conversation
  CHECK(chats.conversations(0).message_count() == 3);
}

TEST_CASE("bad input is refused with the field named", "[integration][interaction]") {
  Inbox in;
  struct Case {
    v1::ReceiveMessageRequest req;
    grpc::StatusCode code;
    std::string prefix;
  };
  std::vector<Case> cases;
  v1::ReceiveMessageRequest r;
  r.set_channel(v1::CHANNEL_SMS);
  r.set_from("+14155550100");
  r.set_external_id("x");
  r.set_text("hi");
  auto with = [&](auto change) {
    v1::ReceiveMessageRequest c = r;
    change(c);
    return c;
  };
  cases.push_back(
      {with([](auto& c) { c.set_from("call me"); }), grpc::StatusCode::INVALID_ARGUMENT, "from:"});
  cases.push_back({with([](auto& c) { c.set_raw_email("From: a@b.c\r\n\r\nx"); }),
                   grpc::StatusCode::INVALID_ARGUMENT, "channel:"});
  cases.push_back({with([](auto& c) {
                     c.set_channel(v1::CHANNEL_EMAIL);
                     c.set_raw_email("From: a@b.c\r\n\r\nx");
                   }),
                   grpc::StatusCode::INVALID_ARGUMENT, "from: comes from raw_email"});
  cases.push_back({with([](auto& c) {
                     c.clear_from();
                     c.set_customer("customers/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
                   }),
                   grpc::StatusCode::FAILED_PRECONDITION, "customer:"});
  cases.push_back({with([](auto& c) {
                     c.set_conversation("conversations/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
                   }),
                   grpc::StatusCode::FAILED_PRECONDITION, "conversation:"});
  for (const Case& c : cases) {
    v1::ReceiveMessageResponse out;
    grpc::Status s = in.TryReceive(c.req, &out);
    INFO(c.prefix << " → " << s.error_message());
    CHECK(s.error_code() == c.code);
    CHECK(absl::StartsWith(s.error_message(), c.prefix));
  }
  v1::ReceiveMessageResponse out;
  CHECK(in.stub->ReceiveMessage(ServiceHarness::Ctx("").get(), r, &out).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  v1::ListTimelineRequest timeline;
  timeline.set_customer("nobody");
  v1::ListTimelineResponse page;
  CHECK(in.stub->ListTimeline(ServiceHarness::Ctx().get(), timeline, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListConversationsRequest list;
  list.set_filter("colour = \"red\"");
  v1::ListConversationsResponse conversations;
  grpc::Status bad_filter =
      in.stub->ListConversations(ServiceHarness::Ctx().get(), list, &conversations);
  CHECK(bad_filter.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad_filter.error_message(), "filter:"));
}

}  // namespace crm::testing
