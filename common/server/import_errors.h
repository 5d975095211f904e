// Per-row error accounting of streamed imports (with import_stream.h): every
// refused row counted, the reasons of the first 1000 kept.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace crm::server {

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

}  // namespace crm::server
