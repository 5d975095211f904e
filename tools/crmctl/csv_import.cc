#include "tools/crmctl/csv_import.h"

#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace crm::crmctl {

using crm::customer::v1::Order;

std::vector<std::string> ParseCsvLine(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

absl::StatusOr<std::unique_ptr<CsvSource>> CsvSource::Open(const std::string& path) {
  auto source = std::make_unique<CsvSource>();
  if (path == "-") {
    source->in_ = &std::cin;
    return source;
  }
  source->file_.open(path, std::ios::binary | std::ios::ate);
  if (!source->file_) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  source->total_ = static_cast<int64_t>(source->file_.tellg());
  source->file_.seekg(0);
  source->in_ = &source->file_;
  return source;
}

bool CsvSource::Next(std::vector<std::string>* fields) {
  std::string text;
  while (std::getline(*in_, text)) {
    ++line_;
    bytes_ += static_cast<int64_t>(text.size()) + 1;
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    *fields = ParseCsvLine(text);
    return true;
  }
  return false;
}

ProgressBar::ProgressBar(std::string what, int64_t total_bytes)
    : what_(std::move(what)),
      total_(total_bytes),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(absl::Now()) {}

void ProgressBar::Update(int64_t bytes, int64_t rows) {
  const absl::Time now = absl::Now();
  const double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(bytes) / total_) : 0;
  const double seconds = std::max(1e-3, absl::ToDoubleSeconds(now - start_));
  const long long rate = static_cast<long long>(rows / seconds);
  if (tty_) {
    if (now - last_draw_ < absl::Milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    if (total_ > 0) {
      std::fprintf(stderr, "\r%s [%s] %3d%%  %lld rows  %lld rows/s", what_.c_str(), bar.c_str(),
                   static_cast<int>(fraction * 100), static_cast<long long>(rows), rate);
    } else {
      std::fprintf(stderr, "\r%s %lld rows  %lld rows/s", what_.c_str(),
                   static_cast<long long>(rows), rate);
    }
    std::fflush(stderr);
    return;
  }
  const int decile = static_cast<int>(fraction * 10);
  if (total_ > 0 && decile > last_decile_) {
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %d%% (%lld rows, %lld rows/s)\n", what_.c_str(), decile * 10,
                 static_cast<long long>(rows), rate);
  }
}

void ProgressBar::Finish() {
  if (tty_) std::fprintf(stderr, "\r\033[K");
}

const std::vector<std::string>& OrderAssembler::Header() {
  static const auto* header = new std::vector<std::string>{
      "order_id",       "customer_external_id", "order_time", "status",       "currency_code",
      "refunded_minor", "sales_channel",        "sku",        "product_name", "category",
      "quantity",       "unit_price_minor"};
  return *header;
}

namespace {

absl::Status Bad(int64_t line, const std::string& column, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", column, ": ", what));
}

absl::StatusOr<int64_t> Number(const std::string& value, int64_t line, const std::string& column) {
  int64_t n = 0;
  if (value.empty()) return 0;
  if (!absl::SimpleAtoi(value, &n)) return Bad(line, column, "not a whole number");
  return n;
}

}  // namespace

absl::Status OrderAssembler::Add(const std::vector<std::string>& fields, int64_t line,
                                 std::optional<Order>* done) {
  done->reset();
  const auto& header = Header();
  if (fields.size() != header.size()) {
    return Bad(line, "row",
               absl::StrCat("has ", fields.size(), " columns, expected ", header.size()));
  }
  if (!current_ || current_->order_id() != fields[0]) {
    if (current_ && !current_bad_) {
      *done = std::move(current_);
      done_line_ = current_line_;
    }
    current_.emplace();
    current_bad_ = false;
    current_line_ = line;
    Order& o = *current_;
    o.set_order_id(fields[0]);
    o.set_customer_external_id(fields[1]);
    if (!fields[2].empty()) {
      if (!google::protobuf::util::TimeUtil::FromString(fields[2], o.mutable_order_time())) {
        current_bad_ = true;
        return Bad(line, "order_time", "not an RFC 3339 time");
      }
    }
    crm::customer::v1::OrderStatus status;
    if (!crm::customer::v1::OrderStatus_Parse(
            absl::StrCat("ORDER_STATUS_", absl::AsciiStrToUpper(fields[3])), &status)) {
      current_bad_ = true;
      return Bad(line, "status",
                 "one of placed, paid, fulfilled, cancelled, refunded, "
                 "partially_refunded");
    }
    o.set_status(status);
    o.set_currency_code(fields[4]);
    auto refunded = Number(fields[5], line, "refunded_minor");
    if (!refunded.ok()) {
      current_bad_ = true;
      return refunded.status();
    }
    o.set_refunded_minor(*refunded);
    o.set_sales_channel(fields[6]);
  }
  if (current_bad_) return absl::OkStatus();  // reported at its first line
  auto quantity = Number(fields[10], line, "quantity");
  auto price = Number(fields[11], line, "unit_price_minor");
  if (!quantity.ok() || !price.ok()) {
    current_bad_ = true;
    return quantity.ok() ? price.status() : quantity.status();
  }
  // Beyond what the service accepts anyway; keeps the total from overflowing.
  if (*quantity < 0 || *quantity > 1000000 || *price < 0 || *price > (int64_t{1} << 40)) {
    current_bad_ = true;
    return Bad(line, "quantity", "quantity must be 0 to 1000000 and unit_price_minor 0 to 2^40");
  }
  auto* item = current_->add_line_items();
  item->set_sku(fields[7]);
  item->set_product_name(fields[8]);
  item->set_category(fields[9]);
  item->set_quantity(*quantity);
  item->set_unit_price_minor(*price);
  current_->set_total_minor(current_->total_minor() + *quantity * *price);
  return absl::OkStatus();
}

std::optional<Order> OrderAssembler::Flush() {
  std::optional<Order> out;
  if (current_ && !current_bad_) {
    out = std::move(current_);
    done_line_ = current_line_;
  }
  current_.reset();
  return out;
}

}  // namespace crm::crmctl
