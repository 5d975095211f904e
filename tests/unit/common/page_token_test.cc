#include "common/api/page_token.h"

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"

namespace crm::api {
namespace {

TEST_CASE("page tokens round-trip for the same query", "[page_token]") {
  PageTokenCodec codec("0123456789abcdef0123456789abcdef");
  const std::string token = codec.Encode({"1700000000000000", "abc"}, "filter-a");
  auto key = codec.Decode(token, "filter-a");
  REQUIRE(key.ok());
  CHECK(*key == std::vector<std::string>{"1700000000000000", "abc"});
}

TEST_CASE("forged or edited page tokens are INVALID_ARGUMENT", "[page_token]") {
  PageTokenCodec codec("0123456789abcdef0123456789abcdef");
  const std::string token = codec.Encode({"1700000000000000", "abc"}, "q");
  std::string raw;
  REQUIRE(absl::WebSafeBase64Unescape(token, &raw));
  // Flip every byte position in turn: none may decode.
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string edited = raw;
    edited[i] = static_cast<char>(edited[i] ^ 0x01);
    auto key = codec.Decode(absl::WebSafeBase64Escape(edited), "q");
    CHECK(key.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(codec.Decode("not base64 !!", "q").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(codec.Decode("", "q").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(codec.Decode(std::string(10000, 'A'), "q").status().code() ==
        absl::StatusCode::kInvalidArgument);
  // A token minted with another secret is a forgery too.
  PageTokenCodec other("another-secret-another-secret-xx");
  CHECK(other.Decode(token, "q").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a page token replayed with another filter is rejected", "[page_token]") {
  PageTokenCodec codec("0123456789abcdef0123456789abcdef");
  const std::string token = codec.Encode({"1", "x"}, "country = \"GB\"");
  auto key = codec.Decode(token, "country = \"FR\"");
  CHECK(key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(key.status().message()).find("page_token") == 0);
}

TEST_CASE("page size rules", "[page_token]") {
  CHECK(*EffectivePageSize(0, 50, 1000) == 50);
  CHECK(*EffectivePageSize(10, 50, 1000) == 10);
  CHECK(*EffectivePageSize(5000, 50, 1000) == 1000);
  CHECK(EffectivePageSize(-1, 50, 1000).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crm::api
