// Outbound e-mail over real SMTP (a local aiosmtpd sink) and real Postgres:
// channel accounts with named secrets, well-formed MIME replies that thread
// in the customer's mail client and back, marketing consent and the
// suppression list, retries with backoff against a sink that fails the first
// attempts, hard bounces onto the suppression list, idempotent sends, and
// the queue with a worker that died and two replicas: nothing lost, nothing
// sent twice.
#include "tests/integration/interaction/outbox_fixture.h"

namespace crm::testing {

TEST_CASE("channel accounts: validated, secrets named not sent, one default per channel",
          "[integration][interaction]") {
  Outbox o;
  v1::CreateChannelAccountRequest req;
  v1::ChannelAccount* a = req.mutable_account();
  a->set_channel(v1::CHANNEL_EMAIL);
  a->set_display_name("Support");
  a->set_sender("support@shop.example");
  v1::ChannelAccount out;
  grpc::Status s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "account.smtp.host"));
  a->mutable_smtp()->set_host("smtp.shop.example");
  a->mutable_smtp()->set_username("support");
  s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  CHECK(absl::StartsWith(s.error_message(), "account.smtp.password_secret: required"));
  a->mutable_smtp()->set_password_secret("missing-file");
  s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(s.error_message(), "account.smtp.password_secret: no secret named"));
  a->mutable_smtp()->set_password_secret("../etc/passwd");
  s = o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  a->mutable_smtp()->set_password_secret("smtp-password");
  REQUIRE(o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &out).ok());
  CHECK(out.is_default());  // the first of its channel
  CHECK(out.smtp().password_secret() == "smtp-password");
  CHECK(out.DebugString().find("s3cret") == std::string::npos);

  a->set_display_name("Marketing");
  a->set_is_default(true);
  v1::ChannelAccount second;
  REQUIRE(o.accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), req, &second).ok());
  v1::ListChannelAccountsResponse list;
  REQUIRE(o.accounts->ListChannelAccounts(ServiceHarness::Ctx().get(), {}, &list).ok());
  REQUIRE(list.accounts_size() == 2);
  int defaults = 0;
  for (const auto& acc : list.accounts()) defaults += acc.is_default() ? 1 : 0;
  CHECK(defaults == 1);
  v1::GetChannelAccountRequest get;
  get.set_name(second.name());
  v1::ChannelAccount got;
  CHECK(
      o.accounts->GetChannelAccount(ServiceHarness::Ctx("globex").get(), get, &got).error_code() ==
      grpc::StatusCode::NOT_FOUND);
  REQUIRE(o.accounts->GetChannelAccount(ServiceHarness::Ctx().get(), get, &got).ok());
  CHECK(got.is_default());

  v1::UpdateChannelAccountRequest update;
  update.mutable_account()->set_name(second.name());
  update.mutable_account()->set_sender("not-an-address");
  update.mutable_update_mask()->add_paths("sender");
  s = o.accounts->UpdateChannelAccount(ServiceHarness::Ctx().get(), update, &got);
  CHECK(absl::StartsWith(s.error_message(), "account.sender"));
  update.mutable_account()->set_sender("offers@shop.example");
  REQUIRE(o.accounts->UpdateChannelAccount(ServiceHarness::Ctx().get(), update, &got).ok());
  CHECK(got.sender() == "offers@shop.example");
  CHECK(got.display_name() == "Marketing");
}

TEST_CASE("an agent's reply goes out as well-formed MIME in the customer's thread",
          "[integration][interaction]") {
  Outbox o;
  SmtpSink sink;
  o.Account(sink.port());
  const auto inbound = o.Email(
      "From: Ada Lovelace <ada@example.com>\n"
      "To: support@shop.example\n"
      "Subject: Jacket too big\n"
      "Message-ID: <m1@mail.example.com>\n"
      "\n"
      "Can I swap it?\n");
  v1::SendMessageRequest req =
      Reply(inbound.conversation().name(), "Of course: size S is on its way.");
  req.set_html(
      "<p>Of course: size <b>S</b> is on its way. Gr\xC3\xBC\xC3\x9F"
      "e</p>");
  const auto sent = o.Send(req);
  CHECK(sent.message().delivery_status() == v1::DELIVERY_STATUS_QUEUED);
  CHECK(sent.message().direction() == v1::DIRECTION_OUTBOUND);
  CHECK(sent.message().to() == "ada@example.com");
  CHECK(sent.conversation().name() == inbound.conversation().name());
  CHECK(sent.conversation().message_count() == 2);

  const v1::Message delivered = o.AwaitDelivery(sent.message().name());
  CHECK(delivered.delivery_status() == v1::DELIVERY_STATUS_SENT);
  CHECK(delivered.attempts() == 1);
  REQUIRE(delivered.delivery_history_size() == 2);
  CHECK(delivered.delivery_history(0).status() == v1::DELIVERY_STATUS_QUEUED);
  CHECK(delivered.delivery_history(1).status() == v1::DELIVERY_STATUS_SENT);

  const auto messages = sink.AwaitMessages(1, absl::Seconds(5));
  REQUIRE(messages.size() == 1);
  const std::string& raw = messages[0];
  CHECK(Header(raw, "X-Envelope-To") == "ada@example.com");
  CHECK(Header(raw, "X-Envelope-From") == "support@shop.example");
  CHECK(Header(raw, "In-Reply-To") == "<m1@mail.example.com>");
  CHECK(Header(raw, "References") == "<m1@mail.example.com>");
  CHECK(Header(raw, "Message-ID") == "<" + delivered.external_id() + ">");
  CHECK(absl::StrContains(raw, "multipart/alternative"));
  CHECK(Header(raw, "List-Unsubscribe").empty());  // transactional
  // What the customer's mail program sees, parsed back with GMime.
  v1::ReceiveMessageRequest parsed;
  REQUIRE(interaction::ParseRawEmail(raw.substr(raw.find("\r\n", raw.find("X-Envelope-To")) + 2),
                                     &parsed)
              .ok());
  CHECK(parsed.external_id() == delivered.external_id());
  CHECK(parsed.subject() == "Re: Jacket too big [#" + inbound.conversation().token() + "]");
  CHECK(parsed.text() == "Of course: size S is on its way.");
  CHECK(absl::StrContains(parsed.html(), "<b>S</b>"));
  CHECK(absl::StrContains(parsed.html(),
                          "Gr\xC3\xBC\xC3\x9F"
                          "e"));
  CHECK(parsed.sender_name() == "Shop Support");

  // The customer answers our message: it threads into the conversation.
  const auto answer =
      o.Email(absl::StrCat("From: ada@example.com\n"
                           "Subject: Re: Jacket too big\n"
                           "Message-ID: <m2@mail.example.com>\n"
                           "In-Reply-To: <",
                           delivered.external_id(),
                           ">\n"
                           "\n"
                           "Thanks!\n"));
  CHECK(answer.conversation().name() == inbound.conversation().name());
  const auto types = o.EventTypes();
  CHECK(std::count(types.begin(), types.end(), "message.sent") == 1);

  // A UTF-8 subject is encoded for the wire and decoded back.
  v1::SendMessageRequest utf8 = Reply(inbound.conversation().name(), "Bis bald");
  utf8.set_subject(
      "Gr\xC3\xBC\xC3\x9F"
      "e aus Berlin");
  const auto second = o.Send(utf8);
  CHECK(o.AwaitDelivery(second.message().name()).delivery_status() == v1::DELIVERY_STATUS_SENT);
  const auto both = sink.AwaitMessages(2, absl::Seconds(5));
  REQUIRE(both.size() == 2);
  CHECK(absl::StrContains(Header(both[1], "Subject"), "=?"));
  v1::ReceiveMessageRequest again;
  REQUIRE(interaction::ParseRawEmail(both[1], &again).ok());
  CHECK(absl::StartsWith(again.subject(),
                         "Gr\xC3\xBC\xC3\x9F"
                         "e aus Berlin [#"));
  // It answers the customer's latest e-mail, with the thread so far.
  CHECK(again.in_reply_to() == "m2@mail.example.com");
  REQUIRE(again.references_size() == 2);  // what m2 answered, then m2
  CHECK(again.references(0) == delivered.external_id());
  CHECK(again.references(1) == "m2@mail.example.com");
}

TEST_CASE(
    "marketing needs consent and honours the suppression list, transactional skips "
    "consent but not hard bounces",
    "[integration][interaction]") {
  Outbox o;
  SmtpSink sink;
  o.Account(sink.port());
  const cv1::Customer ann = o.customers.NewCustomer("ann@example.com");
  v1::SendMessageResponse out;
  grpc::Status refused = o.TrySend(Newsletter(ann.name()), &out);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(refused.error_message(),
                         "purpose: " + ann.name() + " does not consent to marketing by EMAIL"));
  o.Consent(ann.name(), cv1::CONSENT_STATUS_GRANTED);
  const auto sent = o.Send(Newsletter(ann.name()));
  CHECK(sent.message().purpose() == v1::PURPOSE_MARKETING);
  CHECK(o.AwaitDelivery(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_SENT);
  const auto mail = sink.AwaitMessages(1, absl::Seconds(5));
  REQUIRE(mail.size() == 1);
  const std::string unsubscribe = Header(mail[0], "List-Unsubscribe");
  INFO(mail[0].substr(0, 1200));
  CHECK(absl::StartsWith(unsubscribe, "<https://crm.example.com/interaction/unsubscribe/"));
  CHECK(Header(mail[0], "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");

  // Unsubscribed: no more marketing; transactional mail still goes.
  v1::CreateSuppressionRequest suppress;
  suppress.mutable_suppression()->set_address("Ann@Example.com");
  suppress.mutable_suppression()->set_reason(v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  v1::Suppression added;
  REQUIRE(o.delivery->CreateSuppression(ServiceHarness::Ctx().get(), suppress, &added).ok());
  CHECK(added.name() == "suppressions/EMAIL:ann@example.com");
  refused = o.TrySend(Newsletter(ann.name()), &out);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "suppression list (UNSUBSCRIBED)"));
  v1::SendMessageRequest receipt = Newsletter(ann.name());
  receipt.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  receipt.set_subject("Your receipt");
  REQUIRE(o.TrySend(receipt, &out).ok());
  // Hard-bounced: nothing at all.
  suppress.mutable_suppression()->set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
  REQUIRE(o.delivery->CreateSuppression(ServiceHarness::Ctx().get(), suppress, &added).ok());
  refused = o.TrySend(receipt, &out);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "HARD_BOUNCE"));
  // Another tenant's list is its own.
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx("globex").get(), {}, &listed).ok());
  CHECK(listed.suppressions_size() == 0);
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  CHECK(listed.suppressions_size() == 1);
  v1::DeleteSuppressionRequest remove;
  remove.set_name(added.name());
  v1::DeleteSuppressionResponse removed;
  REQUIRE(o.delivery->DeleteSuppression(ServiceHarness::Ctx().get(), remove, &removed).ok());
  REQUIRE(o.TrySend(receipt, &out).ok());
  // No account for a tenant: said so.
  const cv1::Customer other = o.customers.NewCustomer("bo@example.com", "globex");
  v1::SendMessageRequest elsewhere = Newsletter(other.name());
  elsewhere.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  grpc::Status no_account =
      o.stub->SendMessage(ServiceHarness::Ctx("globex").get(), elsewhere, &out);
  CHECK(no_account.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(no_account.error_message(), "channel_account: the tenant has no EMAIL"));
}

TEST_CASE("a sink that fails the first attempts: retried with backoff, delivered once",
          "[integration][interaction]") {
  Outbox o;
  SmtpSinkOptions options;
  options.fail_first = 2;
  SmtpSink sink(options);
  o.Account(sink.port());
  const cv1::Customer cy = o.customers.NewCustomer("cy@example.com");
  v1::SendMessageRequest req = Newsletter(cy.name());
  req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  req.set_request_id("order-7-shipped");
  const auto sent = o.Send(req);
  // A retry of the call: the same message, nothing sent again.
  const auto again = o.Send(req);
  CHECK(again.message().name() == sent.message().name());
  const v1::Message m = o.AwaitDelivery(sent.message().name());
  CHECK(m.delivery_status() == v1::DELIVERY_STATUS_SENT);
  CHECK(m.attempts() == 3);
  REQUIRE(m.delivery_history_size() == 4);
  CHECK(absl::StrContains(m.delivery_history(1).reason(), "attempt 1 failed"));
  CHECK(absl::StrContains(m.delivery_history(2).reason(), "attempt 2 failed"));
  CHECK(m.delivery_history(3).status() == v1::DELIVERY_STATUS_SENT);
  // Exponential: 50 ms after the first failure, 100 ms after the second.
  const auto at = [&m](int i) {
    return absl::FromUnixMicros(
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(m.delivery_history(i).time()));
  };
  // (History times are when each outcome was recorded, a few ms after the
  // wait began: the bounds leave room for that.)
  CHECK(at(2) - at(1) >= absl::Milliseconds(25));
  CHECK(at(3) - at(2) >= absl::Milliseconds(75));
  absl::SleepFor(absl::Milliseconds(300));
  CHECK(sink.Messages().size() == 1);
}

TEST_CASE("a refused recipient is a hard bounce and goes on the suppression list",
          "[integration][interaction]") {
  Outbox o;
  SmtpSinkOptions options;
  options.reject_rcpt = "nobody";
  SmtpSink sink(options);
  o.Account(sink.port());
  const cv1::Customer ghost = o.customers.NewCustomer("nobody@example.com");
  v1::SendMessageRequest req = Newsletter(ghost.name());
  req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  const auto sent = o.Send(req);
  const v1::Message m = o.AwaitDelivery(sent.message().name());
  CHECK(m.delivery_status() == v1::DELIVERY_STATUS_BOUNCED);
  CHECK(absl::StrContains(m.delivery_reason(), "550"));
  v1::ListSuppressionsRequest list;
  list.set_filter("reason = \"HARD_BOUNCE\"");
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), list, &listed).ok());
  REQUIRE(listed.suppressions_size() == 1);
  CHECK(listed.suppressions(0).address() == "nobody@example.com");
  CHECK(listed.suppressions(0).source() == sent.message().name());
  v1::SendMessageResponse out;
  CHECK(o.TrySend(req, &out).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  const auto types = o.EventTypes();
  CHECK(std::count(types.begin(), types.end(), "message.delivery_changed") == 1);
}

TEST_CASE("a message that keeps failing is FAILED after the last attempt",
          "[integration][interaction]") {
  Outbox o(/*max_attempts=*/2);
  SmtpSinkOptions options;
  options.fail_first = 100;
  SmtpSink sink(options);
  o.Account(sink.port());
  const cv1::Customer dee = o.customers.NewCustomer("dee@example.com");
  v1::SendMessageRequest req = Newsletter(dee.name());
  req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  const v1::Message m = o.AwaitDelivery(o.Send(req).message().name());
  CHECK(m.delivery_status() == v1::DELIVERY_STATUS_FAILED);
  CHECK(absl::StartsWith(m.delivery_reason(), "gave up after 2 attempts"));
}

TEST_CASE(
    "the queue: a worker that died leaves its messages to others, two replicas send "
    "each message once",
    "[integration][interaction]") {
  Outbox o(8, /*workers=*/1);
  SmtpSink sink;
  const v1::ChannelAccount account = o.Account(sink.port());
  const cv1::Customer eve = o.customers.NewCustomer("eve@example.com");
  // A replica that takes messages and dies: its pool claims with a 1 s
  // lease and never records anything.
  db::Pool dead_pool(db::PoolOptions{o.h.db_url(), 1, "dead-replica"});
  interaction::ChannelAccountStore dead_accounts(dead_pool);
  interaction::DeliveryStore dead(dead_pool, api::PageTokenCodec("test-secret-0123456789"));
  // Two more live replicas beside the service's own worker.
  std::vector<std::unique_ptr<db::Pool>> pools;
  std::vector<std::unique_ptr<interaction::ChannelAccountStore>> stores;
  std::vector<std::unique_ptr<interaction::DeliveryStore>> queues;
  std::vector<std::unique_ptr<interaction::DeliveryWorker>> workers;
  interaction::SecretFiles secrets(SecretsDir());
  api::PageTokenCodec tokens("test-secret-0123456789");
  for (int i = 0; i < 2; ++i) {
    pools.push_back(
        std::make_unique<db::Pool>(db::PoolOptions{o.h.db_url(), 1, absl::StrCat("replica-", i)}));
    stores.push_back(std::make_unique<interaction::ChannelAccountStore>(*pools.back()));
    queues.push_back(std::make_unique<interaction::DeliveryStore>(*pools.back(), tokens));
    interaction::DeliveryOptions options;
    options.backoff = absl::Milliseconds(50);
    workers.push_back(
        std::make_unique<interaction::DeliveryWorker>(*queues.back(), secrets, tokens, options));
  }
  // The dead replica takes the first 10 as they are queued.
  std::set<std::string> sent_names;
  for (int i = 0; i < 10; ++i) {
    v1::SendMessageRequest req = Newsletter(eve.name());
    req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
    req.set_subject(absl::StrCat("Order ", i));
    sent_names.insert(o.Send(req).message().name());
  }
  auto taken = dead.Claim(10, absl::Seconds(1));
  REQUIRE(taken.ok());
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (auto& w : workers) {
    threads.emplace_back([&stop, &errors, worker = w.get()] {
      while (!stop) {
        auto wait = worker->Step();
        if (!wait.ok()) ++errors;
        absl::SleepFor(
            std::min(wait.ok() ? *wait : absl::Milliseconds(50), absl::Milliseconds(20)));
      }
    });
  }
  for (int i = 10; i < 200; ++i) {
    v1::SendMessageRequest req = Newsletter(eve.name());
    req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
    req.set_subject(absl::StrCat("Order ", i));
    sent_names.insert(o.Send(req).message().name());
  }
  const auto mail = sink.AwaitMessages(200, absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(500));  // anything sent twice would arrive by now
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(taken->size() + 0 <= 10);
  std::map<std::string, int> by_id;
  for (const auto& raw : sink.Messages()) ++by_id[Header(raw, "Message-ID")];
  CHECK(mail.size() >= 200);
  CHECK(by_id.size() == 200);
  int twice = 0;
  for (const auto& [id, n] : by_id) twice += n > 1 ? 1 : 0;
  CHECK(twice == 0);
  for (const std::string& name : sent_names) {
    CHECK(o.Message(name).delivery_status() == v1::DELIVERY_STATUS_SENT);
  }
  (void)account;
  (void)dead_accounts;
}

TEST_CASE("one-click unsubscribe (RFC 8058) from a marketing e-mail, end to end",
          "[integration][interaction]") {
  Outbox o;
  SmtpSink sink;
  o.Account(sink.port());
  const cv1::Customer ann = o.customers.NewCustomer("ann@example.com");
  o.Consent(ann.name(), cv1::CONSENT_STATUS_GRANTED);
  const auto sent = o.Send(Newsletter(ann.name()));
  REQUIRE(o.AwaitDelivery(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_SENT);
  const auto mail = sink.AwaitMessages(1, absl::Seconds(5));
  REQUIRE(mail.size() == 1);
  // The link as the mail client reads it, pointed at this test's service.
  std::string link = Header(mail[0], "List-Unsubscribe");
  link = link.substr(1, link.size() - 2);
  const std::string path = link.substr(std::string("https://crm.example.com/interaction").size());
  REQUIRE(absl::StartsWith(path, "/unsubscribe/"));

  httplib::Client http("127.0.0.1", HttpPort());
  // A GET (a link scanner, or a person) shows a button and changes nothing.
  auto page = http.Get(path.c_str());
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(absl::StrContains(page->body, "<form method=\"post\">"));
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  CHECK(listed.suppressions_size() == 0);

  // The mail client's one-click POST.
  auto done =
      http.Post(path.c_str(), "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  REQUIRE(done);
  CHECK(done->status == 200);
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  REQUIRE(listed.suppressions_size() == 1);
  CHECK(listed.suppressions(0).address() == "ann@example.com");
  CHECK(listed.suppressions(0).reason() == v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  // The customer service has the denial, without anyone logging in.
  cv1::CheckConsentRequest check;
  check.set_name(ann.name());
  check.set_channel(cv1::CONSENT_CHANNEL_EMAIL);
  check.set_purpose(cv1::CONSENT_PURPOSE_MARKETING);
  cv1::CheckConsentResponse consent;
  REQUIRE(o.customers.stub().CheckConsent(ServiceHarness::Ctx().get(), check, &consent).ok());
  CHECK_FALSE(consent.allowed());
  CHECK(consent.consent().source() == "list-unsubscribe");
  // Again: still fine, nothing doubled.
  auto again =
      http.Post(path.c_str(), "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  REQUIRE(again);
  CHECK(again->status == 200);
  cv1::ListConsentsRequest history;
  history.set_name(ann.name());
  history.set_history(true);
  cv1::ListConsentsResponse consents;
  REQUIRE(o.customers.stub().ListConsents(ServiceHarness::Ctx().get(), history, &consents).ok());
  CHECK(consents.consents_size() == 2);  // granted, then denied once
  const auto types = o.EventTypes();
  CHECK(std::count(types.begin(), types.end(), "unsubscribe.recorded") == 2);
  // No more marketing to Ann.
  v1::SendMessageResponse out;
  CHECK(o.TrySend(Newsletter(ann.name()), &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  // A forged or altered link does nothing.
  auto forged = http.Post((path + "x").c_str(), "List-Unsubscribe=One-Click",
                          "application/x-www-form-urlencoded");
  REQUIRE(forged);
  CHECK(forged->status == 404);
}

TEST_CASE("an unsubscribe while the customer service is away is kept until it can be told",
          "[integration][interaction]") {
  Outbox o;
  SmtpSink sink;
  o.Account(sink.port());
  const cv1::Customer bo = o.customers.NewCustomer("bo@example.com");
  o.Consent(bo.name(), cv1::CONSENT_STATUS_GRANTED);
  const auto sent = o.Send(Newsletter(bo.name()));
  REQUIRE(o.AwaitDelivery(sent.message().name()).delivery_status() == v1::DELIVERY_STATUS_SENT);
  const auto mail = sink.AwaitMessages(1, absl::Seconds(5));
  REQUIRE(mail.size() == 1);
  std::string link = Header(mail[0], "List-Unsubscribe");
  const std::string path = link.substr(link.find("/unsubscribe/"), std::string::npos);
  o.customers.runtime().Shutdown();

  httplib::Client http("127.0.0.1", HttpPort());
  auto done = http.Post(path.substr(0, path.size() - 1).c_str(), "List-Unsubscribe=One-Click",
                        "application/x-www-form-urlencoded");
  REQUIRE(done);
  CHECK(done->status == 200);  // recorded: the address is suppressed at once
  v1::ListSuppressionsResponse listed;
  REQUIRE(o.delivery->ListSuppressions(ServiceHarness::Ctx().get(), {}, &listed).ok());
  CHECK(listed.suppressions_size() == 1);
  const auto pending = [&o] {
    pqxx::connection conn(o.h.db_url());
    pqxx::nontransaction tx(conn);
    return tx.exec1(
        "SELECT count(*), COALESCE(max(attempts), 0) FROM "
        "interaction.pending_consent_denials");
  };
  CHECK(pending()[0].as<int>() == 1);
  // Housekeeping tries again; the denial stays until the customer service
  // has it.
  REQUIRE(o.h.runtime().Housekeep().ok());
  const auto after = pending();
  CHECK(after[0].as<int>() == 1);
  CHECK(after[1].as<int>() == 1);
}

}  // namespace crm::testing
