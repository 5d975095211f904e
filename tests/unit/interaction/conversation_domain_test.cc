// The conversation rules without a database: senders' addresses per
// channel, what an inbound message must hold, conversation updates and
// snoozing, the subject token, and the Message-IDs a reply threads by.
#include "services/interaction/conversation_domain.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "common/api/enum_text.h"

namespace crm::interaction {
namespace {

v1::ReceiveMessageRequest ValidSms() {
  v1::ReceiveMessageRequest r;
  r.set_channel(v1::CHANNEL_SMS);
  r.set_from("+44 7700 900123");
  r.set_external_id("SM0001");
  r.set_text("Where is my parcel?");
  return r;
}

std::string MessageOf(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("a sender's address is normalised as its channel says", "[unit][interaction]") {
  auto email = ContactOf(v1::CHANNEL_EMAIL, " Ada@Example.COM ", "from");
  REQUIRE(email.ok());
  CHECK(email->kind == "EMAIL");
  CHECK(email->address == "ada@example.com");

  auto phone = ContactOf(v1::CHANNEL_WHATSAPP, "+44 (7700) 900-123", "from");
  REQUIRE(phone.ok());
  CHECK(phone->kind == "PHONE");
  CHECK(phone->address == "+447700900123");

  auto handle = ContactOf(v1::CHANNEL_MESSENGER, "5512345678901234", "from");
  REQUIRE(handle.ok());
  CHECK(handle->kind == "messenger");
  CHECK(handle->address == "5512345678901234");

  auto chat_email = ContactOf(v1::CHANNEL_LIVE_CHAT, "bo@example.com", "from");
  REQUIRE(chat_email.ok());
  CHECK(chat_email->kind == "EMAIL");
  auto chat_phone = ContactOf(v1::CHANNEL_WEB_FORM, "+14155550100", "from");
  REQUIRE(chat_phone.ok());
  CHECK(chat_phone->kind == "PHONE");

  CHECK(absl::StartsWith(MessageOf(ContactOf(v1::CHANNEL_EMAIL, "not-an-address", "from").status()),
                         "from:"));
  CHECK(ContactOf(v1::CHANNEL_SMS, "0044 7700", "from").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ContactOf(v1::CHANNEL_INSTAGRAM, "has space", "from").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ContactOf(v1::CHANNEL_UNSPECIFIED, "a@b.c", "from").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an inbound message is checked field by field", "[unit][interaction]") {
  CHECK(ValidateReceive(ValidSms()).ok());
  struct Case {
    std::function<void(v1::ReceiveMessageRequest&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_channel(v1::CHANNEL_UNSPECIFIED); }, "channel:"},
      {[](auto& r) { r.set_channel(static_cast<v1::Channel>(99)); }, "channel:"},
      {[](auto& r) { r.clear_from(); }, "from:"},
      {[](auto& r) { r.clear_external_id(); }, "external_id:"},
      {[](auto& r) { r.set_external_id(std::string(256, 'x')); }, "external_id:"},
      {[](auto& r) { r.clear_text(); }, "text:"},
      {[](auto& r) { r.set_text(std::string("\xff\xfe", 2)); }, "text:"},
      {[](auto& r) { r.set_html("<p>hi</p>"); }, "html:"},
      {[](auto& r) { r.set_customer("someone"); }, "customer:"},
      {[](auto& r) { r.set_conversation("conversations/nope"); }, "conversation:"},
      {[](auto& r) { r.set_channel_account("accounts/1"); }, "channel_account:"},
      {[](auto& r) { r.add_attachments()->set_size_bytes(-1); }, "attachments[0].size_bytes:"},
      {[](auto& r) {
         for (int i = 0; i < 51; ++i) r.add_attachments();
       },
       "attachments:"},
      {[](auto& r) {
         for (int i = 0; i < 101; ++i) r.add_references("a@b");
       },
       "references:"},
      {[](auto& r) { r.mutable_sent_time()->set_seconds(-5); }, "sent_time:"},
  };
  for (const Case& c : cases) {
    v1::ReceiveMessageRequest r = ValidSms();
    c.change(r);
    const absl::Status s = ValidateReceive(r);
    INFO(c.field << " → " << s.message());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), c.field));
  }
  // A known customer needs no resolvable sender; attachments alone suffice.
  v1::ReceiveMessageRequest known = ValidSms();
  known.set_from("");
  known.set_customer("customers/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  known.clear_text();
  known.add_attachments()->set_filename("photo.jpg");
  CHECK(ValidateReceive(known).ok());
}

TEST_CASE("conversation updates: paths, labels, snoozing", "[unit][interaction]") {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  v1::Conversation current;
  current.set_name("conversations/c1");
  current.set_status(v1::CONVERSATION_STATUS_OPEN);

  v1::Conversation patch;
  patch.set_status(v1::CONVERSATION_STATUS_SNOOZED);
  CHECK(absl::StartsWith(ValidateConversationUpdate(patch, {"status"}, now).message(),
                         "conversation.snooze_until_time: required"));
  patch.mutable_snooze_until_time()->set_seconds(absl::ToUnixSeconds(now) - 1);
  CHECK(absl::StrContains(
      ValidateConversationUpdate(patch, {"status", "snooze_until_time"}, now).message(), "future"));
  patch.mutable_snooze_until_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(4)));
  REQUIRE(ValidateConversationUpdate(patch, {"status", "snooze_until_time"}, now).ok());
  auto snoozed = ApplyConversationUpdate(current, patch, {"status", "snooze_until_time"});
  REQUIRE(snoozed.ok());
  CHECK(snoozed->status() == v1::CONVERSATION_STATUS_SNOOZED);
  CHECK(snoozed->has_snooze_until_time());

  // Leaving SNOOZED clears the time.
  v1::Conversation reopen;
  reopen.set_status(v1::CONVERSATION_STATUS_OPEN);
  auto opened = ApplyConversationUpdate(*snoozed, reopen, {"status"});
  REQUIRE(opened.ok());
  CHECK_FALSE(opened->has_snooze_until_time());

  // A snooze time alone on an open conversation says what is missing.
  v1::Conversation only_time;
  *only_time.mutable_snooze_until_time() = patch.snooze_until_time();
  REQUIRE(ValidateConversationUpdate(only_time, {"snooze_until_time"}, now).ok());
  CHECK(ApplyConversationUpdate(current, only_time, {"snooze_until_time"}).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  v1::Conversation labels;
  labels.add_labels("vip");
  labels.add_labels("returns");
  labels.add_labels("vip");
  auto labelled = ApplyConversationUpdate(current, labels, {"labels"});
  REQUIRE(labelled.ok());
  CHECK(labelled->labels_size() == 2);  // unique, sorted
  CHECK(labelled->labels(0) == "returns");
  labels.add_labels("Not OK");
  CHECK(absl::StartsWith(ValidateConversationUpdate(labels, {"labels"}, now).message(),
                         "conversation.labels[3]"));

  CHECK(absl::StartsWith(ValidateConversationUpdate(patch, {"customer"}, now).message(),
                         "update_mask: customer cannot be updated"));
  CHECK(absl::StartsWith(ValidateConversationUpdate(patch, {}, now).message(), "update_mask:"));
  v1::Conversation assignee;
  assignee.set_assignee("users/1");
  CHECK(absl::StartsWith(ValidateConversationUpdate(assignee, {"assignee"}, now).message(),
                         "conversation.assignee:"));
}

TEST_CASE("subject tokens are random, found in subjects, and appended once",
          "[unit][interaction]") {
  std::set<std::string> tokens;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = NewConversationToken();
    REQUIRE(t.size() == 10);
    REQUIRE(TokenInSubject(SubjectWithToken("Re: parcel", t)) == t);
    tokens.insert(t);
  }
  CHECK(tokens.size() == 1000);
  CHECK(TokenInSubject("Re: [#abcdefgh23] late") == "abcdefgh23");
  CHECK(TokenInSubject("[#ABCDEFGH23]").empty());         // upper case is not ours
  CHECK(TokenInSubject("[#abc] [#abcdefgh19]").empty());  // 1 and 9 are not base32
  CHECK(TokenInSubject("[#short] then [#abcdefgh23]") == "abcdefgh23");
  CHECK(SubjectWithToken("Re: x [#abcdefgh23]", "abcdefgh23") == "Re: x [#abcdefgh23]");
  CHECK(SubjectWithToken("", "abcdefgh23") == "[#abcdefgh23]");
}

TEST_CASE("a reply threads by In-Reply-To, then References newest first", "[unit][interaction]") {
  v1::ReceiveMessageRequest r;
  r.set_in_reply_to("<c@shop>");
  r.add_references("<a@shop>");
  r.add_references("b@shop");
  r.add_references("<c@shop>");
  CHECK(ThreadCandidates(r) == std::vector<std::string>{"c@shop", "b@shop", "a@shop"});
  CHECK(BareMessageId("  <x@y>  ") == "x@y");
}

TEST_CASE("enum values as stored text", "[unit][interaction]") {
  CHECK(api::EnumText(v1::CHANNEL_LIVE_CHAT) == "LIVE_CHAT");
  CHECK(api::EnumText(v1::DELIVERY_STATUS_COMPLAINED) == "COMPLAINED");
  CHECK(api::EnumText(static_cast<v1::Channel>(99)).empty());
  CHECK(api::EnumOf<v1::ConversationStatus>("SNOOZED") == v1::CONVERSATION_STATUS_SNOOZED);
  CHECK(api::EnumOf<v1::Channel>("PIGEON") == v1::CHANNEL_UNSPECIFIED);
}

TEST_CASE("a display name splits at its last space", "[unit][interaction]") {
  std::string given, family;
  SplitName(" Ada  Lovelace ", &given, &family);
  CHECK(given == "Ada");
  CHECK(family == "Lovelace");
  SplitName("Cher", &given, &family);
  CHECK(given == "Cher");
  CHECK(family.empty());
}

}  // namespace crm::interaction
