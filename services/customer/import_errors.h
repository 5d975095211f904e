// Per-row error accounting shared by the customer and order imports.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace crm::customer {

inline constexpr int kMaxReportedImportErrors = 1000;

// Counts a refused import row and keeps the reason of the first 1000.
template <typename Summary>
void RecordImportError(Summary* summary, int64_t row, absl::string_view reason) {
  summary->set_failed(summary->failed() + 1);
  if (summary->errors_size() < kMaxReportedImportErrors) {
    auto* e = summary->add_errors();
    e->set_row(row);
    e->set_reason(std::string(reason));
  }
}

}  // namespace crm::customer
