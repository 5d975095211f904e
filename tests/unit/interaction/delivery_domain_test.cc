// Outbound rules without I/O: who may be sent what, the retry schedule, how
// an SMTP answer is read, and what valid accounts, suppressions and sends are.
#include "services/interaction/delivery_domain.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

namespace crm::interaction {

TEST_CASE("suppressions stop marketing, a hard bounce stops everything", "[unit][interaction]") {
  using v1::Purpose;
  using v1::SuppressionReason;
  for (SuppressionReason r :
       {v1::SUPPRESSION_REASON_UNSUBSCRIBED, v1::SUPPRESSION_REASON_COMPLAINED,
        v1::SUPPRESSION_REASON_MANUAL, v1::SUPPRESSION_REASON_HARD_BOUNCE}) {
    CHECK(Suppresses(r, v1::PURPOSE_MARKETING));
    CHECK(Suppresses(r, v1::PURPOSE_TRANSACTIONAL) == (r == v1::SUPPRESSION_REASON_HARD_BOUNCE));
  }
}

TEST_CASE("retries back off exponentially up to an hour", "[unit][interaction]") {
  const absl::Duration base = absl::Seconds(30);
  CHECK(RetryDelay(1, base) == absl::Seconds(30));
  CHECK(RetryDelay(2, base) == absl::Seconds(60));
  CHECK(RetryDelay(4, base) == absl::Seconds(240));
  CHECK(RetryDelay(50, base) == absl::Hours(1));
}

TEST_CASE("an SMTP answer decides the message's fate", "[unit][interaction]") {
  CHECK(ClassifySmtp(true, 250, false) == SendOutcome::kSent);
  CHECK(ClassifySmtp(false, 451, false) == SendOutcome::kRetry);
  CHECK(ClassifySmtp(false, 0, false) == SendOutcome::kRetry);  // no connection
  CHECK(ClassifySmtp(false, 550, true) == SendOutcome::kBounced);
  CHECK(ClassifySmtp(false, 552, false) == SendOutcome::kFailed);
}

TEST_CASE("channel accounts, suppressions and sends are checked field by field",
          "[unit][interaction]") {
  v1::ChannelAccount a;
  a.set_channel(v1::CHANNEL_EMAIL);
  a.set_display_name("Support");
  a.set_sender("support@shop.example");
  a.mutable_smtp()->set_host("smtp.shop.example");
  CHECK(ValidateChannelAccount(a, "account").ok());
  a.mutable_smtp()->set_host("smtp.shop.example; rm -rf");
  CHECK(absl::StartsWith(ValidateChannelAccount(a, "account").message(), "account.smtp.host"));
  a.mutable_smtp()->set_host("smtp.shop.example");
  a.mutable_smtp()->set_port(70000);
  CHECK(absl::StartsWith(ValidateChannelAccount(a, "account").message(), "account.smtp.port"));
  a.mutable_smtp()->set_port(465);
  a.mutable_smtp()->set_username("u");
  CHECK(absl::StrContains(ValidateChannelAccount(a, "account").message(), "password_secret"));
  a.mutable_smtp()->set_password_secret("../x");
  CHECK(absl::StrContains(ValidateChannelAccount(a, "account").message(), "password_secret"));
  a.mutable_smtp()->set_password_secret("smtp.pass-1");
  CHECK(ValidateChannelAccount(a, "account").ok());
  a.set_channel(v1::CHANNEL_SMS);
  CHECK(absl::StartsWith(ValidateChannelAccount(a, "account").message(), "account.smtp"));
  CHECK(IsValidSecretName("a_b-c.d"));
  CHECK_FALSE(IsValidSecretName(".hidden"));
  CHECK_FALSE(IsValidSecretName("a/b"));
  CHECK(absl::StartsWith(CheckChannelAccountPaths({"channel"}).message(), "update_mask"));

  v1::Suppression s;
  s.set_address("Ann@Example.com");
  CHECK(absl::StartsWith(ValidateSuppression(s).message(), "suppression.reason"));
  s.set_reason(v1::SUPPRESSION_REASON_MANUAL);
  CHECK(ValidateSuppression(s).ok());
  s.set_address("0123");
  CHECK(absl::StartsWith(ValidateSuppression(s).message(), "suppression.address"));
  std::string kind, address;
  REQUIRE(ParseSuppressionName("suppressions/EMAIL:Ann@Example.com", &kind, &address).ok());
  CHECK(kind == "EMAIL");
  CHECK(address == "ann@example.com");
  REQUIRE(ParseSuppressionName("suppressions/PHONE:+44 7700 900123", &kind, &address).ok());
  CHECK(address == "+447700900123");
  CHECK_FALSE(ParseSuppressionName("suppressions/FAX:1", &kind, &address).ok());

  v1::SendMessageRequest r;
  r.set_customer("customers/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  r.set_channel(v1::CHANNEL_EMAIL);
  r.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  r.set_author_kind(v1::AUTHOR_KIND_AGENT);
  r.set_text("hi");
  CHECK(ValidateSend(r).ok());
  v1::SendMessageRequest both = r;
  both.set_conversation("conversations/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  CHECK(absl::StartsWith(ValidateSend(both).message(), "conversation:"));
  v1::SendMessageRequest customer_author = r;
  customer_author.set_author_kind(v1::AUTHOR_KIND_CUSTOMER);
  CHECK(absl::StartsWith(ValidateSend(customer_author).message(), "author_kind"));
  v1::SendMessageRequest no_purpose = r;
  no_purpose.clear_purpose();
  CHECK(absl::StartsWith(ValidateSend(no_purpose).message(), "purpose"));
  v1::SendMessageRequest empty = r;
  empty.clear_text();
  CHECK(absl::StartsWith(ValidateSend(empty).message(), "text"));
}

}  // namespace crm::interaction
