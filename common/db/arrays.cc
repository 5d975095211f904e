#include "common/db/arrays.h"

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
    const std::string& v = values[i];
    size_t from = 0;
    for (size_t at = v.find_first_of("\"\\"); at != std::string::npos;
         at = v.find_first_of("\"\\", at + 1)) {
      out.append(v, from, at - from);
      out += '\\';
      from = at;
    }
    out.append(v, from, std::string::npos);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace crm::db
