// Support and engagement figures. Support: the ticketing and customer
// services in-process, tickets answered, solved and rated there reach the
// report through the ticketing feed. Engagement: the interaction feed's
// events, built by hand (sent, delivered, opened, clicked, bounced, failed,
// unsubscribed; one delivered twice), applied as the consumer applies them,
// and the report over them computed by hand.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/crypto.h"
#include "common/db/pool.h"
#include "crm/analytics/v1/kpi_service.grpc.pb.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/interaction/v1/delivery.pb.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/analytics/activity_store.h"
#include "services/analytics/analytics_app.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

namespace av1 = crm::analytics::v1;
namespace tv1 = crm::ticketing::v1;
namespace iv1 = crm::interaction::v1;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Stamp(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

struct Support {
  CustomerHarness customers{"activity_customers"};
  ServiceHarness ticketing{
      ticketing::Definition(), "activity_tickets",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  ServiceHarness h{
      analytics::Definition(), "activity", [this](server::RuntimeConfig& config) {
        config.services["customer"] = absl::StrCat("127.0.0.1:", customers.runtime().port());
        config.services["ticketing"] = absl::StrCat("127.0.0.1:", ticketing.runtime().port());
      }};
  std::unique_ptr<tv1::TicketService::Stub> tickets = ticketing.Stub<tv1::TicketService>();
  std::unique_ptr<av1::ReportService::Stub> reports = h.Stub<av1::ReportService>();
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

  void Reply(const std::string& ticket) {
    tv1::AddCommentRequest req;
    req.set_parent(ticket);
    req.mutable_comment()->set_author_kind(tv1::AUTHOR_KIND_AGENT);
    req.mutable_comment()->set_author("agent-1");
    req.mutable_comment()->set_body("On its way.");
    req.mutable_comment()->set_public_(true);
    tv1::Comment out;
    grpc::Status s = tickets->AddComment(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("AddComment: " << s.error_message());
  }

  grpc::Status Report(av1::GetSupportReportRequest req, av1::SupportReport* out,
                      const std::string& tenant = "acme") {
    return reports->GetSupportReport(ServiceHarness::Ctx(tenant).get(), req, out);
  }

  // Polls until `done` holds for the report of the last hour.
  av1::SupportReport Await(const std::function<bool(const av1::SupportReport&)>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    av1::SupportReport out;
    while (absl::Now() < deadline) {
      av1::GetSupportReportRequest req;
      *req.mutable_start_time() = Stamp(absl::Now() - absl::Hours(1));
      *req.mutable_end_time() = Stamp(absl::Now() + absl::Minutes(1));
      out.Clear();
      if (Report(req, &out).ok() && done(out)) return out;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL("the support report did not catch up: " << out.ShortDebugString());
    return out;
  }
};

}  // namespace

TEST_CASE("support KPIs follow the ticketing feed", "[integration][analytics]") {
  Support d;
  tv1::CreateSlaPolicyRequest policy;
  policy.mutable_policy()->set_display_name("Everyone");
  auto* target = policy.mutable_policy()->add_targets();
  target->set_priority(tv1::PRIORITY_NORMAL);
  target->set_first_reply_minutes(60);
  target->set_resolution_minutes(480);
  tv1::SlaPolicy created_policy;
  REQUIRE(d.ticketing.Stub<tv1::SlaService>()
              ->CreateSlaPolicy(ServiceHarness::Ctx().get(), policy, &created_policy)
              .ok());

  const tv1::Ticket answered = d.Create("Parcel late");
  d.Create("Wrong size");
  d.Reply(answered.name());
  tv1::ChangeTicketStatusRequest solve;
  solve.set_name(answered.name());
  solve.set_status(tv1::STATUS_SOLVED);
  tv1::Ticket solved;
  REQUIRE(d.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &solved).ok());
  tv1::SubmitSatisfactionRatingRequest rate;
  rate.set_parent(answered.name());
  rate.mutable_rating()->set_score(4);
  tv1::SatisfactionRating rating;
  REQUIRE(d.tickets->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), rate, &rating).ok());

  const av1::SupportReport r = d.Await([](const av1::SupportReport& r) {
    return r.total().created() == 2 && r.total().csat().ratings() == 1;
  });
  const av1::SupportFigures& t = r.total();
  CHECK(t.solved() == 1);
  CHECK(t.first_reply().count() == 1);
  CHECK(t.first_reply().median_seconds() >= 0);
  // The policy's clocks measured both, 24/7 without a calendar.
  CHECK(t.first_reply_business().count() == 1);
  CHECK(t.resolution_business().count() == 1);
  CHECK(t.resolution_business().median_seconds() <= t.resolution().median_seconds() + 1);
  REQUIRE(t.sla_size() == 2);
  CHECK(t.sla(0).metric() == "FIRST_REPLY");
  CHECK(t.sla(0).met() == 1);
  CHECK(t.sla(1).metric() == "RESOLUTION");
  CHECK(t.sla(1).compliance() == 1.0);
  CHECK(t.csat().satisfied() == 1);
  CHECK(t.csat().score() == 1.0);
  REQUIRE(r.backlog_size() >= 1);
  CHECK(r.backlog(r.backlog_size() - 1).open_tickets() == 1);
  bool ticketing_fresh = false;
  for (const auto& s : r.freshness().sources()) ticketing_fresh |= s.source() == "ticketing";
  CHECK(ticketing_fresh);

  // Another tenant sees none of it.
  av1::GetSupportReportRequest other;
  av1::SupportReport empty;
  REQUIRE(d.Report(other, &empty, "globex").ok());
  CHECK(empty.total().created() == 0);
  CHECK(empty.backlog_size() >= 30);  // every UTC day the 30 days touch

  // The dashboard stream: a snapshot at once, then one after each change.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-crm-tenant", "acme");
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    av1::StreamKpisRequest req;
    req.set_time_zone("Europe/London");
    auto stream = d.h.Stub<av1::KpiService>()->StreamKpis(&ctx, req);
    av1::KpiSnapshot k;
    REQUIRE(stream->Read(&k));
    CHECK(k.has_day_start_time());
    // The customer feed may still be catching up with the requester.
    bool caught_up = k.open_tickets() == 1 && k.new_customers_today() == 1;
    while (!caught_up && stream->Read(&k)) {
      caught_up = k.open_tickets() == 1 && k.new_customers_today() == 1;
    }
    REQUIRE(caught_up);
    d.Create("Another one");
    bool seen = false;
    while (!seen && stream->Read(&k)) seen = k.open_tickets() == 2;
    CHECK(seen);
    ctx.TryCancel();
    stream->Finish();
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-crm-tenant", "acme");
    av1::StreamKpisRequest req;
    req.set_time_zone("Mars/Olympus");
    auto stream = d.h.Stub<av1::KpiService>()->StreamKpis(&ctx, req);
    av1::KpiSnapshot k;
    CHECK_FALSE(stream->Read(&k));
    grpc::Status s = stream->Finish();
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "time_zone: \"Mars/Olympus\" is not an IANA time zone");
  }
  // The same report as CSV.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-crm-tenant", "acme");
    av1::ExportReportRequest req;
    req.set_report(av1::REPORT_KIND_SUPPORT);
    auto stream = d.reports->ExportReport(&ctx, req);
    std::string csv;
    av1::ExportReportChunk chunk;
    while (stream->Read(&chunk)) csv += chunk.data();
    REQUIRE(stream->Finish().ok());
    CHECK(csv.rfind("# report: support\r\n# definition: ", 0) == 0);
    CHECK(csv.find("# fresh: ticketing feed to ") != std::string::npos);
    CHECK(csv.find("\r\ntotal,,3,1,1,") != std::string::npos);
    grpc::ClientContext bad_ctx;
    bad_ctx.AddMetadata("x-crm-tenant", "acme");
    req.set_report(av1::REPORT_KIND_UNSPECIFIED);
    auto bad = d.reports->ExportReport(&bad_ctx, req);
    CHECK_FALSE(bad->Read(&chunk));
    CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }

  av1::GetSupportReportRequest bad;
  *bad.mutable_start_time() = Stamp(absl::Now());
  *bad.mutable_end_time() = Stamp(absl::Now() - absl::Hours(1));
  grpc::Status s = d.Report(bad, &empty);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "start_time: before end_time");
  bad.Clear();
  bad.set_group("teams/1");
  s = d.Report(bad, &empty);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("group", 0) == 0);
}

namespace {

struct Engagement {
  ServiceHarness h{analytics::Definition(), "engagement",
                   ServiceHarness::Calling("customer", "127.0.0.1:1")};
  db::Pool pool{db::PoolOptions{h.db_url(), 1, "engagement-test"}};
  analytics::FactStore facts{pool};
  analytics::ActivityStore activity{pool, facts};
  std::unique_ptr<av1::ReportService::Stub> reports = h.Stub<av1::ReportService>();
  const absl::Time now = absl::Now();
  int cursor = 0;

  // The outbound message `id` on `channel` after `steps`, as the
  // interaction feed carries it.
  static iv1::Message Outbound(const std::string& id, iv1::Channel channel,
                               const std::string& template_name, iv1::Purpose purpose,
                               absl::Time created, std::vector<iv1::DeliveryStatus> steps) {
    iv1::Message m;
    m.set_name(absl::StrCat("conversations/", crypto::NewUuid(), "/messages/", id));
    m.set_channel(channel);
    m.set_direction(iv1::DIRECTION_OUTBOUND);
    m.set_purpose(purpose);
    m.set_template_(template_name);
    *m.mutable_create_time() = Stamp(created);
    for (iv1::DeliveryStatus s : steps) m.add_delivery_history()->set_status(s);
    m.set_delivery_status(steps.back());
    return m;
  }

  void Apply(const std::string& type, const google::protobuf::Message& payload,
             const std::string& tenant = "acme") {
    crm::events::v1::Event e;
    e.set_type(type);
    e.set_tenant(tenant);
    e.set_cursor(absl::StrCat(++cursor));
    e.mutable_payload()->PackFrom(payload);
    *e.mutable_create_time() = Stamp(now);
    db::TxOptions options;
    options.tenant = tenant;
    absl::Status s = db::RunInTransaction(
        pool, options, [&](db::Tx& tx) { return activity.ApplyInteractionEvent(tx, e); });
    if (!s.ok()) FAIL(type << ": " << s.message());
  }

  av1::EngagementReport Report(const std::string& purpose) {
    av1::GetEngagementReportRequest req;
    *req.mutable_start_time() = Stamp(now - absl::Hours(24));
    *req.mutable_end_time() = Stamp(now + absl::Minutes(1));
    req.set_purpose(purpose);
    av1::EngagementReport out;
    grpc::Status s = reports->GetEngagementReport(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("GetEngagementReport: " << s.error_message());
    return out;
  }
};

}  // namespace

TEST_CASE("engagement per channel and template, by hand", "[integration][analytics]") {
  Engagement d;
  using S = std::vector<iv1::DeliveryStatus>;
  const std::string t1 = "templates/6f1c1d2e-0000-4000-8000-000000000001";
  const std::string t2 = "templates/6f1c1d2e-0000-4000-8000-000000000002";
  const absl::Time hour_ago = d.now - absl::Hours(1);
  const std::string m1 = crypto::NewUuid(), m2 = crypto::NewUuid(), m3 = crypto::NewUuid();
  // m1: sent, then delivered, opened and clicked (the last one twice).
  d.Apply("message.sent",
          Engagement::Outbound(m1, iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING, hour_ago,
                               S{iv1::DELIVERY_STATUS_QUEUED, iv1::DELIVERY_STATUS_SENT}));
  const iv1::Message clicked = Engagement::Outbound(
      m1, iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING, hour_ago,
      S{iv1::DELIVERY_STATUS_QUEUED, iv1::DELIVERY_STATUS_SENT, iv1::DELIVERY_STATUS_DELIVERED,
        iv1::DELIVERY_STATUS_OPENED, iv1::DELIVERY_STATUS_CLICKED});
  d.Apply("message.delivery_changed", clicked);
  d.Apply("message.delivery_changed", clicked);
  // m2: sent, then bounced.
  d.Apply("message.sent", Engagement::Outbound(m2, iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING,
                                               hour_ago, S{iv1::DELIVERY_STATUS_SENT}));
  d.Apply("message.delivery_changed",
          Engagement::Outbound(m2, iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING, hour_ago,
                               S{iv1::DELIVERY_STATUS_SENT, iv1::DELIVERY_STATUS_BOUNCED}));
  // m3: written in full, transactional, delivered; its link unsubscribed.
  d.Apply("message.delivery_changed",
          Engagement::Outbound(m3, iv1::CHANNEL_EMAIL, "", iv1::PURPOSE_TRANSACTIONAL, hour_ago,
                               S{iv1::DELIVERY_STATUS_SENT, iv1::DELIVERY_STATUS_DELIVERED}));
  iv1::Unsubscribe unsubscribe;
  unsubscribe.set_message(absl::StrCat("conversations/x/messages/", m3));
  unsubscribe.set_channel(iv1::CHANNEL_EMAIL);
  *unsubscribe.mutable_create_time() = Stamp(d.now);
  d.Apply("unsubscribe.recorded", unsubscribe);
  // m4: an SMS that failed before any provider took it.
  d.Apply("message.delivery_changed",
          Engagement::Outbound(crypto::NewUuid(), iv1::CHANNEL_SMS, t2, iv1::PURPOSE_MARKETING,
                               hour_ago, S{iv1::DELIVERY_STATUS_FAILED}));
  // Outside the period, another tenant's, and one received.
  d.Apply("message.sent",
          Engagement::Outbound(crypto::NewUuid(), iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING,
                               d.now - absl::Hours(48), S{iv1::DELIVERY_STATUS_SENT}));
  d.Apply("message.sent",
          Engagement::Outbound(crypto::NewUuid(), iv1::CHANNEL_EMAIL, t1, iv1::PURPOSE_MARKETING,
                               hour_ago, S{iv1::DELIVERY_STATUS_SENT}),
          "globex");
  iv1::Message received;
  received.set_name(absl::StrCat("conversations/c/messages/", crypto::NewUuid()));
  received.set_channel(iv1::CHANNEL_EMAIL);
  received.set_direction(iv1::DIRECTION_INBOUND);
  received.set_delivery_status(iv1::DELIVERY_STATUS_RECEIVED);
  *received.mutable_create_time() = Stamp(hour_ago);
  d.Apply("message.received", received);

  const av1::EngagementReport r = d.Report("");
  CHECK(r.received() == 1);
  REQUIRE(r.channels_size() == 2);
  const av1::EngagementFigures& email = r.channels(0);
  CHECK(email.channel() == "EMAIL");
  CHECK(email.template_().empty());
  CHECK(email.messages() == 3);
  CHECK(email.sent() == 3);
  CHECK(email.delivered() == 2);
  CHECK(email.opened() == 1);
  CHECK(email.clicked() == 1);
  CHECK(email.bounced() == 1);
  CHECK(email.unsubscribed() == 1);
  CHECK(email.delivery_rate() == Approx(2.0 / 3));
  CHECK(email.open_rate() == Approx(0.5));
  CHECK(email.click_rate() == Approx(0.5));
  CHECK(email.bounce_rate() == Approx(1.0 / 3));
  CHECK(email.unsubscribe_rate() == Approx(0.5));
  const av1::EngagementFigures& sms = r.channels(1);
  CHECK(sms.channel() == "SMS");
  CHECK(sms.messages() == 1);
  CHECK(sms.sent() == 0);
  CHECK(sms.failed() == 1);
  CHECK(sms.delivery_rate() == 0.0);
  REQUIRE(r.templates_size() == 3);
  CHECK(r.templates(0).template_() == t1);
  CHECK(r.templates(0).messages() == 2);
  CHECK(r.templates(0).delivered() == 1);
  CHECK(r.templates(0).open_rate() == Approx(1.0));
  CHECK(r.templates(1).channel() == "EMAIL");
  CHECK(r.templates(1).template_().empty());
  CHECK(r.templates(1).unsubscribed() == 1);
  CHECK(r.templates(2).template_() == t2);

  const av1::EngagementReport marketing = d.Report("PURPOSE_MARKETING");
  REQUIRE(marketing.channels_size() == 2);
  CHECK(marketing.channels(0).messages() == 2);
  CHECK(marketing.channels(0).unsubscribed() == 0);

  av1::GetEngagementReportRequest bad;
  bad.set_purpose("SPAM");
  av1::EngagementReport out;
  grpc::Status s = d.reports->GetEngagementReport(ServiceHarness::Ctx().get(), bad, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "purpose: PURPOSE_MARKETING or PURPOSE_TRANSACTIONAL");
}

}  // namespace crm::testing
