// End to end with the analytics service: orders recorded through the
// gateway reach its facts over the customer feed between real binaries,
// tickets and messages over the ticketing and interaction feeds; its
// reports, CSV exports and dashboard stream answer through the gateway
// under the analytics scopes, and crmctl prints them.
#include <google/protobuf/util/time_util.h>

#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "tests/e2e/customer_suite.h"

namespace crm::testing {

namespace av1 = crm::analytics::v1;

TEST_CASE("analytics through the gateway: scopes, the customer feed, crmctl value", "[e2e]") {
  Suite s;
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "analytics.read");
  auto value = av1::ValueService::NewStub(s.channel());

  // 60 customers over 40 weeks; every other one comes back, some often.
  const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 1, 5), absl::UTCTimeZone());
  std::string first;
  int64_t total = 0;
  for (int c = 0; c < 60; ++c) {
    const Customer customer = Create(s, admin, absl::StrCat("shopper", c, "@example.com"));
    if (c == 0) first = customer.name();
    const int orders = c % 2 == 0 ? 1 + c % 7 : 1;
    for (int n = 0; n < orders; ++n) {
      crm::customer::v1::RecordOrderRequest req;
      req.mutable_order()->set_customer(customer.name());
      req.mutable_order()->set_order_id(absl::StrCat("e2e-", c, "-", n));
      req.mutable_order()->set_status(crm::customer::v1::ORDER_STATUS_PAID);
      req.mutable_order()->set_currency_code("GBP");
      req.mutable_order()->set_total_minor(1500 + 250 * ((c + n) % 9));
      total += req.order().total_minor();
      *req.mutable_order()->mutable_order_time() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
              absl::ToUnixMicros(start + absl::Hours(24 * ((c % 10) + n * (3 + c % 5) * 7 % 270))));
      crm::customer::v1::Order out;
      REQUIRE(s.stub().RecordOrder(Suite::Ctx(admin).get(), req, &out).ok());
    }
  }

  av1::RfmSummary summary;
  const bool caught_up = Eventually(
      [&] {
        summary.Clear();
        if (!value->GetRfmSummary(Suite::Ctx(reader).get(), {}, &summary).ok()) return false;
        int64_t spent = 0;  // every order applied, not just every customer's first
        for (const auto& segment : summary.segments()) spent += segment.monetary_minor();
        return summary.customers() == 60 && spent == total;
      },
      absl::Seconds(30));
  REQUIRE(caught_up);
  CHECK(summary.currency_code() == "GBP");

  // Fitting is a write: the reader may not.
  av1::ValueModel model;
  CHECK(value->FitValueModel(Suite::Ctx(reader).get(), {}, &model).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Another tenant's key sees no orders.
  const std::string stranger = s.CreateKey("tenant-b", "analytics.read");
  CHECK(value->GetRfmSummary(Suite::Ctx(stranger).get(), {}, &summary).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  const std::vector<std::string> base = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                         "--key=" + admin};
  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out = crmctl({"value", "rfm"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "RFM of 60 customers in GBP"));
  CHECK(absl::StrContains(out, "Can't Lose Them"));
  CHECK(absl::StrContains(out, "(customer feed, applied"));
  out = crmctl({"value", "fit", "--holdout_weeks=8"}, &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "valueModels/GBP  60 customers"));
  CHECK(absl::StrContains(out, "BG/NBD       r "));
  CHECK(absl::StrContains(out, "holdout: fitted to"));
  out = crmctl({"value", "customer", first}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "P(alive)"));
  CHECK(absl::StrContains(out, "next order   around "));
  CHECK(absl::StrContains(out, "CLV"));
  // The fit rescored everyone with a churn band.
  CHECK(Eventually(
      [&] {
        out = crmctl({"value", "list", "--page_size=5"}, &code);
        return code == 0 && absl::StrContains(out, "more: --page_token=") &&
               !absl::StrContains(out, " -\n");
      },
      absl::Seconds(30)));
  out = crmctl({"value", "list", "--segment=nonsense"}, &code);
  CHECK(code == 2);
  out = crmctl({"reports", "cohorts"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "retention by first-order month, GBP"));
  CHECK(absl::StrContains(out, "2026-01"));
  out = crmctl({"reports", "forecast", "--horizon_days=7"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "daily revenue forecast, GBP"));
  CHECK(absl::StrContains(out, "backtest, last 7 days"));
  out = crmctl({"reports", "pricing"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "pricing, GBP"));
  CHECK(absl::StrContains(out, "without codes"));
  out = crmctl({"reports", "export", "pricing"}, &code);
  CHECK(code == 0);
  CHECK(out.rfind("# report: pricing\r\n", 0) == 0);
}

TEST_CASE("analytics follows ticketing and interaction: support, engagement, KPIs, CSV", "[e2e]") {
  Suite s;
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "analytics.read");
  namespace tv1 = crm::ticketing::v1;
  namespace iv1 = crm::interaction::v1;
  const Customer ada = Create(s, admin, "ada@example.com");
  auto tickets = tv1::TicketService::NewStub(s.channel());
  tv1::Ticket answered, waiting;
  for (tv1::Ticket* t : {&answered, &waiting}) {
    tv1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(ada.name());
    req.mutable_ticket()->set_subject("Lid cracked");
    REQUIRE(tickets->CreateTicket(Suite::Ctx(admin).get(), req, t).ok());
  }
  tv1::AddCommentRequest reply;
  reply.set_parent(answered.name());
  reply.mutable_comment()->set_author_kind(tv1::AUTHOR_KIND_AGENT);
  reply.mutable_comment()->set_author("agent-1");
  reply.mutable_comment()->set_body("A new one is on its way.");
  reply.mutable_comment()->set_public_(true);
  tv1::Comment comment;
  REQUIRE(tickets->AddComment(Suite::Ctx(admin).get(), reply, &comment).ok());
  tv1::ChangeTicketStatusRequest solve;
  solve.set_name(answered.name());
  solve.set_status(tv1::STATUS_SOLVED);
  tv1::Ticket solved;
  REQUIRE(tickets->ChangeTicketStatus(Suite::Ctx(admin).get(), solve, &solved).ok());
  iv1::ReceiveMessageRequest mail;
  mail.set_channel(iv1::CHANNEL_EMAIL);
  mail.set_raw_email(
      "From: Ada <ada@example.com>\r\nSubject: Thanks\r\nMessage-ID: <e2e-a1@x>\r\n\r\n"
      "Got it, thanks.\r\n");
  iv1::ReceiveMessageResponse received;
  REQUIRE(iv1::ConversationService::NewStub(s.channel())
              ->ReceiveMessage(Suite::Ctx(admin).get(), mail, &received)
              .ok());

  auto reports = av1::ReportService::NewStub(s.channel());
  REQUIRE(Eventually(
      [&] {
        av1::SupportReport support;
        av1::EngagementReport engagement;
        return reports->GetSupportReport(Suite::Ctx(reader).get(), {}, &support).ok() &&
               support.total().created() == 2 && support.total().solved() == 1 &&
               reports->GetEngagementReport(Suite::Ctx(reader).get(), {}, &engagement).ok() &&
               engagement.received() == 1;
      },
      absl::Seconds(30)));

  auto crmctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> all = {absl::StrCat("--addr=127.0.0.1:", s.gateway_port()),
                                    "--key=" + reader};
    all.insert(all.end(), args.begin(), args.end());
    return RunCapture(CRM_CRMCTL_BIN, all, code);
  };
  int code = -1;
  std::string out = crmctl({"reports", "support", "--days=1"}, &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "all tickets"));
  CHECK(absl::StrContains(out, "open at day's end:"));
  CHECK(absl::StrContains(out, "(ticketing feed, applied"));
  out = crmctl({"reports", "engagement"}, &code);
  INFO(out);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "1 messages received"));
  out = crmctl({"kpis", "watch", "--snapshots=1", "--time_zone=Europe/London"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "1 new customers"));
  CHECK(absl::StrContains(out, "now: 1 open tickets"));
  out = crmctl({"reports", "export", "support", "--days=1"}, &code);
  CHECK(code == 0);
  CHECK(out.rfind("# report: support\r\n", 0) == 0);
  CHECK(absl::StrContains(out, "\r\ntotal,,2,1,1,"));
  out = crmctl({"reports", "export", "nonsense"}, &code);
  CHECK(code != 0);
  CHECK(out.empty());
}

}  // namespace crm::testing
