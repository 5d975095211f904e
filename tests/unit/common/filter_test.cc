#include "common/api/filter.h"

#include <catch2/catch.hpp>

namespace crm::api {
namespace {

const std::vector<FilterField>& Fields() {
  static const auto* fields = new std::vector<FilterField>{
      {"email", "c.email", FieldType::kString, true},
      {"country", "c.country", FieldType::kString, false},
      {"tags", "c.tags", FieldType::kStringList, false},
      {"create_time", "c.create_time", FieldType::kTimestamp, false},
      {"total", "c.total", FieldType::kNumber, false},
      {"active", "c.active", FieldType::kBool, false},
      {"stored_email", "c.email", FieldType::kString, true, "c.email_norm"},
      {"labels", "c.labels", FieldType::kStringList, false,
       "c.id IN (SELECT id FROM l WHERE v = {})"},
  };
  return *fields;
}

CompiledFilter Ok(const std::string& filter, int first = 1) {
  auto f = CompileFilter(filter, Fields(), first);
  INFO(filter << " → " << f.status().message());
  REQUIRE(f.ok());
  return *f;
}

// Returns the message of the (required) error.
std::string Err(const std::string& filter) {
  auto f = CompileFilter(filter, Fields(), 1);
  INFO(filter);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(f.status().message()).rfind("filter: ", 0) == 0);
  return std::string(f.status().message());
}

TEST_CASE("empty filter matches everything", "[filter]") {
  CHECK(Ok("").sql == "TRUE");
  CHECK(Ok("   ").params.empty());
}

TEST_CASE("comparisons compile to parameterised SQL", "[filter]") {
  auto f = Ok("country = \"GB\"", 4);
  CHECK(f.sql == "(c.country = $4)");
  CHECK(f.params == std::vector<std::string>{"GB"});

  f = Ok("email = 'Ann@Example.com'");
  CHECK(f.sql == "(lower(c.email) = lower($1))");
  // A stored lower-cased column stands in for lower(column); the value is
  // still lower-cased (a constant, so the comparison stays leakproof).
  f = Ok("stored_email = 'Ann@Example.com'");
  CHECK(f.sql == "(c.email_norm = lower($1))");
  f = Ok("stored_email = 'Ann*'");
  CHECK(f.sql == "starts_with(c.email_norm, lower($1))");
  // A list field with a membership test compiles ':' to it.
  f = Ok("labels:\"vip\"", 3);
  CHECK(f.sql == "(c.id IN (SELECT id FROM l WHERE v = $3))");
  CHECK(f.params == std::vector<std::string>{"vip"});

  f = Ok("country != \"GB\"");
  CHECK(f.sql == "(c.country IS DISTINCT FROM $1)");

  f = Ok("tags:\"vip\"");
  CHECK(f.sql == "(c.tags @> ARRAY[$1]::text[])");

  f = Ok("email:\"example.com\"");
  CHECK(f.sql == "(strpos(lower(c.email), lower($1)) > 0)");

  f = Ok("country = \"G*\"");
  CHECK(f.sql == "starts_with(c.country, $1)");
  CHECK(f.params == std::vector<std::string>{"G"});

  f = Ok("create_time >= \"2024-01-01T00:00:00Z\"");
  CHECK(f.sql == "(c.create_time >= $1::timestamptz)");

  f = Ok("total > 10.5");
  CHECK(f.sql == "(c.total > $1::numeric)");
  f = Ok("total <= -3");
  CHECK(f.params == std::vector<std::string>{"-3"});

  f = Ok("active = true");
  CHECK(f.sql == "(c.active = $1::boolean)");
}

TEST_CASE("boolean structure and precedence", "[filter]") {
  auto f = Ok("country = \"GB\" AND tags:\"vip\" OR country = \"FR\"");
  CHECK(f.sql == "(((c.country = $1) AND (c.tags @> ARRAY[$2]::text[])) OR (c.country = $3))");
  f = Ok("country = \"GB\" AND (tags:\"vip\" OR NOT tags:\"churned\")");
  CHECK(f.sql ==
        "((c.country = $1) AND ((c.tags @> ARRAY[$2]::text[]) OR (NOT (c.tags @> "
        "ARRAY[$3]::text[]))))");
  f = Ok("-country = \"GB\"");
  CHECK(f.sql == "(NOT (c.country = $1))");
  CHECK(f.params.size() == 1);
}

TEST_CASE("hostile values stay parameters", "[filter]") {
  auto f = Ok("email = \"x'); DROP TABLE customer.customers; --\"");
  CHECK(f.sql == "(lower(c.email) = lower($1))");
  CHECK(f.params[0] == "x'); DROP TABLE customer.customers; --");
  f = Ok("country = \"a\\\"b\"");
  CHECK(f.params[0] == "a\"b");
}

TEST_CASE("malformed and disallowed filters are INVALID_ARGUMENT", "[filter]") {
  CHECK(Err("password = \"x\"").find("unknown field 'password'") != std::string::npos);
  Err("c.email = \"x\"");
  Err("country = ");
  Err("country \"GB\"");
  Err("country = \"GB");
  Err("(country = \"GB\"");
  Err("country = \"GB\")");
  Err("country = \"GB\" AND");
  Err("AND country = \"GB\"");
  Err("country = \"GB\"; DROP TABLE x");
  Err("tags = \"vip\"");
  Err("total > abc");
  Err("total > \"1\"");
  Err("total > nan");
  Err("create_time > \"yesterday\"");
  Err("create_time : \"2024-01-01T00:00:00Z\"");
  Err("active = maybe");
  Err("country ! \"GB\"");
  Err("country = \"\\q\"");
  Err("country = \"GB\" $ x");
  Err(std::string(3000, 'a'));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(";
  deep += "country = \"GB\"";
  for (int i = 0; i < 100; ++i) deep += ")";
  CHECK(Err(deep).find("nested too deeply") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "NOT ";
  Err(nots + "country = \"GB\"");
  std::string many = "country = \"a\"";
  for (int i = 0; i < 60; ++i) many += " OR country = \"a\"";
  CHECK(Err(many).find("too many") != std::string::npos);
}

TEST_CASE("arbitrary bytes never crash the parser", "[filter]") {
  std::string s;
  uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    s.clear();
    for (int i = 0; i < 40; ++i) {
      x = x * 1103515245 + 12345;
      const char alphabet[] = "()=!<>:\"'\\ -ANDORNOTcountrytags*0123.\x01\xff";
      s += alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
    }
    auto f = CompileFilter(s, Fields(), 1);
    if (!f.ok()) CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace crm::api
