// End to end with the analytics service: orders recorded through the
// gateway reach its facts over the customer feed between real binaries;
// its reports answer through the gateway under the analytics scopes, and
// crmctl prints them.
#include <google/protobuf/util/time_util.h>

#include "crm/analytics/v1/value_service.grpc.pb.h"
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
  CHECK(absl::StrContains(out, "CLV"));
  out = crmctl({"reports", "cohorts"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "retention by first-order month, GBP"));
  CHECK(absl::StrContains(out, "2026-01"));
  out = crmctl({"reports", "forecast", "--horizon_days=7"}, &code);
  CHECK(code == 0);
  CHECK(absl::StrContains(out, "daily revenue forecast, GBP"));
  CHECK(absl::StrContains(out, "backtest, last 7 days"));
}

}  // namespace crm::testing
