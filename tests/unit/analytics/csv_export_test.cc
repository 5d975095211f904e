// The reports as CSV: quoting, formula guards, the header lines with the
// definition and freshness, and the rows.
#include "services/analytics/csv_export.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace crm::analytics {

TEST_CASE("CSV fields are quoted when they must be, and never run as formulas",
          "[unit][analytics]") {
  CHECK(CsvField("plain") == "plain");
  CHECK(CsvField("") == "");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("two\nlines") == "\"two\nlines\"");
  CHECK(CsvField("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(CsvField("@SUM(A1)") == "\"'@SUM(A1)\"");
  CHECK(CsvField("+1") == "\"'+1\"");
  CHECK(CsvField("-12.5") == "-12.5");
  CHECK(CsvField("-1e-05") == "-1e-05");
  CHECK(CsvField("-cmd") == "\"'-cmd\"");
}

TEST_CASE("a report's CSV states its definition and freshness before the rows",
          "[unit][analytics]") {
  v1::EngagementReport r;
  r.mutable_start_time()->set_seconds(1764547200);  // 2025-12-01
  r.mutable_end_time()->set_seconds(1764633600);
  r.set_received(4);
  auto* source = r.mutable_freshness()->add_sources();
  source->set_source("interaction");
  source->mutable_last_event_time()->set_seconds(1764633000);
  source->set_lag_ms(12);
  auto* email = r.add_channels();
  email->set_channel("EMAIL");
  email->set_messages(10);
  email->set_sent(9);
  email->set_delivery_rate(0.5);
  auto* t = r.add_templates();
  t->set_channel("EMAIL");
  t->set_template_("templates/a,b");
  t->set_messages(10);
  const std::string csv = EngagementCsv(r);
  const std::vector<std::string> lines = absl::StrSplit(csv, "\r\n");
  REQUIRE(lines.size() >= 9);
  CHECK(lines[0] == "# report: engagement");
  CHECK(absl::StartsWith(lines[1], "# definition: outbound messages created in the period"));
  CHECK(lines[2] == "# period: 2025-12-01T00:00:00Z to 2025-12-02T00:00:00Z (end excluded)");
  CHECK(lines[3] == "# received: 4");
  CHECK(lines[4] == "# fresh: interaction feed to 2025-12-01T23:50:00Z, applied 12 ms after");
  CHECK(absl::StartsWith(lines[5], "level,channel,template,messages,sent,delivered,"));
  CHECK(lines[6] == "channel,EMAIL,,10,9,0,0,0,0,0,0,0,0.5,0,0,0,0");
  CHECK(absl::StartsWith(lines[7], "template,EMAIL,\"templates/a,b\",10,"));
}

TEST_CASE("every customer's RFM row, and a support row per slice", "[unit][analytics]") {
  const absl::Time as_of = absl::FromUnixSeconds(1764547200);
  std::vector<CustomerOrders> customers = {{"customers/1", 3, 4500, as_of, as_of, 1, 0, 0, 0}};
  v1::RfmScores s;
  s.set_recency_days(2);
  s.set_frequency(3);
  s.set_monetary_minor(4500);
  s.set_r(5);
  s.set_f(4);
  s.set_m(3);
  s.set_segment(v1::RFM_SEGMENT_LOYAL);
  const std::string rfm = RfmCustomersCsv("GBP", as_of, customers, {s}, {});
  CHECK(absl::StrContains(rfm, "# currency: GBP\r\n# as_of: 2025-12-01T00:00:00Z\r\n"));
  CHECK(absl::StrContains(rfm, "# fresh: no events applied yet\r\n"));
  CHECK(absl::StrContains(rfm,
                          "customer,recency_days,frequency,monetary_minor,r,f,m,segment\r\n"
                          "customers/1,2,3,4500,5,4,3,LOYAL\r\n"));

  v1::SupportReport report;
  report.mutable_total()->set_created(3);
  report.add_groups()->set_key("groups/9");
  report.add_agents();
  const std::string support = SupportCsv(report);
  CHECK(absl::StrContains(support, "\r\ntotal,,3,"));
  CHECK(absl::StrContains(support, "\r\ngroup,groups/9,0,"));
  CHECK(absl::StrContains(support, "\r\nagent,,0,"));
}

}  // namespace crm::analytics
