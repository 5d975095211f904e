// Identifier normalisation and merge survivorship, without I/O.
#include "services/customer/identity_domain.h"

#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>

namespace crm::customer {
namespace {

using google::protobuf::util::TimeUtil;
using v1::Customer;
using v1::Identity;

Identity Make(v1::IdentityKind kind, const std::string& value, const std::string& source = "") {
  Identity identity;
  identity.set_kind(kind);
  identity.set_source(source);
  identity.set_value(value);
  return identity;
}

TEST_CASE("identifiers are normalised by kind and bad ones name the field", "[unit][identity]") {
  Identity email = Make(v1::IDENTITY_KIND_EMAIL, "  Ann@Example.COM ");
  REQUIRE(NormalizeIdentity(&email, "identity").ok());
  CHECK(email.value() == "ann@example.com");
  Identity phone = Make(v1::IDENTITY_KIND_PHONE, "+44 (7700) 900-123");
  REQUIRE(NormalizeIdentity(&phone, "identity").ok());
  CHECK(phone.value() == "+447700900123");
  Identity external = Make(v1::IDENTITY_KIND_EXTERNAL_ID, "A-1", "shopify");
  REQUIRE(NormalizeIdentity(&external, "identity").ok());
  CHECK(external.value() == "A-1");  // ids are case-sensitive

  Identity bad = Make(v1::IDENTITY_KIND_EXTERNAL_ID, "A-1");
  CHECK(NormalizeIdentity(&bad, "x").message().rfind("x.source", 0) == 0);
  bad = Make(v1::IDENTITY_KIND_EMAIL, "a@b.c", "crm");
  CHECK(NormalizeIdentity(&bad, "x").message().rfind("x.source", 0) == 0);
  bad = Make(v1::IDENTITY_KIND_EMAIL, "not-an-email");
  CHECK(NormalizeIdentity(&bad, "x").message().rfind("x.value", 0) == 0);
  bad = Make(v1::IDENTITY_KIND_ANONYMOUS_ID, "   ");
  CHECK(NormalizeIdentity(&bad, "x").message() == "x.value: required");
  bad = Make(v1::IDENTITY_KIND_UNSPECIFIED, "v");
  CHECK(NormalizeIdentity(&bad, "x").message().rfind("x.kind", 0) == 0);
  CHECK(IdentityKey(external) == "3/shopify/A-1");
}

TEST_CASE("an anonymous profile has nothing but anonymous ids", "[unit][identity]") {
  Customer c;
  *c.add_identities() = Make(v1::IDENTITY_KIND_ANONYMOUS_ID, "cookie");
  CHECK(IsAnonymousProfile(c));
  *c.add_identities() = Make(v1::IDENTITY_KIND_EMAIL, "a@b.c");
  CHECK_FALSE(IsAnonymousProfile(c));
  Customer named;
  named.set_given_name("Ann");
  CHECK_FALSE(IsAnonymousProfile(named));
}

struct Pair {
  Customer survivor, merged;
  Pair() {
    survivor.set_email("old@example.com");
    survivor.set_given_name("Al");
    survivor.add_tags("vip");
    (*survivor.mutable_attributes())["size"].set_string_value("M");
    *survivor.mutable_update_time() = TimeUtil::SecondsToTimestamp(1000);
    merged.set_email("new@example.com");
    merged.set_given_name("Albert");
    merged.set_family_name("Stone");
    merged.set_phone("+447700900123");
    merged.add_tags("newsletter");
    (*merged.mutable_attributes())["size"].set_string_value("L");
    (*merged.mutable_attributes())["shoe"].set_number_value(42);
    *merged.mutable_update_time() = TimeUtil::SecondsToTimestamp(2000);
  }
};

v1::MergeCustomersRequest Rule(const std::string& field, v1::MergeStrategy strategy) {
  v1::MergeCustomersRequest request;
  auto* rule = request.add_rules();
  rule->set_field(field);
  rule->set_strategy(strategy);
  return request;
}

TEST_CASE("survivorship: each strategy picks its value", "[unit][merge]") {
  Pair p;
  SECTION("default: survivor wins, blanks are filled, tags and attributes united") {
    auto r = MergeProfiles(p.survivor, p.merged, {});
    REQUIRE(r.ok());
    CHECK(r->email() == "old@example.com");
    CHECK(r->given_name() == "Al");
    CHECK(r->family_name() == "Stone");
    CHECK(r->phone() == "+447700900123");
    CHECK(r->tags_size() == 2);
    CHECK(r->attributes().at("size").string_value() == "M");
    CHECK(r->attributes().at("shoe").number_value() == 42);
  }
  SECTION("survivor: even an empty value") {
    auto r = MergeProfiles(p.survivor, p.merged, Rule("family_name", v1::MERGE_STRATEGY_SURVIVOR));
    REQUIRE(r.ok());
    CHECK(r->family_name().empty());
  }
  SECTION("most recent, also per attribute") {
    auto request = Rule("email", v1::MERGE_STRATEGY_MOST_RECENT);
    auto* rule = request.add_rules();
    rule->set_field("attributes");
    rule->set_strategy(v1::MERGE_STRATEGY_MOST_RECENT);
    auto r = MergeProfiles(p.survivor, p.merged, request);
    REQUIRE(r.ok());
    CHECK(r->email() == "new@example.com");
    CHECK(r->attributes().at("size").string_value() == "L");
  }
  SECTION("most complete") {
    auto r =
        MergeProfiles(p.survivor, p.merged, Rule("given_name", v1::MERGE_STRATEGY_MOST_COMPLETE));
    REQUIRE(r.ok());
    CHECK(r->given_name() == "Albert");
  }
  SECTION("explicit, validated like any customer") {
    auto request = Rule("country", v1::MERGE_STRATEGY_EXPLICIT);
    request.mutable_explicit_values()->set_country("IE");
    auto r = MergeProfiles(p.survivor, p.merged, request);
    REQUIRE(r.ok());
    CHECK(r->country() == "IE");
    request.mutable_explicit_values()->set_country("Ireland");
    CHECK(MergeProfiles(p.survivor, p.merged, request)
              .status()
              .message()
              .rfind("merged profile.country", 0) == 0);
  }
  SECTION("bad rules") {
    CHECK(MergeProfiles(p.survivor, p.merged, Rule("name", v1::MERGE_STRATEGY_SURVIVOR))
              .status()
              .message()
              .rfind("rules[0].field", 0) == 0);
    auto twice = Rule("email", v1::MERGE_STRATEGY_SURVIVOR);
    *twice.add_rules() = twice.rules(0);
    CHECK(MergeProfiles(p.survivor, p.merged, twice).status().message().find("more than one") !=
          std::string::npos);
  }
}

TEST_CASE("displaced identifiers and the three-way unmerge", "[unit][merge]") {
  Pair p;
  auto result = MergeProfiles(p.survivor, p.merged, Rule("email", v1::MERGE_STRATEGY_MOST_RECENT));
  REQUIRE(result.ok());
  // The survivor's old e-mail becomes an identity; the merged phone is kept
  // as the profile's own phone, so it is not displaced.
  auto displaced = DisplacedIdentifiers(p.survivor, p.merged, *result);
  REQUIRE(displaced.size() == 1);
  CHECK(displaced[0].value() == "old@example.com");

  Customer current = *result;
  current.set_family_name("Stone-Edge");  // changed after the merge
  Customer restored = RestoreSurvivor(p.survivor, *result, current);
  CHECK(restored.email() == "old@example.com");
  CHECK(restored.given_name() == "Al");
  CHECK(restored.phone().empty());
  CHECK(restored.family_name() == "Stone-Edge");
  CHECK(restored.tags_size() == 1);
  CHECK(restored.attributes().count("shoe") == 0);
}

}  // namespace
}  // namespace crm::customer
