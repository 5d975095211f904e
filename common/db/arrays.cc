#include "common/db/arrays.h"

#include "absl/strings/str_split.h"

namespace crm::db {

std::string TextArray(const std::vector<std::string>& values) {
  size_t size = 2;
  for (const auto& v : values) size += v.size() + 3;
  std::string out;
  out.reserve(size + size / 16);
  out += '{';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> SplitJoined(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

}  // namespace crm::db
