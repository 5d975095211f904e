// Snapshot-then-stream for the ticketing and interaction feeds: an
// analytics service that was down while the producer pruned its events
// rebuilds its support (ExportTickets) or engagement (ExportMessages) facts
// and goes on with the feed, ending with the reports of one that never
// stopped. The support case has past SLA cycles (a next-reply target met
// twice: the ticket's clock shows only the second) and breaches fired by
// the scheduler; the engagement case has delivery steps from a provider's
// events and a one-click unsubscribe.
#include <google/protobuf/util/time_util.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <memory>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/pool.h"
#include "common/events/outbox.h"
#include "common/server/call.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/analytics/analytics_app.h"
#include "services/ticketing/sla_engine.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/integration/analytics/same_figures.h"
#include "tests/integration/interaction/outbox_fixture.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/smtp_sink.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace tv1 = crm::ticketing::v1;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Stamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

// An analytics service following the customer service and `source` (its
// name and port), over a fresh database or `db_url`'s.
std::unique_ptr<ServiceHarness> StartAnalytics(CustomerHarness& customers,
                                               const std::string& source, int port,
                                               const std::string& db_url = "") {
  const std::string customer_address = absl::StrCat("127.0.0.1:", customers.runtime().port());
  const std::string address = absl::StrCat("127.0.0.1:", port);
  return std::make_unique<ServiceHarness>(analytics::Definition(), "analytics_sources",
                                          [=](server::RuntimeConfig& c) {
                                            c.services["customer"] = customer_address;
                                            c.services[source] = address;
                                            if (!db_url.empty()) c.db_url = db_url;
                                          });
}

// A report as text, without freshness (when events were applied differs
// between services); "" when the call fails.
template <typename Report>
std::string Text(Report report) {
  report.clear_freshness();
  return report.DebugString();
}

// The reports' window: the three hours around the test's start (one
// window for every call, so that two services' reports compare).
absl::Time WindowStart() {
  static const absl::Time start = absl::Now() - absl::Hours(1);
  return start;
}

av1::SupportReport SupportOf(ServiceHarness& analytics, const std::string& tenant,
                             grpc::Status* status) {
  av1::GetSupportReportRequest req;
  *req.mutable_start_time() = Stamp(WindowStart());
  *req.mutable_end_time() = Stamp(WindowStart() + absl::Hours(4));
  av1::SupportReport out;
  *status = analytics.Stub<av1::ReportService>()->GetSupportReport(
      ServiceHarness::Ctx(tenant).get(), req, &out);
  return out;
}

// The support and engagement reports as text; "" when a call fails.
std::string Figures(ServiceHarness& analytics, const std::string& tenant) {
  grpc::Status status;
  const av1::SupportReport support = SupportOf(analytics, tenant, &status);
  if (!status.ok()) return "";
  av1::GetEngagementReportRequest req;
  *req.mutable_start_time() = Stamp(WindowStart());
  *req.mutable_end_time() = Stamp(WindowStart() + absl::Hours(4));
  av1::EngagementReport engagement;
  if (!analytics.Stub<av1::ReportService>()
           ->GetEngagementReport(ServiceHarness::Ctx(tenant).get(), req, &engagement)
           .ok()) {
    return "";
  }
  return absl::StrCat(Text(support), Text(engagement));
}

// Polls until `analytics` gives `tenant` the figures `reference` gives it
// and `ready` holds of them.
std::string AwaitSameFigures(ServiceHarness& analytics, ServiceHarness& reference,
                             const std::string& tenant,
                             const std::function<bool(const std::string&)>& ready) {
  return testing::AwaitSameFigures(Figures, analytics, reference, tenant, ready);
}

int64_t Count(const std::string& db_url, const std::string& sql) {
  pqxx::connection conn(db_url);
  pqxx::work tx(conn);
  tx.exec("SELECT set_config('app.housekeeping', 'on', true)");
  return tx.exec1(sql)[0].as<int64_t>();
}

struct Desk {
  CustomerHarness customers{"sources_customers"};
  ServiceHarness ticketing{
      ticketing::Definition(), "sources_tickets",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<tv1::TicketService::Stub> tickets = ticketing.Stub<tv1::TicketService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();

  tv1::Ticket Create(const std::string& subject) {
    tv1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(requester);
    req.mutable_ticket()->set_subject(subject);
    req.mutable_ticket()->set_priority(tv1::PRIORITY_NORMAL);
    tv1::Ticket out;
    grpc::Status s = tickets->CreateTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  void Comment(const std::string& ticket, bool agent) {
    tv1::AddCommentRequest req;
    req.set_parent(ticket);
    req.mutable_comment()->set_author_kind(agent ? tv1::AUTHOR_KIND_AGENT
                                                 : tv1::AUTHOR_KIND_CUSTOMER);
    req.mutable_comment()->set_author(agent ? "agent-1" : requester);
    req.mutable_comment()->set_body(agent ? "On its way." : "Where is it now?");
    req.mutable_comment()->set_public_(true);
    tv1::Comment out;
    grpc::Status s = tickets->AddComment(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("AddComment: " << s.error_message());
  }

  void Solve(const std::string& ticket, int score) {
    tv1::ChangeTicketStatusRequest solve;
    solve.set_name(ticket);
    solve.set_status(tv1::STATUS_SOLVED);
    tv1::Ticket solved;
    grpc::Status s = tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &solved);
    if (!s.ok()) FAIL("ChangeTicketStatus: " << s.error_message());
    tv1::SubmitSatisfactionRatingRequest rate;
    rate.set_parent(ticket);
    rate.mutable_rating()->set_score(score);
    tv1::SatisfactionRating rating;
    s = tickets->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), rate, &rating);
    if (!s.ok()) FAIL("SubmitSatisfactionRating: " << s.error_message());
  }

  // The scheduler as if two hours had passed: first replies still due are
  // missed.
  int64_t FireBreaches() {
    db::Pool pool(db::PoolOptions{ticketing.db_url(), 1, "sources-test"});
    ticketing::SlaEngine engine(pool);
    auto fired = engine.FireDue(absl::Now() + absl::Minutes(130), 100);
    if (!fired.ok()) FAIL("FireDue: " << fired.status().message());
    return fired->breaches;
  }
};

}  // namespace

TEST_CASE("support facts rebuilt from ExportTickets equal those of a consumer that never stopped",
          "[integration][analytics][ticketing]") {
  Desk d;
  tv1::CreateSlaPolicyRequest policy;
  policy.mutable_policy()->set_display_name("Everyone");
  tv1::SlaTarget* target = policy.mutable_policy()->add_targets();
  target->set_priority(tv1::PRIORITY_NORMAL);
  target->set_first_reply_minutes(60);
  target->set_next_reply_minutes(60);
  target->set_resolution_minutes(480);
  tv1::SlaPolicy created_policy;
  REQUIRE(d.ticketing.Stub<tv1::SlaService>()
              ->CreateSlaPolicy(ServiceHarness::Ctx().get(), policy, &created_policy)
              .ok());
  const int port = d.ticketing.runtime().port();
  std::unique_ptr<ServiceHarness> reference = StartAnalytics(d.customers, "ticketing", port);
  std::unique_ptr<ServiceHarness> crashing = StartAnalytics(d.customers, "ticketing", port);

  // Answered, asked again and answered again twice: two next-reply cycles.
  const tv1::Ticket talked = d.Create("Parcel late");
  d.Comment(talked.name(), true);
  d.Comment(talked.name(), false);
  d.Comment(talked.name(), true);
  d.Comment(talked.name(), false);
  d.Comment(talked.name(), true);
  d.Solve(talked.name(), 5);
  const tv1::Ticket ignored = d.Create("Wrong size");
  const tv1::Ticket twice = d.Create("Wrong size (again)");
  tv1::MergeTicketsRequest merge;
  merge.set_source(twice.name());
  merge.set_target(ignored.name());
  tv1::MergeTicketsResponse merged;
  REQUIRE(d.tickets->MergeTickets(ServiceHarness::Ctx().get(), merge, &merged).ok());
  CHECK(d.FireBreaches() >= 1);
  // The ticketing service keeps both next-reply cycles, though the clock
  // shows one.
  CHECK(Count(d.ticketing.db_url(),
              "SELECT count(*) FROM ticketing.sla_outcomes WHERE metric = 'NEXT_REPLY'") == 2);

  AwaitSameFigures(*crashing, *reference, "acme", [](const std::string& figures) {
    return figures.find("sla_breaches: 1") != std::string::npos &&
           figures.find("ratings: 1") != std::string::npos;
  });

  // The crash; meanwhile more tickets, a rating and a breach, and the
  // ticketing service prunes every event it has.
  const std::string crashed_db = crashing->db_url();
  crashing.reset();
  const tv1::Ticket later = d.Create("Refund please");
  d.Comment(later.name(), true);
  d.Comment(later.name(), false);
  d.Comment(later.name(), true);
  d.Solve(later.name(), 2);
  d.Create("Still waiting");
  CHECK(d.FireBreaches() >= 1);
  AwaitSameFigures(*reference, *reference, "acme", [](const std::string& figures) {
    return figures.find("ratings: 2") != std::string::npos &&
           figures.find("sla_breaches: 2") != std::string::npos;
  });
  auto pruned =
      events::PruneOutbox(d.ticketing.runtime().pool(), "ticketing", absl::ZeroDuration());
  REQUIRE(pruned.ok());
  CHECK(*pruned > 0);

  // Back up on its old database: behind what was pruned, it rebuilds from
  // ExportTickets and goes on from the snapshot's cursor.
  std::unique_ptr<ServiceHarness> restarted =
      StartAnalytics(d.customers, "ticketing", port, crashed_db);
  const std::string rebuilt = AwaitSameFigures(
      *restarted, *reference, "acme",
      [](const std::string& figures) { return figures.find("ratings: 2") != std::string::npos; });
  // Three next-reply targets met, two of them in cycles no clock shows now.
  grpc::Status status;
  const av1::SupportReport report = SupportOf(*restarted, "acme", &status);
  REQUIRE(status.ok());
  int64_t next_replies_met = -1;
  for (const av1::SlaCompliance& c : report.total().sla()) {
    if (c.metric() == "NEXT_REPLY") next_replies_met = c.met();
  }
  CHECK(next_replies_met == 3);
  CHECK(Count(restarted->db_url(),
              "SELECT count(*) FROM analytics.sla_outcomes WHERE metric = 'NEXT_REPLY'") == 3);

  // After the rebuild the feed goes on.
  const tv1::Ticket after = d.Create("One more");
  d.Comment(after.name(), true);
  AwaitSameFigures(*restarted, *reference, "acme",
                   [&](const std::string& figures) { return figures != rebuilt; });
}

TEST_CASE(
    "engagement facts rebuilt from ExportMessages equal those of a consumer that never stopped",
    "[integration][analytics][interaction]") {
  Outbox o;
  SmtpSink sink;
  o.Account(sink.port());
  const int port = o.h.runtime().port();
  std::unique_ptr<ServiceHarness> reference = StartAnalytics(o.customers, "interaction", port);
  std::unique_ptr<ServiceHarness> crashing = StartAnalytics(o.customers, "interaction", port);
  const cv1::Customer ann = o.customers.NewCustomer("ann@example.com");
  const cv1::Customer bob = o.customers.NewCustomer("bob@example.com");
  o.Consent(ann.name(), cv1::CONSENT_STATUS_GRANTED);
  o.Consent(bob.name(), cv1::CONSENT_STATUS_GRANTED);

  // A newsletter to each: Ann's is delivered, opened and clicked, Bob's
  // bounces; a customer writes in.
  const auto provider_says = [&](const v1::Message& m, v1::DeliveryStatus status) {
    v1::RecordDeliveryEventRequest req;
    req.set_channel(v1::CHANNEL_EMAIL);
    req.set_external_id(m.external_id());
    req.set_status(status);
    if (status == v1::DELIVERY_STATUS_BOUNCED) req.set_reason("550 no such user");
    v1::RecordDeliveryEventResponse out;
    grpc::Status s = o.delivery->RecordDeliveryEvent(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("RecordDeliveryEvent: " << s.error_message());
  };
  const v1::Message to_ann = o.AwaitDelivery(o.Send(Newsletter(ann.name())).message().name());
  const v1::Message to_bob = o.AwaitDelivery(o.Send(Newsletter(bob.name())).message().name());
  REQUIRE(to_ann.delivery_status() == v1::DELIVERY_STATUS_SENT);
  REQUIRE(to_bob.delivery_status() == v1::DELIVERY_STATUS_SENT);
  for (auto status :
       {v1::DELIVERY_STATUS_DELIVERED, v1::DELIVERY_STATUS_OPENED, v1::DELIVERY_STATUS_CLICKED}) {
    provider_says(to_ann, status);
  }
  provider_says(to_bob, v1::DELIVERY_STATUS_BOUNCED);
  o.Email(
      "From: Ann <ann@example.com>\nTo: support@shop.example\nSubject: Hello\nMessage-ID: "
      "<in-1@example.com>\n\nWhere is my parcel?\n");
  AwaitSameFigures(*crashing, *reference, "acme", [](const std::string& figures) {
    return figures.find("clicked: 1") != std::string::npos &&
           figures.find("bounced: 1") != std::string::npos &&
           figures.find("received: 1") != std::string::npos;
  });

  // The crash; meanwhile Ann unsubscribes through the link of her mail
  // (RFC 8058 one-click), more mail goes out and is delivered, and the
  // interaction service prunes every event it has.
  const std::string crashed_db = crashing->db_url();
  crashing.reset();
  const auto mail = sink.AwaitMessages(2, absl::Seconds(5));
  REQUIRE(mail.size() == 2);
  std::string link;
  for (const std::string& raw : mail) {
    if (raw.find("ann@example.com") != std::string::npos) link = Header(raw, "List-Unsubscribe");
  }
  REQUIRE(!link.empty());
  const std::string path = link.substr(link.find("/unsubscribe/"), std::string::npos);
  httplib::Client http("127.0.0.1", HttpPort());
  auto done = http.Post(path.substr(0, path.size() - 1).c_str(), "List-Unsubscribe=One-Click",
                        "application/x-www-form-urlencoded");
  REQUIRE(done);
  CHECK(done->status == 200);
  const v1::Message again = o.AwaitDelivery(o.Send(Newsletter(bob.name())).message().name());
  provider_says(again, v1::DELIVERY_STATUS_DELIVERED);
  AwaitSameFigures(*reference, *reference, "acme", [](const std::string& figures) {
    return figures.find("unsubscribed: 1") != std::string::npos &&
           figures.find("delivered: 2") != std::string::npos;
  });
  auto pruned = events::PruneOutbox(o.h.runtime().pool(), "interaction", absl::ZeroDuration());
  REQUIRE(pruned.ok());
  CHECK(*pruned > 0);

  // Back up on its old database: it rebuilds from ExportMessages.
  std::unique_ptr<ServiceHarness> restarted =
      StartAnalytics(o.customers, "interaction", port, crashed_db);
  const std::string rebuilt =
      AwaitSameFigures(*restarted, *reference, "acme", [](const std::string& figures) {
        return figures.find("unsubscribed: 1") != std::string::npos;
      });
  CHECK(rebuilt.find("sent: 3") != std::string::npos);

  // After the rebuild the feed goes on.
  o.Email(
      "From: Bob <bob@example.com>\nTo: support@shop.example\nSubject: Hi\nMessage-ID: "
      "<in-2@example.com>\n\nThanks!\n");
  AwaitSameFigures(*restarted, *reference, "acme", [](const std::string& figures) {
    return figures.find("received: 2") != std::string::npos;
  });
}

TEST_CASE("ExportTickets and ExportMessages: one tenant, every tenant, bad input",
          "[integration][analytics][ticketing][interaction]") {
  Desk d;
  d.Create("Parcel late");
  {
    tv1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(d.customers.NewCustomer("g@example.com", "globex").name());
    req.mutable_ticket()->set_subject("Other tenant");
    tv1::Ticket out;
    REQUIRE(d.tickets->CreateTicket(ServiceHarness::Ctx("globex").get(), req, &out).ok());
  }
  const auto read_all = [&](grpc::ClientContext* ctx, int batch,
                            std::vector<tv1::ExportTicketsResponse>* out) {
    tv1::ExportTicketsRequest req;
    req.set_batch_size(batch);
    auto reader = d.tickets->ExportTickets(ctx, req);
    tv1::ExportTicketsResponse message;
    while (reader->Read(&message)) out->push_back(message);
    return reader->Finish();
  };
  std::vector<tv1::ExportTicketsResponse> mine;
  REQUIRE(read_all(ServiceHarness::Ctx("acme").get(), 1, &mine).ok());
  REQUIRE(!mine.empty());
  CHECK(!mine[0].feed_cursor().empty());
  int tickets = 0;
  for (const auto& m : mine) {
    CHECK(m.tenant() == "acme");
    tickets += m.tickets_size();
  }
  CHECK(tickets == 1);
  grpc::ClientContext all;
  all.AddMetadata(server::kAllTenantsHeader, "1");
  std::vector<tv1::ExportTicketsResponse> every;
  REQUIRE(read_all(&all, 0, &every).ok());
  std::map<std::string, int> per_tenant;
  for (const auto& m : every) per_tenant[m.tenant()] += m.tickets_size();
  CHECK(per_tenant["acme"] == 1);
  CHECK(per_tenant["globex"] == 1);
  std::vector<tv1::ExportTicketsResponse> none;
  CHECK(read_all(ServiceHarness::Ctx("acme").get(), -1, &none).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext anonymous;
  CHECK(read_all(&anonymous, 0, &none).error_code() == grpc::StatusCode::UNAUTHENTICATED);

  // Messages: without their bodies; an empty tenant gives the cursor alone.
  Outbox o;
  o.Email(
      "From: Ann <ann@example.com>\nTo: support@shop.example\nSubject: Hello\nMessage-ID: "
      "<x-1@example.com>\n\nA private question\n");
  const auto read_messages = [&](const std::string& tenant) {
    std::vector<v1::ExportMessagesResponse> out;
    auto ctx = ServiceHarness::Ctx(tenant);
    auto reader = o.stub->ExportMessages(ctx.get(), {});
    v1::ExportMessagesResponse message;
    while (reader->Read(&message)) out.push_back(message);
    if (!reader->Finish().ok()) FAIL("ExportMessages failed");
    return out;
  };
  const auto acme = read_messages("acme");
  REQUIRE(acme.size() == 1);
  REQUIRE(acme[0].messages_size() == 1);
  CHECK(acme[0].messages(0).text().empty());
  CHECK(acme[0].messages(0).subject() == "Hello");
  CHECK(!acme[0].feed_cursor().empty());
  const auto nobody = read_messages("initech");
  REQUIRE(nobody.size() == 1);
  CHECK(nobody[0].tenant().empty());
  CHECK(nobody[0].messages_size() == 0);
  CHECK(!nobody[0].feed_cursor().empty());
}

}  // namespace crm::testing
