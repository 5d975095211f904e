// Erasure checks: every text-like column (text, varchar, arrays, jsonb, and
// bytea read as escaped text) of every table of a schema, searched for
// personal values.
#pragma once

#include <string>
#include <vector>

namespace crm::testing {

// "table.column has value" for each hit; fails the test when the schema has
// fewer than `min_columns` such columns (the scan would prove nothing).
std::vector<std::string> PersonalValueLeaks(const std::string& db_url, const std::string& schema,
                                            const std::vector<std::string>& values,
                                            size_t min_columns = 5);

}  // namespace crm::testing
