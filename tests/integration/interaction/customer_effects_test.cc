// The interaction service following the customer feed for every tenant:
// an erased customer leaves no personal value in any text column of the
// interaction schema (messages, conversations, thread keys, contacts,
// events); a merge re-points their conversations and timeline to the
// survivor and an unmerge puts exactly those back.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "services/interaction/interaction_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/pii_scan.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::interaction::v1;
namespace cv1 = crm::customer::v1;

struct Inbox {
  CustomerHarness customers{"ieffects_customers"};
  ServiceHarness h{
      interaction::Definition(), "ieffects",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::ConversationService::Stub> stub = h.Stub<v1::ConversationService>();

  v1::ReceiveMessageResponse Receive(const v1::ReceiveMessageRequest& req,
                                     const std::string& tenant = "acme") {
    v1::ReceiveMessageResponse out;
    grpc::Status s = stub->ReceiveMessage(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("ReceiveMessage: " << s.error_message());
    return out;
  }

  v1::Conversation Get(const std::string& name, const std::string& tenant = "acme") {
    v1::GetConversationRequest req;
    req.set_name(name);
    v1::Conversation out;
    grpc::Status s = stub->GetConversation(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("GetConversation: " << s.error_message());
    return out;
  }

  // Polls GetConversation until `done` holds or 15 s pass.
  template <typename Done>
  v1::Conversation Await(const std::string& name, Done done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    v1::Conversation c = Get(name);
    while (!done(c) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      c = Get(name);
    }
    return c;
  }

  std::vector<std::string> Timeline(const std::string& customer) {
    v1::ListTimelineRequest req;
    req.set_customer(customer);
    v1::ListTimelineResponse out;
    grpc::Status s = stub->ListTimeline(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ListTimeline: " << s.error_message());
    std::vector<std::string> names;
    for (const auto& e : out.entries()) names.push_back(e.message().name());
    return names;
  }
};

}  // namespace

TEST_CASE("an erased customer leaves no personal value in the interaction schema",
          "[integration][interaction]") {
  Inbox in;
  v1::ReceiveMessageRequest mail;
  mail.set_channel(v1::CHANNEL_EMAIL);
  mail.set_raw_email(
      absl::StrReplaceAll("From: Quentin Xylophant <quentin.xylophant@example.com>\n"
                          "To: support@shop.example\n"
                          "Subject: Quentin Xylophant: parcel never came\n"
                          "Message-ID: <quentin.xylophant.1@example.com>\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/mixed; boundary=\"b\"\n"
                          "\n"
                          "--b\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Please call Quentin Xylophant on +44 7700 900555.\n"
                          "--b\n"
                          "Content-Type: text/html\n"
                          "\n"
                          "<p>Quentin Xylophant</p>\n"
                          "--b\n"
                          "Content-Type: image/png\n"
                          "Content-Disposition: attachment; filename=\"quentin-xylophant.png\"\n"
                          "\n"
                          "PNG\n"
                          "--b--\n",
                          {{"\n", "\r\n"}}));
  const auto first = in.Receive(mail);
  v1::ReceiveMessageRequest sms;
  sms.set_channel(v1::CHANNEL_SMS);
  sms.set_customer(first.conversation().customer());
  sms.set_from("+447700900555");
  sms.set_external_id("quentin-sms-1");
  sms.set_thread_id("quentin-thread");
  sms.set_text("Quentin Xylophant again");
  in.Receive(sms);
  // Someone else, and another tenant: untouched.
  v1::ReceiveMessageRequest other = sms;
  other.clear_customer();
  other.set_from("+447700900777");
  other.set_external_id("zebra-1");
  other.set_thread_id("");
  other.set_text("Zebra lamp flickers");
  const auto kept = in.Receive(other);
  const auto elsewhere = in.Receive(other, "globex");

  cv1::EraseCustomerRequest erase;
  erase.set_name(first.conversation().customer());
  cv1::EraseCustomerResponse erased;
  REQUIRE(in.customers.stub().EraseCustomer(ServiceHarness::Ctx().get(), erase, &erased).ok());

  const v1::Conversation after =
      in.Await(first.conversation().name(),
               [](const v1::Conversation& c) { return c.subject() == "[erased]"; });
  CHECK(after.subject() == "[erased]");
  CHECK(after.customer() == first.conversation().customer());  // the pseudonymous link stays
  const std::vector<std::string> values = {"Quentin", "Xylophant", "quentin.xylophant",
                                           "7700900555", "quentin-thread"};
  CHECK(PersonalValueLeaks(in.h.db_url(), "interaction", values).empty());
  CHECK(in.Get(kept.conversation().name()).subject() == "Zebra lamp flickers");
  CHECK(in.Get(elsewhere.conversation().name(), "globex").subject() == "Zebra lamp flickers");

  // A new message from the erased address is a new customer.
  mail.set_raw_email(absl::StrReplaceAll(
      "From: quentin.xylophant@example.com\nMessage-ID: <q2@x>\n\nhello\n", {{"\n", "\r\n"}}));
  const auto again = in.Receive(mail);
  CHECK(again.conversation().customer() != first.conversation().customer());
}

TEST_CASE("a merge re-points the merged customer's conversations and an unmerge puts them back",
          "[integration][interaction]") {
  Inbox in;
  const cv1::Customer survivor = in.customers.NewCustomer("keep@example.com");
  const cv1::Customer merged = in.customers.NewCustomer("fold@example.com");
  v1::ReceiveMessageRequest req;
  req.set_channel(v1::CHANNEL_LIVE_CHAT);
  req.set_customer(merged.name());
  req.set_external_id("c1");
  req.set_text("hello from the merged one");
  const auto theirs = in.Receive(req);
  req.set_customer(survivor.name());
  req.set_external_id("c2");
  const auto own = in.Receive(req);

  cv1::MergeCustomersRequest merge;
  merge.set_survivor(survivor.name());
  merge.set_merged(merged.name());
  cv1::MergeCustomersResponse done;
  REQUIRE(in.customers.stub().MergeCustomers(ServiceHarness::Ctx().get(), merge, &done).ok());
  const v1::Conversation moved = in.Await(
      theirs.conversation().name(), [&](const auto& c) { return c.customer() == survivor.name(); });
  CHECK(moved.customer() == survivor.name());
  CHECK(in.Timeline(survivor.name()).size() == 2);
  CHECK(in.Timeline(merged.name()).empty());

  cv1::UnmergeCustomerRequest unmerge;
  unmerge.set_name(done.merge().name());
  cv1::UnmergeCustomerResponse undone;
  REQUIRE(in.customers.stub().UnmergeCustomer(ServiceHarness::Ctx().get(), unmerge, &undone).ok());
  const v1::Conversation back = in.Await(
      theirs.conversation().name(), [&](const auto& c) { return c.customer() == merged.name(); });
  CHECK(back.customer() == merged.name());
  CHECK(in.Timeline(merged.name()) == std::vector<std::string>{theirs.message().name()});
  CHECK(in.Get(own.conversation().name()).customer() == survivor.name());
}

}  // namespace crm::testing
