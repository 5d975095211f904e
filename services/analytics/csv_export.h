// The reports as CSV documents for BI tools (ExportReport): `#` lines with
// the report, its definition, its scope and how fresh each source is, then
// a header row and the rows; CRLF line ends. RFC 4180 quoting, times in RFC 3339 UTC,
// money in minor units. No I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/analytics/v1/engagement.pb.h"
#include "crm/analytics/v1/pricing.pb.h"
#include "crm/analytics/v1/report.pb.h"
#include "crm/analytics/v1/support.pb.h"
#include "crm/analytics/v1/value.pb.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {

// `value` as one CSV field: quoted (with quotes doubled) when it holds a
// comma, a quote, a line break, or starts with a character a spreadsheet
// would read as a formula (= + - @), which is then also prefixed with '.
std::string CsvField(absl::string_view value);

class CsvDocument {
 public:
  CsvDocument(absl::string_view report, absl::string_view definition);
  // "# key: value" (line breaks in `value` become spaces).
  void Note(absl::string_view key, absl::string_view value);
  void Freshness(const v1::Freshness& freshness);
  void Row(const std::vector<std::string>& cells);
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string RfmSegmentsCsv(const v1::RfmSummary& summary);
// `scores[i]` is `customers[i]`'s.
std::string RfmCustomersCsv(const std::string& currency, absl::Time as_of,
                            const std::vector<CustomerOrders>& customers,
                            const std::vector<v1::RfmScores>& scores,
                            const v1::Freshness& freshness);
std::string CohortsCsv(const v1::CohortReport& report);
std::string ForecastCsv(const v1::SalesForecast& forecast);
std::string SupportCsv(const v1::SupportReport& report);
std::string EngagementCsv(const v1::EngagementReport& report);
std::string PricingCsv(const v1::PricingReport& report);

}  // namespace crm::analytics
