// Inbound e-mail besides ReceiveMessage: IMAP mailboxes the service polls
// (against tools/imap_sink, a real IMAP server over a directory) and the
// signed inbound-mail webhook. Mail is taken once and threaded, the cursor
// survives a renumbered mailbox without duplicates, a refused login or a
// dropped connection is recorded and retried, a message that is not mail is
// skipped, and the webhook takes only signed, recent, well-formed mail for
// the tenant that owns the account.
#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "services/interaction/webhooks.h"
#include "tests/integration/interaction/outbox_fixture.h"
#include "tests/testing/imap_sink.h"

namespace crm::testing {
namespace {

struct MailboxRow {
  int64_t uid_validity = 0;
  int64_t last_uid = 0;
  int64_t received = 0;
  int64_t skipped = 0;
  std::string last_error;
  bool polled = false;
};

class Mailboxes {
 public:
  explicit Mailboxes(const std::string& db_url) : conn_(db_url) {}

  MailboxRow Row(const v1::ChannelAccount& account) {
    pqxx::work tx(conn_);
    const auto rows = tx.exec_params(
        "SELECT uid_validity, last_uid, received, skipped, last_error, last_poll_time IS NOT NULL "
        "FROM interaction.mailboxes WHERE account_id = $1::uuid",
        account.name().substr(account.name().rfind('/') + 1));
    MailboxRow row;
    if (rows.empty()) return row;
    row.uid_validity = rows[0][0].as<int64_t>();
    row.last_uid = rows[0][1].as<int64_t>();
    row.received = rows[0][2].as<int64_t>();
    row.skipped = rows[0][3].as<int64_t>();
    row.last_error = rows[0][4].as<std::string>();
    row.polled = rows[0][5].as<bool>();
    return row;
  }

  // Makes the mailbox due now (instead of after its poll interval) and
  // waits for the poll after that: the row once `done` holds, or after 20 s.
  template <typename Done>
  MailboxRow PollNow(const v1::ChannelAccount& account, Done done) {
    {
      pqxx::work tx(conn_);
      tx.exec_params(
          "UPDATE interaction.mailboxes SET next_poll_time = now(), last_poll_time = NULL WHERE "
          "account_id = $1::uuid",
          account.name().substr(account.name().rfind('/') + 1));
      tx.commit();
    }
    return Await(account, done);
  }

  template <typename Done>
  MailboxRow Await(const v1::ChannelAccount& account, Done done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    MailboxRow row = Row(account);
    while (!(row.polled && done(row)) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      row = Row(account);
    }
    return row;
  }

 private:
  pqxx::connection conn_;
};

v1::ChannelAccount MailAccount(Outbox& o, const std::string& display_name,
                               const v1::InboundMailSettings& inbound,
                               const std::string& tenant = "acme") {
  v1::CreateChannelAccountRequest req;
  v1::ChannelAccount* a = req.mutable_account();
  a->set_channel(v1::CHANNEL_EMAIL);
  a->set_display_name(display_name);
  a->set_sender("support@shop.example");
  a->mutable_smtp()->set_host("127.0.0.1");
  a->mutable_smtp()->set_port(2525);
  a->mutable_smtp()->set_security(v1::SMTP_SECURITY_NONE);
  *a->mutable_inbound() = inbound;
  v1::ChannelAccount out;
  grpc::Status s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx(tenant).get(), req, &out);
  if (!s.ok()) FAIL("CreateChannelAccount: " << s.error_message());
  return out;
}

v1::InboundMailSettings Imap(const ImapSink& sink, const std::string& password_secret) {
  v1::InboundMailSettings in;
  in.mutable_imap()->set_host("127.0.0.1");
  in.mutable_imap()->set_port(sink.port());
  in.mutable_imap()->set_security(v1::SMTP_SECURITY_NONE);
  in.mutable_imap()->set_username("support@shop.example");
  in.mutable_imap()->set_password_secret(password_secret);
  in.mutable_imap()->set_poll_interval_seconds(600);  // the test says when
  return in;
}

std::string Mail(const std::string& from, const std::string& message_id, const std::string& subject,
                 const std::string& text, const std::string& in_reply_to = "") {
  std::string raw =
      absl::StrCat("From: ", from, "\nTo: support@shop.example\nSubject: ", subject,
                   "\nMessage-ID: ", message_id, "\nDate: Tue, 01 Dec 2026 09:00:00 +0000\n");
  if (!in_reply_to.empty()) absl::StrAppend(&raw, "In-Reply-To: ", in_reply_to, "\n");
  absl::StrAppend(&raw, "Content-Type: text/plain; charset=utf-8\n\n", text, "\n");
  return raw;
}

// The conversation `raw` is in, by receiving it again (a replay).
v1::ReceiveMessageResponse Replay(Outbox& o, const std::string& raw) {
  v1::ReceiveMessageResponse again = o.Email(raw);
  CHECK(again.replayed());
  return again;
}

std::vector<v1::Message> MessagesOf(Outbox& o, const std::string& conversation) {
  v1::ListMessagesRequest req;
  req.set_parent(conversation);
  req.set_page_size(100);
  v1::ListMessagesResponse out;
  grpc::Status s = o.stub->ListMessages(ServiceHarness::Ctx().get(), req, &out);
  if (!s.ok()) FAIL("ListMessages: " << s.error_message());
  return {out.messages().begin(), out.messages().end()};
}

}  // namespace

TEST_CASE("an IMAP mailbox: new mail is taken once and threaded, across a renumbering",
          "[integration][interaction][imap]") {
  Outbox o;
  Mailboxes boxes(o.h.db_url());
  ImapSink sink;
  const std::string first = Mail("Kemi Ade <kemi@customer.example>", "<k1@customer.example>",
                                 "Where is my parcel?", "Order 1042 has not arrived.");
  sink.Add(1,
           Mail("Old Sender <old@customer.example>", "<old1@customer.example>", "Last year",
                "Mail from before the account was connected."),
           absl::Hours(24 * 30));
  sink.Add(2, first);
  const v1::ChannelAccount account = MailAccount(o, "Support inbox", Imap(sink, "imap-password"));
  CHECK(account.inbound().imap().password_secret() == "imap-password");  // a name only

  // The first poll takes the mail of the last 7 days, not the old message.
  MailboxRow row = boxes.Await(account, [](const MailboxRow& r) { return r.received >= 1; });
  CHECK(row.last_error.empty());
  CHECK(row.received == 1);
  CHECK(row.last_uid == 2);
  const v1::ReceiveMessageResponse taken = Replay(o, first);
  CHECK(taken.message().text() == "Order 1042 has not arrived.\r\n");
  CHECK(taken.message().channel_account() == account.name());
  CHECK(absl::StrContains(sink.Commands(), "UID FETCH 2 BODY[]"));
  CHECK_FALSE(absl::StrContains(sink.Commands(), "UID FETCH 1 "));

  // A reply arrives: the next poll takes only it, into the same conversation.
  const std::string reply = Mail("Kemi Ade <kemi@customer.example>", "<k2@customer.example>",
                                 "Re: Where is my parcel?", "Any news?", "<k1@customer.example>");
  sink.Add(3, reply);
  row = boxes.PollNow(account, [](const MailboxRow& r) { return r.received >= 2; });
  CHECK(row.received == 2);
  CHECK(row.last_uid == 3);
  CHECK(Replay(o, reply).conversation().name() == taken.conversation().name());
  CHECK(MessagesOf(o, taken.conversation().name()).size() == 2);

  // Nothing new: a poll takes nothing.
  row = boxes.PollNow(account, [](const MailboxRow&) { return true; });
  CHECK(row.received == 2);

  // The server renumbers the mailbox: the recent mail is read again and
  // recognised by its Message-ID, so nothing is stored twice.
  sink.SetUidValidity(77);
  row = boxes.PollNow(account, [](const MailboxRow& r) { return r.uid_validity == 77; });
  CHECK(row.last_error.empty());
  CHECK(row.last_uid == 3);
  CHECK(MessagesOf(o, taken.conversation().name()).size() == 2);

  // The account shows how polling goes.
  v1::GetChannelAccountRequest get;
  get.set_name(account.name());
  v1::ChannelAccount shown;
  REQUIRE(o.accounts->GetChannelAccount(ServiceHarness::Ctx().get(), get, &shown).ok());
  CHECK(shown.mailbox_status().received_messages() == row.received);
  CHECK(shown.mailbox_status().last_error().empty());
  CHECK(shown.mailbox_status().has_last_poll_time());
  CHECK(shown.mailbox_status().next_poll_time().seconds() >
        shown.mailbox_status().last_poll_time().seconds());

  // Mail after the renumbering is taken as usual.
  sink.Add(4, Mail("Kemi Ade <kemi@customer.example>", "<k3@customer.example>",
                   "Re: Where is my parcel?", "It came, thanks!", "<k2@customer.example>"));
  row = boxes.PollNow(account, [](const MailboxRow& r) { return r.last_uid == 4; });
  CHECK(MessagesOf(o, taken.conversation().name()).size() == 3);
}

TEST_CASE("an IMAP mailbox: a refused login and a dropped connection are retried, junk is skipped",
          "[integration][interaction][imap]") {
  Outbox o;
  Mailboxes boxes(o.h.db_url());

  ImapSinkOptions locked;
  locked.password = "another-password";
  ImapSink refusing(locked);
  refusing.Add(1, Mail("a@customer.example", "<a1@customer.example>", "Hi", "Hello"));
  const v1::ChannelAccount refused = MailAccount(o, "Locked", Imap(refusing, "imap-password"));
  MailboxRow row = boxes.Await(refused, [](const MailboxRow& r) { return !r.last_error.empty(); });
  CHECK(absl::StrContains(row.last_error, "login refused"));
  CHECK_FALSE(absl::StrContains(row.last_error, "imap-pass"));  // the password never shows
  CHECK(row.received == 0);
  v1::ListChannelAccountsResponse listed;
  REQUIRE(o.accounts->ListChannelAccounts(ServiceHarness::Ctx().get(), {}, &listed).ok());
  REQUIRE(listed.accounts_size() == 1);
  CHECK(absl::StrContains(listed.accounts(0).mailbox_status().last_error(), "login refused"));
  // Another tenant sees nothing of it.
  REQUIRE(o.accounts->ListChannelAccounts(ServiceHarness::Ctx("globex").get(), {}, &listed).ok());
  CHECK(listed.accounts_size() == 0);

  ImapSinkOptions flaky;
  flaky.drop_first = 1;
  ImapSink sink(flaky);
  sink.Add(1, "this is not an e-mail message at all");
  sink.Add(2, Mail("Ana Diaz <ana@customer.example>", "<ana1@customer.example>", "Returns",
                   "How do I return shoes?"));
  const v1::ChannelAccount account = MailAccount(o, "Flaky", Imap(sink, "imap-password"));
  row = boxes.Await(account, [](const MailboxRow& r) { return !r.last_error.empty(); });
  CHECK(row.received == 0);  // the connection dropped: nothing taken, no cursor moved
  CHECK(row.last_uid == 0);
  row = boxes.PollNow(account, [](const MailboxRow& r) { return r.received == 1; });
  CHECK(row.last_error.empty());
  CHECK(row.skipped == 1);
  CHECK(row.received == 1);
  CHECK(row.last_uid == 2);

  // A mailbox that is not there.
  v1::InboundMailSettings missing = Imap(sink, "imap-password");
  missing.mutable_imap()->set_mailbox("Archive 2025");
  const v1::ChannelAccount nowhere = MailAccount(o, "Nowhere", missing);
  row = boxes.Await(nowhere, [](const MailboxRow& r) { return !r.last_error.empty(); });
  CHECK(absl::StrContains(row.last_error, "no mailbox \"Archive 2025\""));
  CHECK(row.received == 0);
}

TEST_CASE("the inbound-mail webhook takes signed raw mail for its own tenant only",
          "[integration][interaction][imap]") {
  Outbox o;
  v1::InboundMailSettings in;
  in.set_webhook_secret("inbound-mail-secret");
  const v1::ChannelAccount account = MailAccount(o, "Relay", in);
  const std::string uuid = account.name().substr(account.name().rfind('/') + 1);
  const std::string path = "/webhooks/acme/" + uuid;
  const std::string mail = Mail("Lena Roth <lena@customer.example>", "<lena1@customer.example>",
                                "Invoice", "Please send the invoice again.");
  const std::string raw = absl::StrReplaceAll(mail, {{"\n", "\r\n"}});
  httplib::Client http("127.0.0.1", HttpPort());
  const auto post = [&](const std::string& target, const std::string& body,
                        const std::string& signature) {
    httplib::Headers headers;
    if (!signature.empty()) headers.emplace("X-CRM-Signature", signature);
    auto res = http.Post(target.c_str(), headers, body, "message/rfc822");
    REQUIRE(res);
    return res->status;
  };
  const std::string secret = "inbound-relay-secret";

  CHECK(post(path, raw, interaction::GenericSignature(secret, absl::Now(), raw)) == 200);
  const v1::ReceiveMessageResponse stored = Replay(o, mail);
  CHECK(stored.message().text() == "Please send the invoice again.\r\n");
  CHECK(stored.message().channel_account() == account.name());
  // The relay retries: still one message.
  CHECK(post(path, raw, interaction::GenericSignature(secret, absl::Now(), raw)) == 200);
  CHECK(MessagesOf(o, stored.conversation().name()).size() == 1);

  CHECK(post(path, raw, "") == 403);
  CHECK(post(path, raw, interaction::GenericSignature("guess", absl::Now(), raw)) == 403);
  CHECK(post(path, raw,
             interaction::GenericSignature(secret, absl::Now() - absl::Minutes(10), raw)) == 403);
  const std::string junk = "no headers here";
  CHECK(post(path, junk, interaction::GenericSignature(secret, absl::Now(), junk)) == 400);
  // Another tenant's URL for the account, and an account without the
  // webhook, are not there.
  CHECK(post("/webhooks/globex/" + uuid, raw,
             interaction::GenericSignature(secret, absl::Now(), raw)) == 404);
  const v1::ChannelAccount plain = MailAccount(o, "No relay", v1::InboundMailSettings());
  CHECK(post("/webhooks/acme/" + plain.name().substr(plain.name().rfind('/') + 1), raw,
             interaction::GenericSignature(secret, absl::Now(), raw)) == 404);
}

}  // namespace crm::testing
