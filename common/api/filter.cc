#include "common/api/filter.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"

namespace crm::api {
namespace {

enum class Tok { kEnd, kLParen, kRParen, kOp, kString, kWord, kMinus };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // operator, word, or unescaped string value
  size_t pos = 0;
};

absl::Status Error(size_t pos, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("filter: ", what, " at position ", pos + 1));
}

class Lexer {
 public:
  explicit Lexer(absl::string_view in) : in_(in) {}

  absl::StatusOr<std::vector<Token>> All() {
    std::vector<Token> out;
    for (;;) {
      while (i_ < in_.size() && absl::ascii_isspace(in_[i_])) ++i_;
      Token t;
      t.pos = i_;
      if (i_ >= in_.size()) {
        out.push_back(t);
        return out;
      }
      char c = in_[i_];
      if (c == '(' || c == ')') {
        t.kind = c == '(' ? Tok::kLParen : Tok::kRParen;
        ++i_;
      } else if (c == '"' || c == '\'') {
        auto s = ReadString(c);
        if (!s.ok()) return s.status();
        t.kind = Tok::kString;
        t.text = *std::move(s);
      } else if (c == '=' || c == ':') {
        t.kind = Tok::kOp;
        t.text = std::string(1, c);
        ++i_;
      } else if (c == '!' || c == '<' || c == '>') {
        t.kind = Tok::kOp;
        if (i_ + 1 < in_.size() && in_[i_ + 1] == '=') {
          t.text = std::string(in_.substr(i_, 2));
          i_ += 2;
        } else if (c == '!') {
          return Error(i_, "expected '!='");
        } else {
          t.text = std::string(1, c);
          ++i_;
        }
      } else if (c == '-' && (i_ + 1 >= in_.size() || !absl::ascii_isdigit(in_[i_ + 1]))) {
        t.kind = Tok::kMinus;
        ++i_;
      } else if (absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' || c == '+') {
        size_t start = i_;
        while (i_ < in_.size() && (absl::ascii_isalnum(in_[i_]) || in_[i_] == '_' ||
                                   in_[i_] == '.' || in_[i_] == '-' || in_[i_] == '+')) {
          ++i_;
        }
        t.kind = Tok::kWord;
        t.text = std::string(in_.substr(start, i_ - start));
      } else {
        return Error(i_, absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
      out.push_back(std::move(t));
    }
  }

 private:
  absl::StatusOr<std::string> ReadString(char quote) {
    size_t start = i_;
    ++i_;
    std::string out;
    while (i_ < in_.size()) {
      char c = in_[i_++];
      if (c == quote) return out;
      if (c == '\\') {
        if (i_ >= in_.size()) break;
        char e = in_[i_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case '\\':
          case '"':
          case '\'':
          case '*':
            out += e;
            break;
          default:
            return Error(i_ - 2, "unknown escape in string");
        }
        continue;
      }
      out += c;
    }
    return Error(start, "unterminated string");
  }

  absl::string_view in_;
  size_t i_ = 0;
};

class Compiler {
 public:
  Compiler(std::vector<Token> tokens, const std::vector<FilterField>& fields, int first,
           const FilterLimits& limits)
      : toks_(std::move(tokens)), fields_(fields), next_param_(first), limits_(limits) {}

  absl::StatusOr<CompiledFilter> Run() {
    auto sql = Or(0);
    if (!sql.ok()) return sql.status();
    if (Peek().kind != Tok::kEnd) return Error(Peek().pos, "unexpected input");
    return CompiledFilter{*std::move(sql), std::move(params_)};
  }

 private:
  const Token& Peek() const { return toks_[i_]; }
  bool IsKeyword(const Token& t, absl::string_view kw) const {
    return t.kind == Tok::kWord && t.text == kw;
  }

  absl::StatusOr<std::string> Or(int depth) {
    auto left = And(depth);
    if (!left.ok()) return left;
    std::string sql = *left;
    bool multi = false;
    while (IsKeyword(Peek(), "OR")) {
      ++i_;
      auto right = And(depth);
      if (!right.ok()) return right;
      sql = absl::StrCat(sql, " OR ", *right);
      multi = true;
    }
    return multi ? absl::StrCat("(", sql, ")") : sql;
  }

  absl::StatusOr<std::string> And(int depth) {
    auto left = Unary(depth);
    if (!left.ok()) return left;
    std::string sql = *left;
    bool multi = false;
    while (IsKeyword(Peek(), "AND")) {
      ++i_;
      auto right = Unary(depth);
      if (!right.ok()) return right;
      sql = absl::StrCat(sql, " AND ", *right);
      multi = true;
    }
    return multi ? absl::StrCat("(", sql, ")") : sql;
  }

  absl::StatusOr<std::string> Unary(int depth) {
    if (depth > limits_.max_depth) return Error(Peek().pos, "nested too deeply");
    const Token& t = Peek();
    if (IsKeyword(t, "NOT") || t.kind == Tok::kMinus) {
      ++i_;
      auto inner = Unary(depth + 1);
      if (!inner.ok()) return inner;
      return absl::StrCat("(NOT ", *inner, ")");
    }
    if (t.kind == Tok::kLParen) {
      ++i_;
      auto inner = Or(depth + 1);
      if (!inner.ok()) return inner;
      if (Peek().kind != Tok::kRParen) return Error(Peek().pos, "expected ')'");
      ++i_;
      return inner;
    }
    return Comparison();
  }

  const FilterField* Field(absl::string_view name) const {
    for (const auto& f : fields_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  std::string Param(std::string value) {
    params_.push_back(std::move(value));
    return absl::StrCat("$", next_param_++);
  }

  absl::StatusOr<std::string> Comparison() {
    const Token field_tok = Peek();
    if (field_tok.kind != Tok::kWord || IsKeyword(field_tok, "AND") || IsKeyword(field_tok, "OR")) {
      return Error(field_tok.pos, "expected a field name");
    }
    const FilterField* field = Field(field_tok.text);
    if (field == nullptr) {
      return Error(field_tok.pos, absl::StrCat("unknown field '", field_tok.text, "'"));
    }
    ++i_;
    const Token op_tok = Peek();
    if (op_tok.kind != Tok::kOp) {
      return Error(op_tok.pos, absl::StrCat("expected an operator after '", field->name, "'"));
    }
    ++i_;
    const Token value_tok = Peek();
    if (value_tok.kind != Tok::kString && value_tok.kind != Tok::kWord) {
      return Error(value_tok.pos, absl::StrCat("expected a value for '", field->name, "'"));
    }
    ++i_;
    if (++terms_ > limits_.max_terms) return Error(field_tok.pos, "too many comparisons");
    const std::string& op = op_tok.text;
    const std::string& v = value_tok.text;
    const std::string sql_op = op == "!=" ? "<>" : op;
    switch (field->type) {
      case FieldType::kStringList:
        if (op != ":") {
          return Error(op_tok.pos, absl::StrCat("'", field->name, "' supports only ':'"));
        }
        if (!field->indexable_sql.empty()) {
          return absl::StrCat("(", absl::StrReplaceAll(field->indexable_sql, {{"{}", Param(v)}}),
                              ")");
        }
        // Containment, so that a GIN index on the column can answer it.
        return absl::StrCat("(", field->sql, " @> ARRAY[", Param(v), "]::text[])");
      case FieldType::kJsonStringList:
        if (op != ":") {
          return Error(op_tok.pos, absl::StrCat("'", field->name, "' supports only ':'"));
        }
        return absl::StrCat("(", field->sql, " @> jsonb_build_array(", Param(v), "::text))");
      case FieldType::kString: {
        const std::string lhs = !field->case_insensitive ? field->sql
                                : !field->indexable_sql.empty()
                                    ? field->indexable_sql
                                    : absl::StrCat("lower(", field->sql, ")");
        auto rhs = [&](std::string value) {
          std::string p = Param(std::move(value));
          return field->case_insensitive ? absl::StrCat("lower(", p, ")") : p;
        };
        if (op == ":") {
          return absl::StrCat("(strpos(lower(", field->sql, "), lower(", Param(v), ")) > 0)");
        }
        if (op == "=" && !v.empty() && v.back() == '*') {
          return absl::StrCat("starts_with(", lhs, ", ", rhs(v.substr(0, v.size() - 1)), ")");
        }
        if (op == "!=") {
          return absl::StrCat("(", lhs, " IS DISTINCT FROM ", rhs(v), ")");
        }
        return absl::StrCat("(", lhs, " ", sql_op, " ", rhs(v), ")");
      }
      case FieldType::kNumber: {
        double d = 0;
        if (value_tok.kind != Tok::kWord || !absl::SimpleAtod(v, &d) || !std::isfinite(d)) {
          return Error(value_tok.pos, absl::StrCat("'", field->name, "' needs a number"));
        }
        if (op == ":") return Error(op_tok.pos, "':' is not defined on numbers");
        return absl::StrCat("(", field->sql, " ", sql_op, " ", Param(v), "::numeric)");
      }
      case FieldType::kBool: {
        if (v != "true" && v != "false") {
          return Error(value_tok.pos, absl::StrCat("'", field->name, "' needs true or false"));
        }
        if (op != "=" && op != "!=") return Error(op_tok.pos, "booleans support = and !=");
        return absl::StrCat("(", field->sql, " ", sql_op, " ", Param(v), "::boolean)");
      }
      case FieldType::kTimestamp: {
        absl::Time t;
        std::string err;
        if (!absl::ParseTime(absl::RFC3339_full, v, &t, &err)) {
          return Error(value_tok.pos,
                       absl::StrCat("'", field->name, "' needs an RFC 3339 timestamp"));
        }
        if (op == ":") return Error(op_tok.pos, "':' is not defined on timestamps");
        return absl::StrCat("(", field->sql, " ", sql_op, " ", Param(v), "::timestamptz)");
      }
    }
    return Error(field_tok.pos, "unsupported field type");
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  const std::vector<FilterField>& fields_;
  int next_param_;
  const FilterLimits& limits_;
  int terms_ = 0;
  std::vector<std::string> params_;
};

}  // namespace

absl::StatusOr<CompiledFilter> CompileFilter(absl::string_view filter,
                                             const std::vector<FilterField>& fields,
                                             int first_param_index, const FilterLimits& limits) {
  if (filter.size() > limits.max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter: longer than ", limits.max_length, " characters"));
  }
  if (absl::StripAsciiWhitespace(filter).empty()) return CompiledFilter{"TRUE", {}};
  Lexer lexer(filter);
  auto tokens = lexer.All();
  if (!tokens.ok()) return tokens.status();
  Compiler compiler(*std::move(tokens), fields, first_param_index, limits);
  return compiler.Run();
}

}  // namespace crm::api
