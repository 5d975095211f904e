// Inbound-mail settings checked without I/O, and the IMAP answers the
// mailbox poller reads.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "services/interaction/delivery_domain.h"
#include "services/interaction/imap_client.h"

namespace crm::interaction {
namespace {

v1::ChannelAccount EmailAccount() {
  v1::ChannelAccount a;
  a.set_channel(v1::CHANNEL_EMAIL);
  a.set_display_name("Support");
  a.set_sender("support@shop.example");
  a.mutable_smtp()->set_host("smtp.shop.example");
  v1::ImapSettings* imap = a.mutable_inbound()->mutable_imap();
  imap->set_host("imap.shop.example");
  imap->set_username("support@shop.example");
  imap->set_password_secret("imap-password");
  return a;
}

std::string Refusal(const v1::ChannelAccount& a) {
  return std::string(ValidateChannelAccount(a, "account").message());
}

}  // namespace

TEST_CASE("inbound mail settings are checked field by field", "[unit][interaction]") {
  v1::ChannelAccount a = EmailAccount();
  CHECK(ValidateChannelAccount(a, "account").ok());
  a.mutable_inbound()->mutable_imap()->set_mailbox("Support/Inbound 2026");
  a.mutable_inbound()->mutable_imap()->set_poll_interval_seconds(30);
  a.mutable_inbound()->set_webhook_secret("relay.secret");
  CHECK(ValidateChannelAccount(a, "account").ok());

  v1::ChannelAccount b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->clear_host();
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.host: required"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_host("imap.shop.example/evil");
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.host"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_port(70000);
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.port"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->clear_username();
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.username"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->clear_password_secret();
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.password_secret"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_password_secret("../etc/passwd");
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.password_secret"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_mailbox("INBOX\" (UIDVALIDITY)\r\nA1 DELETE INBOX");
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.mailbox"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_poll_interval_seconds(5);
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.poll_interval_seconds"));
  b = EmailAccount();
  b.mutable_inbound()->mutable_imap()->set_security(static_cast<v1::SmtpSecurity>(42));
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.imap.security"));
  b = EmailAccount();
  b.mutable_inbound()->set_webhook_secret("no spaces allowed");
  CHECK(absl::StartsWith(Refusal(b), "account.inbound.webhook_secret"));

  v1::ChannelAccount sms;
  sms.set_channel(v1::CHANNEL_SMS);
  sms.set_display_name("SMS");
  sms.set_sender("+14155550100");
  sms.mutable_provider()->set_kind(v1::PROVIDER_KIND_TWILIO);
  sms.mutable_provider()->set_account_id("AC123");
  sms.mutable_provider()->set_token_secret("twilio-token");
  CHECK(ValidateChannelAccount(sms, "account").ok());
  sms.mutable_inbound()->set_webhook_secret("relay");
  CHECK(absl::StartsWith(Refusal(sms), "account.inbound: only for e-mail"));

  CHECK(CheckChannelAccountPaths({"inbound"}).ok());
}

TEST_CASE("IMAP answers: SEARCH and STATUS lines", "[unit][interaction]") {
  CHECK(ParseImapSearch("* SEARCH 9 3 7\r\n").size() == 3);
  CHECK(ParseImapSearch("* SEARCH 9 3 7\r\n") == std::vector<int64_t>{3, 7, 9});
  CHECK(ParseImapSearch("* SEARCH\r\n").empty());
  CHECK(ParseImapSearch("* OK still here\r\n* SEARCH 4\r\n* SEARCH 4 5\r\n") ==
        std::vector<int64_t>{4, 5});
  CHECK(ParseImapSearch("* SEARCH x -3 0 12\r\n") == std::vector<int64_t>{12});
  const std::string status = "* STATUS \"Support (EU)\" (UIDVALIDITY 1700000001 UIDNEXT 42)\r\n";
  CHECK(ParseImapStatusItem(status, "UIDVALIDITY") == 1700000001);
  CHECK(ParseImapStatusItem(status, "UIDNEXT") == 42);
  CHECK(ParseImapStatusItem("* STATUS INBOX (MESSAGES 3)\r\n", "UIDNEXT") == 0);
  CHECK(ParseImapStatusItem("* STATUS INBOX (UIDNEXT abc)\r\n", "UIDNEXT") == 0);
  CHECK(ImapMailboxPath("Support/Inbound 2026") == "Support/Inbound%202026");
  CHECK(ImapMailboxPath("INBOX") == "INBOX");
}

}  // namespace crm::interaction
