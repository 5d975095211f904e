#include "common/db/arrays.h"

#include <catch2/catch.hpp>

namespace crm::db {
namespace {

TEST_CASE("text arrays quote every element and escape quotes and backslashes", "[db]") {
  CHECK(TextArray({}) == "{}");
  CHECK(TextArray({""}) == R"({""})");
  CHECK(TextArray({"a", "b c", "NULL"}) == R"({"a","b c","NULL"})");
  CHECK(TextArray({R"(say "hi")", R"(C:\temp\)", R"("\")"}) ==
        R"({"say \"hi\"","C:\\temp\\","\"\\\""})");
  CHECK(TextArray({"{x,y}", "é"}) == R"({"{x,y}","é"})");
}

}  // namespace
}  // namespace crm::db
