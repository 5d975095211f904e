// A small filter language (a subset of AIP-160) compiled to parameterised
// SQL over a whitelist of fields. Values only ever reach SQL as $n
// parameters; field names only as the SQL the whitelist gives for them.
//
//   expr       := and_expr { "OR" and_expr }
//   and_expr   := unary { "AND" unary }
//   unary      := "NOT" unary | "-" unary | "(" expr ")" | comparison
//   comparison := FIELD op value
//   op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//   value      := "string" | 'string' | number | true | false
//
// `=` on a string ending in `*` is a prefix match; `:` on a string is
// "contains" (case-insensitive), on a list field "has element".
// Timestamps are RFC 3339 strings, e.g. "2024-05-01T00:00:00Z".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// kStringList is a Postgres text[]; kJsonStringList a jsonb array of strings.
enum class FieldType { kString, kNumber, kBool, kTimestamp, kStringList, kJsonStringList };

struct FilterField {
  FilterField() = default;
  FilterField(std::string name, std::string sql, FieldType type = FieldType::kString,
              bool case_insensitive = false, std::string indexable_sql = "")
      : name(std::move(name)),
        sql(std::move(sql)),
        type(type),
        case_insensitive(case_insensitive),
        indexable_sql(std::move(indexable_sql)) {}

  std::string name;  // as written in filters, e.g. "create_time"
  std::string sql;   // SQL expression it compiles to, e.g. "c.create_time"
  FieldType type = FieldType::kString;
  bool case_insensitive = false;  // compare lower(sql) = lower(value)
  // What an index can answer under row-level security, which lets an index
  // answer only leakproof conditions. For a case-insensitive kString: a
  // stored column holding lower(sql), compared in its place (lower() is not
  // leakproof). For a kStringList: the membership test that `:` compiles
  // to, `{}` standing for the value's parameter (`@>` is not leakproof).
  std::string indexable_sql;
};

struct CompiledFilter {
  std::string sql;                  // "TRUE" for an empty filter
  std::vector<std::string> params;  // text values for $first.. $first+n-1
};

struct FilterLimits {
  size_t max_length = 2000;
  int max_depth = 20;
  int max_terms = 50;
};

// INVALID_ARGUMENT with a message starting "filter: " that says what and
// where (character position) for any malformed or disallowed input.
absl::StatusOr<CompiledFilter> CompileFilter(absl::string_view filter,
                                             const std::vector<FilterField>& fields,
                                             int first_param_index,
                                             const FilterLimits& limits = {});

}  // namespace crm::api
