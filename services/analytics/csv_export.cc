#include "services/analytics/csv_export.h"

#include <google/protobuf/util/time_util.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/api/enum_text.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;

std::string Time(const google::protobuf::Timestamp& t) { return TimeUtil::ToString(t); }
std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}
std::string Num(int64_t v) { return absl::StrCat(v); }
std::string Num(double v) { return absl::StrCat(v); }

void Period(CsvDocument& doc, const google::protobuf::Timestamp& start,
            const google::protobuf::Timestamp& end) {
  doc.Note("period", absl::StrCat(Time(start), " to ", Time(end), " (end excluded)"));
}

void SupportRow(CsvDocument& doc, const std::string& slice, const v1::SupportFigures& f) {
  int64_t met = 0, missed = 0;
  for (const auto& c : f.sla()) {
    met += c.met();
    missed += c.missed();
  }
  doc.Row({slice, f.key(), Num(f.created()), Num(f.solved()), Num(f.first_reply().count()),
           Num(f.first_reply().median_seconds()), Num(f.first_reply().p90_seconds()),
           Num(f.first_reply_business().median_seconds()),
           Num(f.first_reply_business().p90_seconds()), Num(f.resolution().count()),
           Num(f.resolution().median_seconds()), Num(f.resolution().p90_seconds()),
           Num(f.resolution_business().median_seconds()),
           Num(f.resolution_business().p90_seconds()), Num(met), Num(missed),
           Num(f.csat().ratings()), Num(f.csat().satisfied()), Num(f.csat().score())});
}

}  // namespace

std::string CsvField(absl::string_view value) {
  const bool formula =
      !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@');
  // Negative numbers are numbers, not formulas.
  const bool number = formula && value[0] == '-' && value.size() > 1 &&
                      value.find_first_not_of("0123456789.e-+", 1) == absl::string_view::npos;
  const bool guard = formula && !number;
  if (!guard && value.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(value);
  }
  return absl::StrCat("\"", guard ? "'" : "", absl::StrReplaceAll(value, {{"\"", "\"\""}}), "\"");
}

CsvDocument::CsvDocument(absl::string_view report, absl::string_view definition) {
  Note("report", report);
  Note("definition", definition);
}

void CsvDocument::Note(absl::string_view key, absl::string_view value) {
  absl::StrAppend(&text_, "# ", key, ": ",
                  absl::StrReplaceAll(value, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}}), "\r\n");
}

void CsvDocument::Freshness(const v1::Freshness& freshness) {
  if (freshness.sources().empty()) Note("fresh", "no events applied yet");
  for (const auto& s : freshness.sources()) {
    Note("fresh", absl::StrCat(s.source(), " feed to ", Time(s.last_event_time()), ", applied ",
                               s.lag_ms(), " ms after"));
  }
}

void CsvDocument::Row(const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) text_ += ',';
    text_ += CsvField(cells[i]);
  }
  text_ += "\r\n";
}

std::string RfmSegmentsCsv(const v1::RfmSummary& summary) {
  CsvDocument doc("rfm_segments",
                  "customers with an order that counts (not cancelled or fully refunded) per RFM "
                  "segment: recency, frequency and monetary scored 1-5 by quintile as of "
                  "as_of_time, segments by the cell map in docs/analytics.md");
  doc.Note("currency", summary.currency_code());
  doc.Note("as_of", Time(summary.as_of_time()));
  doc.Freshness(summary.freshness());
  doc.Row({"segment", "display_name", "customers", "share", "monetary_minor"});
  for (const auto& s : summary.segments()) {
    doc.Row({api::EnumText(s.segment()), s.display_name(), Num(s.customers()), Num(s.share()),
             Num(s.monetary_minor())});
  }
  return doc.Take();
}

std::string RfmCustomersCsv(const std::string& currency, absl::Time as_of,
                            const std::vector<CustomerOrders>& customers,
                            const std::vector<v1::RfmScores>& scores,
                            const v1::Freshness& freshness) {
  CsvDocument doc("rfm_customers",
                  "each customer's recency (days since the last order), frequency (orders) and "
                  "monetary value (spent less refunds) in the currency, their quintile scores "
                  "(5 best) and segment, as of as_of");
  doc.Note("currency", currency);
  doc.Note("as_of", Time(as_of));
  doc.Freshness(freshness);
  doc.Row({"customer", "recency_days", "frequency", "monetary_minor", "r", "f", "m", "segment"});
  for (size_t i = 0; i < customers.size() && i < scores.size(); ++i) {
    const v1::RfmScores& s = scores[i];
    doc.Row({customers[i].customer, Num(s.recency_days()), Num(s.frequency()),
             Num(s.monetary_minor()), Num(int64_t{s.r()}), Num(int64_t{s.f()}), Num(int64_t{s.m()}),
             api::EnumText(s.segment())});
  }
  return doc.Take();
}

std::string CohortsCsv(const v1::CohortReport& report) {
  CsvDocument doc("cohorts",
                  "customers by the month of their first order in the currency; per month since "
                  "(0 = the first), how many ordered, their share of the cohort, and the revenue "
                  "(totals less refunds)");
  doc.Note("currency", report.currency_code());
  doc.Note("end_month", report.end_month());
  doc.Freshness(report.freshness());
  doc.Row(
      {"cohort", "customers", "months_since", "active_customers", "retention", "revenue_minor"});
  for (const auto& c : report.cohorts()) {
    for (int k = 0; k < c.active_customers_size(); ++k) {
      doc.Row({c.month(), Num(c.customers()), Num(int64_t{k}), Num(c.active_customers(k)),
               Num(c.retention(k)), Num(c.revenue_minor(k))});
    }
  }
  return doc.Take();
}

std::string ForecastCsv(const v1::SalesForecast& forecast) {
  CsvDocument doc("sales_forecast",
                  "daily revenue (minor units) forecast by additive Holt-Winters with weekly "
                  "seasonality, with a 95% prediction interval; the backtest compares it with "
                  "the seasonal-naive forecast over the last days of history");
  doc.Note("currency", forecast.currency_code());
  doc.Note("history_days", Num(int64_t{forecast.history_days()}));
  const auto& b = forecast.backtest();
  doc.Note("backtest",
           absl::StrCat("last ", b.holdout_periods(), " days: sMAPE ", b.smape(), "% MAPE ",
                        b.mape(), "%; seasonal naive sMAPE ", b.baseline_smape(), "% MAPE ",
                        b.baseline_mape(), "%; ",
                        b.beats_baseline() ? "beats the baseline"
                                           : "does NOT beat the baseline: use it instead"));
  doc.Freshness(forecast.freshness());
  doc.Row({"day", "forecast", "lower_95", "upper_95"});
  for (const auto& p : forecast.periods()) {
    doc.Row({Time(p.start_time()).substr(0, 10), Num(p.value()), Num(p.lower()), Num(p.upper())});
  }
  return doc.Take();
}

std::string SupportCsv(const v1::SupportReport& report) {
  CsvDocument doc("support",
                  "tickets created and solved in the period; first reply and resolution times "
                  "(seconds: median and 90th percentile, wall time and business time as the SLA "
                  "engine counted it) of tickets answered or solved in it; SLA targets met and "
                  "missed whose outcome fell in it; CSAT ratings given in it (satisfied: good, "
                  "or 4-5); merged tickets left out");
  Period(doc, report.start_time(), report.end_time());
  doc.Note("sla_breaches", Num(report.sla_breaches()));
  doc.Freshness(report.freshness());
  doc.Row({"slice", "key", "created", "solved", "first_replies", "first_reply_median_s",
           "first_reply_p90_s", "first_reply_business_median_s", "first_reply_business_p90_s",
           "resolved", "resolution_median_s", "resolution_p90_s", "resolution_business_median_s",
           "resolution_business_p90_s", "sla_met", "sla_missed", "csat_ratings", "csat_satisfied",
           "csat_score"});
  SupportRow(doc, "total", report.total());
  for (const auto& f : report.groups()) SupportRow(doc, "group", f);
  for (const auto& f : report.agents()) SupportRow(doc, "agent", f);
  return doc.Take();
}

std::string EngagementCsv(const v1::EngagementReport& report) {
  CsvDocument doc("engagement",
                  "outbound messages created in the period per channel (level channel) and per "
                  "channel and template (level template; empty: written in full), with each "
                  "delivery step they reached; rates: delivered "
                  "and bounced over sent, opened, clicked and unsubscribed over delivered");
  Period(doc, report.start_time(), report.end_time());
  doc.Note("received", Num(report.received()));
  doc.Freshness(report.freshness());
  doc.Row({"level", "channel", "template", "messages", "sent", "delivered", "opened", "clicked",
           "bounced", "failed", "complained", "unsubscribed", "delivery_rate", "open_rate",
           "click_rate", "bounce_rate", "unsubscribe_rate"});
  const auto row = [&doc](const char* level, const v1::EngagementFigures& f) {
    doc.Row({level, f.channel(), f.template_(), Num(f.messages()), Num(f.sent()),
             Num(f.delivered()), Num(f.opened()), Num(f.clicked()), Num(f.bounced()),
             Num(f.failed()), Num(f.complained()), Num(f.unsubscribed()), Num(f.delivery_rate()),
             Num(f.open_rate()), Num(f.click_rate()), Num(f.bounce_rate()),
             Num(f.unsubscribe_rate())});
  };
  for (const auto& f : report.channels()) row("channel", f);
  for (const auto& f : report.templates()) row("template", f);
  return doc.Take();
}

std::string PricingCsv(const v1::PricingReport& report) {
  CsvDocument doc("pricing",
                  "orders that count in the period with discount codes and without: orders, "
                  "customers, average order value, units per order, list value and what was "
                  "paid for orders with lines, price realisation (paid / list), margin of "
                  "orders whose lines all give a cost, and the share of orders followed by "
                  "another of the same customer within 90 days; then price elasticity per "
                  "category and product from weekly average price and units (log-log least "
                  "squares; an estimate, not a causal effect)");
  doc.Note("currency", report.currency_code());
  Period(doc, report.start_time(), report.end_time());
  doc.Freshness(report.freshness());
  doc.Row({"kind",
           "key",
           "orders",
           "customers",
           "share_of_orders",
           "average_order_value_minor",
           "units_per_order",
           "list_value_minor",
           "paid_with_lines_minor",
           "price_realisation",
           "margin_minor",
           "margin_rate",
           "repeat_rate_90d",
           "estimated",
           "elasticity",
           "standard_error",
           "observations",
           "r_squared",
           "units",
           "average_unit_price_minor"});
  const auto group = [&doc](const char* key, const v1::DiscountGroup& g) {
    doc.Row({"discount",
             key,
             Num(g.orders()),
             Num(g.customers()),
             Num(g.share_of_orders()),
             Num(g.average_order_value_minor()),
             Num(g.units_per_order()),
             Num(g.list_value_minor()),
             Num(g.paid_with_lines_minor()),
             Num(g.price_realisation()),
             Num(g.margin_minor()),
             Num(g.margin_rate()),
             Num(g.repeat_rate_90d()),
             "",
             "",
             "",
             "",
             "",
             "",
             ""});
  };
  group("with_codes", report.with_codes());
  group("without_codes", report.without_codes());
  const auto elasticity = [&doc](const char* kind, const std::string& key,
                                 const v1::PriceElasticity& e) {
    doc.Row({kind,
             key,
             "",
             "",
             "",
             "",
             "",
             "",
             "",
             "",
             "",
             "",
             "",
             e.estimated() ? "1" : "0",
             e.estimated() ? Num(e.elasticity()) : "",
             e.estimated() ? Num(e.standard_error()) : "",
             Num(e.observations()),
             e.estimated() ? Num(e.r_squared()) : "",
             Num(e.units()),
             Num(e.average_unit_price_minor())});
  };
  for (const auto& e : report.categories()) elasticity("category", e.category(), e);
  for (const auto& e : report.products()) elasticity("product", e.sku(), e);
  return doc.Take();
}

}  // namespace crm::analytics
