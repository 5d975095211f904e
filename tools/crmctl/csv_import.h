// What crmctl's CSV imports share: an RFC 4180 reader with progress, a
// progress bar, and the grouping of order lines into orders.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/customer/v1/order.pb.h"

namespace crm::crmctl {

// One CSV record: fields split at commas outside double quotes; quoted
// fields lose their quotes and `""` becomes `"`.
std::vector<std::string> ParseCsvLine(absl::string_view line);

// A CSV file (or stdin for "-") read record by record, header first.
class CsvSource {
 public:
  static absl::StatusOr<std::unique_ptr<CsvSource>> Open(const std::string& path);

  // The next non-empty record; false at the end.
  bool Next(std::vector<std::string>* fields);
  // 1-based line number of the record Next returned last.
  int64_t line() const { return line_; }
  int64_t bytes_read() const { return bytes_; }
  // Size of the file; 0 for stdin.
  int64_t total_bytes() const { return total_; }

 private:
  std::ifstream file_;
  std::istream* in_ = nullptr;
  int64_t line_ = 0;
  int64_t bytes_ = 0;
  int64_t total_ = 0;
};

// A progress bar on stderr: redrawn in place on a terminal, a line per 10%
// otherwise (so logs of ./scripts/up show progress too).
class ProgressBar {
 public:
  ProgressBar(std::string what, int64_t total_bytes);
  void Update(int64_t bytes, int64_t rows);
  // Clears the bar (terminal) and prints nothing else.
  void Finish();

 private:
  std::string what_;
  int64_t total_;
  bool tty_;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  int last_decile_ = -1;
};

// Builds orders from consecutive lines of the order import format:
// order_id,customer_external_id,order_time,status,currency_code,
// refunded_minor,sales_channel,sku,product_name,category,quantity,unit_price_minor
// Lines of one order follow each other; the order's fields come from its
// first line and its total is the sum of its lines.
class OrderAssembler {
 public:
  static const std::vector<std::string>& Header();

  // Adds a line (1-based CSV line number `line`). When it starts a new
  // order, the finished previous one is moved to `done`. A malformed line is
  // an error naming the column; the order it belongs to is dropped.
  absl::Status Add(const std::vector<std::string>& fields, int64_t line,
                   std::optional<crm::customer::v1::Order>* done);
  // The last order, if any.
  std::optional<crm::customer::v1::Order> Flush();
  // CSV line of the first line of the order most recently handed out.
  int64_t first_line_of_done() const { return done_line_; }

 private:
  std::optional<crm::customer::v1::Order> current_;
  bool current_bad_ = false;
  int64_t current_line_ = 0;
  int64_t done_line_ = 0;
};

}  // namespace crm::crmctl
