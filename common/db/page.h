// Keyset pages (AIP-158) over a statement's rows: the statement fetches
// PageLimit(page_size) rows, one more than a page returns, so that the extra
// row tells whether another page follows without counting. FillPage hands
// the page's rows to `add` and returns the next page token, sealed over the
// sort key of the last row returned (`key_of`), or "" on the last page.
#pragma once

#include <algorithm>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/api/page_token.h"

namespace crm::db {

inline int PageLimit(int page_size) { return page_size + 1; }

template <typename Add, typename KeyOf>
std::string FillPage(const pqxx::result& rows, int page_size, const api::PageTokenCodec& tokens,
                     absl::string_view query, Add&& add, KeyOf&& key_of) {
  const int n = std::min(static_cast<int>(rows.size()), page_size);
  for (int i = 0; i < n; ++i) add(rows[i]);
  if (static_cast<int>(rows.size()) <= page_size) return "";
  const std::vector<std::string> key = key_of(rows[n - 1]);
  return tokens.Encode(key, query);
}

}  // namespace crm::db
