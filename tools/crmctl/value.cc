// crmctl value rfm | fit | model | customer, and reports cohorts |
// forecast | support | engagement | export, and kpis watch: the analytics
// service's reports as tables (or CSV), and the live dashboard figures.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/enum_text.h"
#include "crm/analytics/v1/kpi_service.grpc.pb.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

ABSL_FLAG(std::string, currency, "",
          "value: the currency (ISO 4217); empty: the tenant's main currency");
ABSL_FLAG(double, holdout_weeks, 0, "value fit: the holdout check's weeks (default 13)");
ABSL_FLAG(double, horizon_weeks, 0, "value customer: the prediction horizon (default 52)");
ABSL_FLAG(int, horizon_days, 0, "reports forecast: days ahead (default 28)");
ABSL_FLAG(bool, orders, false, "reports forecast: orders instead of revenue");
ABSL_FLAG(std::string, category, "", "reports forecast: only this product category's lines");
ABSL_FLAG(int, months, 0, "reports cohorts: how many cohorts (default 12)");
ABSL_FLAG(std::string, segment, "", "value list: only this RFM segment, e.g. at_risk");
ABSL_FLAG(std::string, churn_band, "", "value list: only this churn band: low, medium, high");
ABSL_FLAG(int, days, 30, "reports support, engagement: the period, days up to now");
ABSL_FLAG(int, snapshots, 0, "kpis watch: stop after this many snapshots (0: until interrupted)");
ABSL_FLAG(std::string, time_zone, "", "kpis watch: the IANA zone whose day is today (default UTC)");

namespace crm::crmctl {
namespace {

namespace v1 = crm::analytics::v1;

// 123456 minor units as "1,234.56".
std::string Money(double minor) {
  const bool negative = minor < 0;
  const long long cents = static_cast<long long>(std::llround(std::abs(minor)));
  std::string whole = std::to_string(cents / 100);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(i, ",");
  char tail[8];
  std::snprintf(tail, sizeof(tail), ".%02lld", cents % 100);
  return (negative ? "-" : "") + whole + tail;
}

// 5400 seconds as "1h30m", 90 as "1m30s", 2.5 days as "2d12h".
std::string Span(double seconds) {
  const int64_t s = std::llround(seconds);
  if (s >= 86400) return absl::StrCat(s / 86400, "d", (s % 86400) / 3600, "h");
  if (s >= 3600) return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
  return absl::StrCat(s / 60, "m", s % 60, "s");
}

void PrintFreshness(const v1::Freshness& f) {
  for (const auto& s : f.sources()) {
    std::printf("fresh to %s  (%s feed, applied %lld ms after)\n",
                When(s.last_event_time()).c_str(), s.source().c_str(),
                static_cast<long long>(s.lag_ms()));
  }
}

void PrintModel(const v1::ValueModel& m) {
  std::printf("%s  %lld customers, %lld repeat buyers, last order %s\n", m.name().c_str(),
              static_cast<long long>(m.customers()), static_cast<long long>(m.repeat_buyers()),
              When(m.last_order_time()).c_str());
  // "(±se)", or "" where the fit gave none (0: the Hessian was not
  // positive definite).
  const auto se = [](double e, const char* format) {
    if (e <= 0) return std::string();
    char buf[64];
    std::snprintf(buf, sizeof(buf), format, e);
    return std::string(buf);
  };
  const auto& b = m.bg_nbd();
  const auto& be = m.bg_nbd_standard_errors();
  std::printf("BG/NBD       r %.4f%s  alpha %.4f%s  a %.4f%s  b %.4f%s  LL %.2f\n", b.r(),
              se(be.r(), " (±%.4f)").c_str(), b.alpha(), se(be.alpha(), " (±%.4f)").c_str(), b.a(),
              se(be.a(), " (±%.4f)").c_str(), b.b(), se(be.b(), " (±%.4f)").c_str(),
              m.bg_nbd_log_likelihood());
  const auto& g = m.gamma_gamma();
  const auto& ge = m.gamma_gamma_standard_errors();
  std::printf("Gamma-Gamma  p %.4f%s  q %.4f%s  gamma %.2f%s  LL %.2f\n", g.p(),
              se(ge.p(), " (±%.4f)").c_str(), g.q(), se(ge.q(), " (±%.4f)").c_str(), g.gamma(),
              se(ge.gamma(), " (±%.2f)").c_str(), m.gamma_gamma_log_likelihood());
  if (be.r() <= 0 || be.alpha() <= 0 || be.a() <= 0 || be.b() <= 0 || ge.p() <= 0 || ge.q() <= 0 ||
      ge.gamma() <= 0) {
    std::printf(
        "(no standard errors where none are shown: the maximum lies on an edge of the "
        "parameters, e.g. a near 0 when hardly anyone drops out, where the likelihood is too "
        "flat for them)\n");
  }
  if (m.has_holdout()) {
    const auto& h = m.holdout();
    std::printf(
        "holdout: fitted to %s, next %.0f weeks: %.1f repeat orders predicted, %lld "
        "actual\n",
        When(h.calibration_end_time()).c_str(), h.holdout_weeks(), h.predicted_purchases(),
        static_cast<long long>(h.actual_purchases()));
    std::printf("  %-8s %10s %10s %10s\n", "repeats", "customers", "predicted", "actual");
    for (const auto& row : h.buckets()) {
      std::printf("  %-8s %10lld %10.3f %10.3f\n",
                  (std::to_string(row.repeat_purchases()) +
                   (&row == &h.buckets(h.buckets_size() - 1) ? "+" : ""))
                      .c_str(),
                  static_cast<long long>(row.customers()), row.predicted(), row.actual());
    }
  }
}

}  // namespace

int Value(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl value rfm | fit [--holdout_weeks W] | model | customer NAME "
                 "[--horizon_weeks W] | list [--segment S] [--churn_band B] [--page_size N] "
                 "[--page_token T]  [--currency C]\n");
    return 2;
  }
  auto stub = v1::ValueService::NewStub(Channel());
  const std::string verb = args[2];
  const std::string currency = absl::GetFlag(FLAGS_currency);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "rfm") {
    v1::GetRfmSummaryRequest request;
    request.set_currency_code(currency);
    v1::RfmSummary out;
    grpc::Status s = stub->GetRfmSummary(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("RFM of %lld customers in %s, as of %s\n", static_cast<long long>(out.customers()),
                out.currency_code().c_str(), When(out.as_of_time()).c_str());
    std::printf("%-20s %10s %7s %18s\n", "segment", "customers", "share", "spent");
    for (const auto& seg : out.segments()) {
      std::printf("%-20s %10lld %6.1f%% %18s\n", seg.display_name().c_str(),
                  static_cast<long long>(seg.customers()), 100 * seg.share(),
                  Money(static_cast<double>(seg.monetary_minor())).c_str());
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "fit" || verb == "model") {
    v1::ValueModel out;
    grpc::Status s;
    if (verb == "fit") {
      v1::FitValueModelRequest request;
      request.set_currency_code(currency);
      request.set_holdout_weeks(absl::GetFlag(FLAGS_holdout_weeks));
      s = stub->FitValueModel(&ctx, request, &out);
    } else {
      v1::GetValueModelRequest request;
      request.set_name("valueModels/" + (currency.empty() ? std::string("GBP") : currency));
      s = stub->GetValueModel(&ctx, request, &out);
    }
    if (!s.ok()) return Report(s);
    PrintModel(out);
    return 0;
  }
  if (verb == "list") {
    v1::ListCustomerScoresRequest request;
    request.set_currency_code(currency);
    const std::string segment = absl::AsciiStrToUpper(absl::GetFlag(FLAGS_segment));
    const std::string band = absl::AsciiStrToUpper(absl::GetFlag(FLAGS_churn_band));
    request.set_segment(api::EnumOf<v1::RfmSegment>(segment));
    request.set_churn_band(api::EnumOf<v1::ChurnBand>(band));
    if ((!segment.empty() && request.segment() == v1::RFM_SEGMENT_UNSPECIFIED) ||
        (!band.empty() && request.churn_band() == v1::CHURN_BAND_UNSPECIFIED)) {
      std::fprintf(stderr,
                   "--segment: champions, loyal, at_risk, ...; --churn_band: low, medium, "
                   "high\n");
      return 2;
    }
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListCustomerScoresResponse out;
    grpc::Status s = stub->ListCustomerScores(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("%-48s %-20s %3s %3s %3s %7s %6s %14s %6s\n", "customer", "segment", "R", "F", "M",
                "days", "orders", "spent", "churn");
    for (const auto& c : out.scores()) {
      const auto& r = c.rfm();
      std::printf("%-48s %-20s %3d %3d %3d %7lld %6lld %14s %6s\n", c.customer().c_str(),
                  api::EnumText(r.segment()).c_str(), r.r(), r.f(), r.m(),
                  static_cast<long long>(r.recency_days()), static_cast<long long>(r.frequency()),
                  Money(static_cast<double>(r.monetary_minor())).c_str(),
                  c.churn_band() == v1::CHURN_BAND_UNSPECIFIED
                      ? "-"
                      : api::EnumText(c.churn_band()).c_str());
    }
    if (!out.next_page_token().empty()) {
      std::printf("more: --page_token=%s\n", out.next_page_token().c_str());
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "customer") {
    if (args.size() < 4) {
      std::fprintf(stderr, "usage: crmctl value customer NAME\n");
      return 2;
    }
    v1::GetCustomerValueRequest request;
    request.set_customer(args[3]);
    request.set_currency_code(currency);
    request.set_horizon_weeks(absl::GetFlag(FLAGS_horizon_weeks));
    v1::CustomerValue out;
    grpc::Status s = stub->GetCustomerValue(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    const auto& r = out.rfm();
    std::printf("%s  in %s\n", out.customer().c_str(), out.currency_code().c_str());
    std::printf(
        "RFM          R %d F %d M %d  %s  (last order %lld days before, %lld orders, %s "
        "spent)\n",
        r.r(), r.f(), r.m(), api::EnumText(r.segment()).c_str(),
        static_cast<long long>(r.recency_days()), static_cast<long long>(r.frequency()),
        Money(static_cast<double>(r.monetary_minor())).c_str());
    if (out.has_predicted()) {
      const auto& p = out.predicted();
      std::printf("P(alive)     %.3f  (churn risk %.3f, %s)\n", p.probability_alive(),
                  p.churn_risk(), api::EnumText(p.churn_band()).c_str());
      if (p.has_expected_next_order_time()) {
        std::printf("next order   around %s if still active\n",
                    When(p.expected_next_order_time()).substr(0, 10).c_str());
      }
      std::printf(
          "next %.0f wk  %.2f orders expected, %s each, CLV %s (%.0f%% a year "
          "discount)\n",
          p.horizon_weeks(), p.expected_purchases(), Money(p.expected_order_value_minor()).c_str(),
          Money(p.clv_minor()).c_str(), 100 * p.annual_discount_rate());
    } else {
      std::printf("no value model yet: crmctl value fit\n");
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  std::fprintf(stderr, "unknown verb: value %s\n", verb.c_str());
  return 2;
}

int Reports(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl reports cohorts [--months N] | forecast [--horizon_days D] "
                 "[--orders] [--category C]  [--currency C] | support [--days N] [--group G] | "
                 "engagement [--days N] [--purpose P] | pricing | export KIND\n");
    return 2;
  }
  auto stub = v1::ReportService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "cohorts") {
    v1::GetCohortReportRequest request;
    request.set_currency_code(absl::GetFlag(FLAGS_currency));
    request.set_months(absl::GetFlag(FLAGS_months));
    v1::CohortReport out;
    grpc::Status s = stub->GetCohortReport(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf(
        "retention by first-order month, %s, to %s (%% of the cohort ordering in month "
        "+k)\n",
        out.currency_code().c_str(), out.end_month().c_str());
    std::printf("%-8s %9s", "cohort", "customers");
    int widest = 0;
    for (const auto& c : out.cohorts()) widest = std::max(widest, c.retention_size());
    for (int k = 1; k < std::min(widest, 13); ++k)
      std::printf(" %5s", ("+" + std::to_string(k)).c_str());
    std::printf("\n");
    for (const auto& c : out.cohorts()) {
      std::printf("%-8s %9lld", c.month().c_str(), static_cast<long long>(c.customers()));
      for (int k = 1; k < std::min(c.retention_size(), 13); ++k) {
        std::printf(" %4.0f%%", 100 * c.retention(k));
      }
      std::printf("\n");
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "forecast") {
    v1::GetSalesForecastRequest request;
    request.set_currency_code(absl::GetFlag(FLAGS_currency));
    request.set_horizon_days(absl::GetFlag(FLAGS_horizon_days));
    request.set_category(absl::GetFlag(FLAGS_category));
    const bool orders = absl::GetFlag(FLAGS_orders);
    request.set_measure(orders ? v1::FORECAST_MEASURE_ORDERS : v1::FORECAST_MEASURE_REVENUE);
    v1::SalesForecast out;
    grpc::Status s = stub->GetSalesForecast(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf(
        "daily %s forecast%s, %s, Holt-Winters (alpha %.3f beta %.3f gamma %.3f) on %d days\n",
        orders ? "orders" : "revenue",
        out.category().empty() ? "" : (" of " + out.category()).c_str(),
        out.currency_code().c_str(), out.parameters().alpha(), out.parameters().beta(),
        out.parameters().gamma(), out.history_days());
    const auto& b = out.backtest();
    std::printf(
        "backtest, last %d days: sMAPE %.1f%% (MAPE %.1f%%) against %.1f%% (%.1f%%) for "
        "last week's numbers: %s\n",
        b.holdout_periods(), b.smape(), b.mape(), b.baseline_smape(), b.baseline_mape(),
        b.beats_baseline() ? "beats it" : "does NOT beat it, use last week's numbers");
    std::printf("%-10s %14s %14s %14s\n", "day", "forecast", "low (95%)", "high (95%)");
    for (const auto& p : out.periods()) {
      const auto cell = [&](double v) { return orders ? absl::StrCat(std::llround(v)) : Money(v); };
      std::printf("%-10s %14s %14s %14s\n", When(p.start_time()).substr(0, 10).c_str(),
                  cell(p.value()).c_str(), cell(p.lower()).c_str(), cell(p.upper()).c_str());
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  // The period ends at the server's now (the default), starting --days
  // before this one's.
  const absl::Time now = absl::Now();
  const auto stamp = [](absl::Time t) {
    google::protobuf::Timestamp out;
    out.set_seconds(absl::ToUnixSeconds(t));
    return out;
  };
  if (verb == "support") {
    v1::GetSupportReportRequest request;
    *request.mutable_start_time() = stamp(now - absl::Hours(24) * absl::GetFlag(FLAGS_days));
    request.set_group(absl::GetFlag(FLAGS_group));
    v1::SupportReport out;
    grpc::Status s = stub->GetSupportReport(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("support, %s to %s; %lld SLA breaches\n", When(out.start_time()).c_str(),
                When(out.end_time()).c_str(), static_cast<long long>(out.sla_breaches()));
    std::printf("%-28s %7s %6s %13s %13s %13s %13s %6s %6s\n", "", "created", "solved",
                "1st reply med", "(business)", "resolved med", "(business)", "SLA", "CSAT");
    const auto row = [](const std::string& label, const v1::SupportFigures& f) {
      const auto span = [](const v1::DurationSummary& d) {
        return d.count() == 0 ? std::string("-") : Span(d.median_seconds());
      };
      int64_t met = 0, all = 0;
      for (const auto& c : f.sla()) {
        met += c.met();
        all += c.met() + c.missed();
      }
      const std::string sla = all == 0 ? "-" : absl::StrCat(100 * met / all, "%");
      const std::string csat =
          f.csat().ratings() == 0 ? "-" : absl::StrCat(std::llround(100 * f.csat().score()), "%");
      std::printf("%-28s %7lld %6lld %13s %13s %13s %13s %6s %6s\n", label.c_str(),
                  static_cast<long long>(f.created()), static_cast<long long>(f.solved()),
                  span(f.first_reply()).c_str(), span(f.first_reply_business()).c_str(),
                  span(f.resolution()).c_str(), span(f.resolution_business()).c_str(), sla.c_str(),
                  csat.c_str());
    };
    row("all tickets", out.total());
    for (const auto& f : out.groups()) row(f.key().empty() ? "(no group)" : f.key(), f);
    for (const auto& f : out.agents()) row(f.key().empty() ? "(unassigned)" : f.key(), f);
    std::printf("open at day's end:");
    for (const auto& p : out.backlog()) {
      std::printf(" %s %lld", When(p.day_time()).substr(5, 5).c_str(),
                  static_cast<long long>(p.open_tickets()));
    }
    std::printf("\n");
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "engagement") {
    v1::GetEngagementReportRequest request;
    *request.mutable_start_time() = stamp(now - absl::Hours(24) * absl::GetFlag(FLAGS_days));
    request.set_purpose(absl::AsciiStrToUpper(absl::GetFlag(FLAGS_purpose)));
    v1::EngagementReport out;
    grpc::Status s = stub->GetEngagementReport(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("engagement, %s to %s; %lld messages received\n", When(out.start_time()).c_str(),
                When(out.end_time()).c_str(), static_cast<long long>(out.received()));
    std::printf("%-10s %-46s %7s %7s %9s %6s %6s %7s %6s\n", "channel", "template", "queued",
                "sent", "delivered", "opened", "click", "bounced", "unsub");
    const auto row = [](const v1::EngagementFigures& f, const std::string& label) {
      const auto pct = [](double r) { return absl::StrCat(std::llround(100 * r), "%"); };
      std::printf("%-10s %-46s %7lld %7lld %9s %6s %6s %7s %6s\n", f.channel().c_str(),
                  label.c_str(), static_cast<long long>(f.messages()),
                  static_cast<long long>(f.sent()), pct(f.delivery_rate()).c_str(),
                  pct(f.open_rate()).c_str(), pct(f.click_rate()).c_str(),
                  pct(f.bounce_rate()).c_str(), pct(f.unsubscribe_rate()).c_str());
    };
    for (const auto& f : out.channels()) row(f, "(all)");
    for (const auto& f : out.templates()) {
      row(f, f.template_().empty() ? "(written in full)" : f.template_());
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "pricing") {
    v1::GetPricingReportRequest request;
    request.set_currency_code(absl::GetFlag(FLAGS_currency));
    v1::PricingReport out;
    grpc::Status s = stub->GetPricingReport(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("pricing, %s, %s to %s\n", out.currency_code().c_str(),
                When(out.start_time()).substr(0, 10).c_str(),
                When(out.end_time()).substr(0, 10).c_str());
    std::printf("%-16s %8s %9s %7s %12s %7s %11s %8s %10s\n", "", "orders", "customers", "share",
                "avg order", "units", "paid/list", "margin", "repeat 90d");
    const auto group = [](const char* label, const v1::DiscountGroup& g) {
      std::printf("%-16s %8lld %9lld %6.1f%% %12s %7.2f %10.1f%% %8s %9.1f%%\n", label,
                  static_cast<long long>(g.orders()), static_cast<long long>(g.customers()),
                  100 * g.share_of_orders(), Money(g.average_order_value_minor()).c_str(),
                  g.units_per_order(), 100 * g.price_realisation(),
                  g.orders_with_costs() == 0
                      ? "-"
                      : absl::StrCat(std::llround(100 * g.margin_rate()), "%").c_str(),
                  100 * g.repeat_rate_90d());
    };
    group("with codes", out.with_codes());
    group("without codes", out.without_codes());
    std::printf("price elasticity (estimates: log-log on weekly price and units)\n");
    std::printf("%-10s %-28s %11s %8s %6s %6s %10s\n", "", "", "elasticity", "(s.e.)", "weeks",
                "R2", "units");
    const auto row = [](const char* kind, const std::string& key, const v1::PriceElasticity& e) {
      if (e.estimated()) {
        std::printf("%-10s %-28s %11.2f %8.2f %6lld %6.2f %10lld\n", kind, key.c_str(),
                    e.elasticity(), e.standard_error(), static_cast<long long>(e.observations()),
                    e.r_squared(), static_cast<long long>(e.units()));
      } else {
        std::printf("%-10s %-28s %11s %8s %6lld %6s %10lld  (%s)\n", kind, key.c_str(), "-", "-",
                    static_cast<long long>(e.observations()), "-",
                    static_cast<long long>(e.units()), e.reason().c_str());
      }
    };
    for (const auto& e : out.categories()) row("category", e.category(), e);
    for (int i = 0; i < std::min(out.products_size(), 15); ++i) {
      row("product", out.products(i).sku(), out.products(i));
    }
    PrintFreshness(out.freshness());
    return 0;
  }
  if (verb == "export") {
    if (args.size() < 4) {
      std::fprintf(stderr,
                   "usage: crmctl reports export rfm_segments|rfm_customers|cohorts|"
                   "sales_forecast|support|engagement|pricing [--currency C] [--days N] > "
                   "report.csv\n");
      return 2;
    }
    v1::ExportReportRequest request;
    request.set_report(api::EnumOf<v1::ReportKind>(absl::AsciiStrToUpper(args[3])));
    request.set_currency_code(absl::GetFlag(FLAGS_currency));
    // --days for the reports of recent activity; pricing's default period
    // follows the tenant's orders.
    if (request.report() == v1::REPORT_KIND_SUPPORT ||
        request.report() == v1::REPORT_KIND_ENGAGEMENT) {
      *request.mutable_start_time() = stamp(now - absl::Hours(24) * absl::GetFlag(FLAGS_days));
    }
    grpc::ClientContext stream_ctx;
    PrepareStream(&stream_ctx);
    stream_ctx.set_deadline(absl::ToChronoTime(now + absl::Minutes(5)));
    auto reader = stub->ExportReport(&stream_ctx, request);
    v1::ExportReportChunk chunk;
    while (reader->Read(&chunk)) std::fwrite(chunk.data().data(), 1, chunk.data().size(), stdout);
    grpc::Status s = reader->Finish();
    if (!s.ok()) return Report(s);
    return 0;
  }
  std::fprintf(stderr, "unknown verb: reports %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl

namespace crm::crmctl {

int Kpis(const std::vector<char*>& args) {
  if (args.size() < 3 || std::string(args[2]) != "watch") {
    std::fprintf(stderr, "usage: crmctl kpis watch [--time_zone Z] [--snapshots N]\n");
    return 2;
  }
  auto stub = v1::KpiService::NewStub(Channel());
  grpc::ClientContext ctx;
  PrepareStream(&ctx);
  v1::StreamKpisRequest request;
  request.set_time_zone(absl::GetFlag(FLAGS_time_zone));
  auto reader = stub->StreamKpis(&ctx, request);
  const int most = absl::GetFlag(FLAGS_snapshots);
  int seen = 0;
  v1::KpiSnapshot k;
  while (reader->Read(&k)) {
    std::string sales;
    for (const auto& s : k.sales_today()) {
      absl::StrAppend(&sales, sales.empty() ? "" : ", ", s.orders(), " orders ",
                      Money(static_cast<double>(s.revenue_minor())), " ", s.currency_code());
    }
    std::printf(
        "%s  today: %s; %lld new customers; %lld messages; %lld SLA breaches  now: %lld open "
        "tickets\n",
        When(k.compute_time()).c_str(), sales.empty() ? "no orders" : sales.c_str(),
        static_cast<long long>(k.new_customers_today()), static_cast<long long>(k.messages_today()),
        static_cast<long long>(k.sla_breaches_today()), static_cast<long long>(k.open_tickets()));
    std::fflush(stdout);
    if (most > 0 && ++seen >= most) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() && !(most > 0 && seen >= most)) return Report(s);
  return 0;
}

}  // namespace crm::crmctl
