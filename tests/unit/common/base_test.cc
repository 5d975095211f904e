#include <catch2/catch.hpp>
#include <set>

#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "crm/customer/v1/consent.pb.h"
#include "crm/customer/v1/customer.pb.h"

namespace crm {
namespace {

TEST_CASE("log lines escape everything JSON needs", "[log]") {
  CHECK(log::JsonEscape("plain") == "plain");
  CHECK(log::JsonEscape("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(log::JsonEscape("line\nbreak\ttab\r") == "line\\nbreak\\ttab\\r");
  CHECK(log::JsonEscape(std::string("\x01\x1f", 2)) == "\\u0001\\u001f");
}

TEST_CASE("uuids are v4 and distinct, hashes and MACs are stable", "[crypto]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = crypto::NewUuid();
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '4');
    CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    std::string parsed;
    CHECK(api::ParseResourceName("name", "customers/" + id, "customers", &parsed).ok());
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  CHECK(crypto::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(crypto::HmacSha256("k", "m") == crypto::HmacSha256("k", "m"));
  CHECK(crypto::HmacSha256("k", "m") != crypto::HmacSha256("k2", "m"));
  CHECK(crypto::ConstantTimeEquals("same", "same"));
  CHECK_FALSE(crypto::ConstantTimeEquals("same", "samf"));
  CHECK_FALSE(crypto::ConstantTimeEquals("same", "sam"));
}

TEST_CASE("resource names and shared validators", "[validation]") {
  std::string id;
  CHECK(api::ParseResourceName("name", "customers/00000000-0000-4000-8000-00000000000A",
                               "customers", &id)
            .ok());
  CHECK(id == "00000000-0000-4000-8000-00000000000a");
  CHECK_FALSE(api::ParseResourceName("name", "", "customers", &id).ok());
  CHECK_FALSE(api::ParseResourceName("name", "tickets/00000000-0000-4000-8000-000000000000",
                                     "customers", &id)
                  .ok());
  CHECK_FALSE(api::ParseResourceName("name", "customers/../../etc", "customers", &id).ok());
  CHECK(api::IsValidUtf8("Zoë — 東京"));
  CHECK_FALSE(api::IsValidUtf8("\xc3"));
  CHECK_FALSE(api::IsValidUtf8("\xc0\xaf"));
  CHECK_FALSE(api::IsValidUtf8("\xff"));
  CHECK(api::CheckLocale("locale", "pt-BR").ok());
  CHECK(api::CheckLocale("locale", "zh-Hant-TW").ok());
  CHECK_FALSE(api::CheckLocale("locale", "e").ok());
  CHECK(api::CheckE164("phone", "+442071234567").ok());
  CHECK_FALSE(api::CheckE164("phone", "+4420712345678901").ok());
}

}  // namespace
}  // namespace crm

namespace crm::api {
namespace {

TEST_CASE("enum fields are checked against the generated enum", "[validation]") {
  using crm::customer::v1::ConsentChannel;
  CHECK(RequiredEnum("channel", crm::customer::v1::CONSENT_CHANNEL_EMAIL).ok());
  CHECK(RequiredEnum("channel", crm::customer::v1::CONSENT_CHANNEL_UNSPECIFIED).message() ==
        "channel: required");
  // A number the enum does not define, as an older or newer client may send.
  CHECK(RequiredEnum("channel", static_cast<ConsentChannel>(99)).message() == "channel: required");
  CHECK(
      OptionalEnum("preferences.preferred_channel", crm::customer::v1::CONSENT_CHANNEL_UNSPECIFIED)
          .ok());
  CHECK(OptionalEnum("preferences.preferred_channel", static_cast<ConsentChannel>(-3)).message() ==
        "preferences.preferred_channel: unknown value");
  // Every value the contract defines passes, whatever was added last.
  const auto* d = google::protobuf::GetEnumDescriptor<ConsentChannel>();
  for (int i = 1; i < d->value_count(); ++i) {
    CHECK(RequiredEnum("channel", static_cast<ConsentChannel>(d->value(i)->number())).ok());
  }
}

}  // namespace
}  // namespace crm::api

namespace crm::api {
namespace {

TEST_CASE("request fingerprints are stable across map order", "[validation]") {
  crm::customer::v1::Customer a, b;
  for (int i = 0; i < 50; ++i)
    (*a.mutable_attributes())["k" + std::to_string(i)].set_bool_value(true);
  for (int i = 49; i >= 0; --i)
    (*b.mutable_attributes())["k" + std::to_string(i)].set_bool_value(true);
  CHECK(RequestFingerprint(a) == RequestFingerprint(b));
  b.set_email("other@example.com");
  CHECK(RequestFingerprint(a) != RequestFingerprint(b));
  CHECK(RequestFingerprint(a).size() == 64);
}

}  // namespace
}  // namespace crm::api
