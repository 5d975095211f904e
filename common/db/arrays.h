// Array parameters: libpqxx 6 has no array binding, so arrays travel as
// Postgres array literals in a text parameter (cast in the SQL, e.g.
// `$2::text[]`).
#pragma once

#include <string>
#include <vector>

namespace crm::db {

// `{"a","b\"c"}`: every element quoted and escaped, so any text is safe.
std::string TextArray(const std::vector<std::string>& values);

// The elements of `array_to_string(a, ',')` of elements that hold no comma
// (tags, uuids); none for "".
std::vector<std::string> SplitJoined(const std::string& text);

}  // namespace crm::db
