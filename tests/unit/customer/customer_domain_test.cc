#include "services/customer/customer_domain.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "absl/time/civil_time.h"
#include "common/api/validation.h"

namespace crm::customer {
namespace {

using v1::Customer;

std::string Check(const Customer& c) {
  absl::Status s = ValidateCustomer(c, "customer");
  if (s.ok()) return "";
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST_CASE("a complete valid customer passes", "[customer][validation]") {
  Customer c;
  c.set_external_id("shop-123");
  c.set_email("ann.lee+crm@example.co.uk");
  c.set_phone("+442071234567");
  c.set_given_name("Ann");
  c.set_family_name("Lée");
  c.set_locale("en-GB");
  c.set_country("GB");
  c.add_tags("vip");
  c.add_tags("newsletter:weekly");
  (*c.mutable_attributes())["loyalty_tier"].set_string_value("gold");
  (*c.mutable_attributes())["score"].set_number_value(4.5);
  (*c.mutable_attributes())["opted_in"].set_bool_value(true);
  (*c.mutable_attributes())["first_visit"].mutable_timestamp_value()->set_seconds(1700000000);
  CHECK(Check(c).empty());
  CHECK(Check(Customer()).empty());  // every field is optional
}

TEST_CASE("validation names the bad field", "[customer][validation]") {
  Customer c;
  c.set_email("not-an-email");
  CHECK(Check(c).rfind("customer.email:", 0) == 0);
  c = Customer();
  c.set_email("a@b@c");
  CHECK(Check(c).rfind("customer.email:", 0) == 0);
  c = Customer();
  c.set_email("a b@c.d");
  CHECK(Check(c).rfind("customer.email:", 0) == 0);
  c = Customer();
  c.set_phone("020 7123 4567");
  CHECK(Check(c).rfind("customer.phone:", 0) == 0);
  c.set_phone("+0123456789");
  CHECK(Check(c).rfind("customer.phone:", 0) == 0);
  c.set_phone("+1234567");
  CHECK(Check(c).rfind("customer.phone:", 0) == 0);
  c = Customer();
  c.set_country("gb");
  CHECK(Check(c).rfind("customer.country:", 0) == 0);
  c.set_country("GBR");
  CHECK(Check(c).rfind("customer.country:", 0) == 0);
  c = Customer();
  c.set_locale("english");
  CHECK(Check(c).rfind("customer.locale:", 0) == 0);
  c = Customer();
  c.set_given_name(std::string(201, 'a'));
  CHECK(Check(c).rfind("customer.given_name:", 0) == 0);
  c = Customer();
  c.set_family_name("bad\xff\xfeutf8");
  CHECK(Check(c).rfind("customer.family_name:", 0) == 0);
  c = Customer();
  c.set_given_name("line\nbreak");
  CHECK(Check(c).rfind("customer.given_name:", 0) == 0);
  c = Customer();
  c.add_tags("VIP");
  CHECK(Check(c).rfind("customer.tags[0]:", 0) == 0);
  c = Customer();
  for (int i = 0; i < 51; ++i) c.add_tags("t" + std::to_string(i));
  CHECK(Check(c).rfind("customer.tags:", 0) == 0);
  c = Customer();
  (*c.mutable_attributes())["Bad-Key"].set_bool_value(true);
  CHECK(Check(c).rfind("customer.attributes:", 0) == 0);
  c = Customer();
  (*c.mutable_attributes())["x"];
  CHECK(Check(c).rfind("customer.attributes[x]:", 0) == 0);
  c = Customer();
  (*c.mutable_attributes())["x"].set_number_value(std::nan(""));
  CHECK(Check(c).rfind("customer.attributes[x]:", 0) == 0);
  c = Customer();
  (*c.mutable_attributes())["x"].set_string_value(std::string(1025, 'a'));
  CHECK(Check(c).rfind("customer.attributes[x]:", 0) == 0);
  c = Customer();
  (*c.mutable_attributes())["x"].mutable_timestamp_value()->set_seconds(-(int64_t{1} << 60));
  CHECK(Check(c).rfind("customer.attributes[x]:", 0) == 0);
}

TEST_CASE("tags are sorted and de-duplicated", "[customer]") {
  Customer c;
  c.add_tags("b");
  c.add_tags("a");
  c.add_tags("b");
  NormalizeCustomer(&c);
  REQUIRE(c.tags_size() == 2);
  CHECK(c.tags(0) == "a");
  CHECK(c.tags(1) == "b");
}

TEST_CASE("update masks copy only the named fields", "[customer]") {
  Customer target;
  target.set_email("old@example.com");
  target.set_given_name("Old");
  target.set_external_id("ext");
  Customer patch;
  patch.set_email("new@example.com");
  patch.set_given_name("Ignored");
  google::protobuf::FieldMask mask;
  mask.add_paths("email");
  mask.add_paths("family_name");  // absent in patch → cleared
  target.set_family_name("Gone");
  REQUIRE(ApplyUpdateMask(patch, mask, &target).ok());
  CHECK(target.email() == "new@example.com");
  CHECK(target.given_name() == "Old");
  CHECK(target.family_name().empty());

  google::protobuf::FieldMask empty;
  CHECK(ApplyUpdateMask(patch, empty, &target).code() == absl::StatusCode::kInvalidArgument);
  google::protobuf::FieldMask immutable;
  immutable.add_paths("external_id");
  auto s = ApplyUpdateMask(patch, immutable, &target);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).rfind("update_mask:", 0) == 0);
  google::protobuf::FieldMask unknown;
  unknown.add_paths("password");
  CHECK(ApplyUpdateMask(patch, unknown, &target).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("etags", "[customer]") {
  CHECK(api::EtagOf(3) == "v3");
  CHECK(*api::ParseEtag("etag", "v3") == 3);
  CHECK(api::ParseEtag("etag", "3").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(api::ParseEtag("etag", "v").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(api::ParseEtag("etag", "v-1").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crm::customer

namespace crm::customer {
namespace {

using v1::Consent;

Consent Valid() {
  Consent c;
  c.set_channel(v1::CONSENT_CHANNEL_EMAIL);
  c.set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  c.set_status(v1::CONSENT_STATUS_GRANTED);
  c.set_source("checkout");
  c.set_text_version("2024-05");
  return c;
}

TEST_CASE("consent validation names the field and fills the time", "[customer][consent]") {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  Consent c = Valid();
  REQUIRE(ValidateConsent(&c, now, "consent").ok());
  CHECK(c.consent_time().seconds() == 1800000000);
  auto message = [&](Consent bad) {
    absl::Status s = ValidateConsent(&bad, now, "consent");
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  Consent bad = Valid();
  bad.clear_channel();
  CHECK(message(bad) == "consent.channel: required");
  bad = Valid();
  bad.set_purpose(static_cast<v1::ConsentPurpose>(9));
  CHECK(message(bad) == "consent.purpose: required");
  bad = Valid();
  bad.clear_status();
  CHECK(message(bad) == "consent.status: required");
  bad = Valid();
  bad.set_source("Check Out");
  CHECK(message(bad).rfind("consent.source:", 0) == 0);
  bad = Valid();
  bad.clear_text_version();
  CHECK(message(bad).rfind("consent.text_version:", 0) == 0);
  bad = Valid();
  bad.mutable_consent_time()->set_seconds(1800000000 + 3600);
  CHECK(message(bad) == "consent.consent_time: must not be in the future");
  Consent past = Valid();
  past.mutable_consent_time()->set_seconds(1500000000);
  CHECK(ValidateConsent(&past, now, "consent").ok());
  CHECK(past.consent_time().seconds() == 1500000000);
}

TEST_CASE("the contact rule", "[customer][consent]") {
  v1::Customer customer;
  customer.set_email("ann@example.com");
  Consent granted = Valid();
  Consent denied = Valid();
  denied.set_status(v1::CONSENT_STATUS_DENIED);
  const auto email = v1::CONSENT_CHANNEL_EMAIL;
  const auto sms = v1::CONSENT_CHANNEL_SMS;
  const auto marketing = v1::CONSENT_PURPOSE_MARKETING;
  const auto transactional = v1::CONSENT_PURPOSE_TRANSACTIONAL;

  CHECK_FALSE(DecideConsent(customer, email, marketing, nullptr).allowed);
  CHECK(DecideConsent(customer, email, marketing, nullptr).reason ==
        "no marketing email consent recorded");
  CHECK(DecideConsent(customer, email, marketing, &granted).allowed);
  CHECK(DecideConsent(customer, email, marketing, &granted).reason ==
        "marketing email granted via checkout (text 2024-05)");
  CHECK_FALSE(DecideConsent(customer, email, marketing, &denied).allowed);
  CHECK(DecideConsent(customer, email, transactional, nullptr).allowed);
  CHECK_FALSE(DecideConsent(customer, email, transactional, &denied).allowed);
  // No address for the channel: never.
  CHECK_FALSE(DecideConsent(customer, sms, transactional, nullptr).allowed);
  customer.set_phone("+447700900123");
  CHECK(DecideConsent(customer, sms, transactional, nullptr).allowed);
  customer.clear_email();
  CHECK_FALSE(DecideConsent(customer, email, marketing, &granted).allowed);
  customer.set_email("ann@example.com");
  customer.mutable_delete_time()->set_seconds(1);
  CHECK_FALSE(DecideConsent(customer, email, marketing, &granted).allowed);
}

}  // namespace
}  // namespace crm::customer

namespace crm::customer {
namespace {

TEST_CASE("addresses, demographics and preferences are validated", "[customer][profile]") {
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 11, 22), absl::UTCTimeZone());
  v1::Customer c;
  auto* home = c.add_addresses();
  home->set_kind(v1::ADDRESS_KIND_SHIPPING);
  home->set_is_default(true);
  home->set_label("Home");
  home->mutable_address()->add_lines("1 Rue de Rivoli");
  home->mutable_address()->set_city("Paris");
  home->mutable_address()->set_postal_code("75001");
  home->mutable_address()->set_country("FR");
  c.mutable_demographics()->set_birth_date("1990-02-28");
  c.mutable_demographics()->set_gender(v1::GENDER_FEMALE);
  c.mutable_preferences()->set_language("fr");
  c.mutable_preferences()->set_preferred_channel(v1::CONSENT_CHANNEL_EMAIL);
  c.mutable_preferences()->add_categories("shoes");
  REQUIRE(ValidateProfileDetails(c, "customer", now).ok());

  auto message = [&](const v1::Customer& bad) {
    absl::Status s = ValidateProfileDetails(bad, "customer", now);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::Customer bad = c;
  bad.mutable_addresses(0)->clear_kind();
  CHECK(message(bad) == "customer.addresses[0].kind: required");
  bad = c;
  bad.mutable_addresses(0)->mutable_address()->set_country("France");
  CHECK(message(bad).rfind("customer.addresses[0].address.country:", 0) == 0);
  bad = c;
  *bad.add_addresses() = c.addresses(0);
  CHECK(message(bad).rfind("customer.addresses[1].is_default:", 0) == 0);
  bad.mutable_addresses(1)->set_kind(v1::ADDRESS_KIND_BILLING);  // other kind: fine
  CHECK(ValidateProfileDetails(bad, "customer", now).ok());
  bad = c;
  bad.mutable_demographics()->set_birth_date("28/02/1990");
  CHECK(message(bad).rfind("customer.demographics.birth_date:", 0) == 0);
  bad.mutable_demographics()->set_birth_date("2030-01-01");
  CHECK(message(bad).rfind("customer.demographics.birth_date:", 0) == 0);
  bad.mutable_demographics()->set_birth_date("1850-01-01");
  CHECK(message(bad).rfind("customer.demographics.birth_date:", 0) == 0);
  bad = c;
  bad.mutable_preferences()->set_language("french");
  CHECK(message(bad).rfind("customer.preferences.language:", 0) == 0);
  bad = c;
  bad.mutable_preferences()->add_categories("Shoes & Bags");
  CHECK(message(bad).rfind("customer.preferences.categories[1]:", 0) == 0);
  bad = c;
  bad.mutable_preferences()->set_preferred_channel(static_cast<v1::ConsentChannel>(42));
  CHECK(message(bad) == "customer.preferences.preferred_channel: unknown value");
}

}  // namespace
}  // namespace crm::customer

namespace crm::customer {
namespace {

TEST_CASE("customer diffs name every changed field with JSON values", "[customer][history]") {
  v1::Customer before;
  before.set_name("customers/x");
  before.set_email("a@example.com");
  before.add_tags("vip");
  before.set_etag("v1");
  v1::Customer after = before;
  after.set_email("b@example.com");
  after.clear_tags();
  after.set_given_name("Ann");
  after.set_etag("v2");  // bookkeeping: not a change
  after.mutable_facts()->set_order_count(3);
  auto changes = DiffCustomers(before, after);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].field() == "email");
  CHECK(changes[0].old_value() == "\"a@example.com\"");
  CHECK(changes[0].new_value() == "\"b@example.com\"");
  CHECK(changes[1].field() == "given_name");
  CHECK(changes[1].old_value().empty());
  CHECK(changes[2].field() == "tags");
  CHECK(changes[2].old_value() == "[\"vip\"]");
  CHECK(changes[2].new_value().empty());
  CHECK(DiffCustomers(after, after).empty());
}

}  // namespace
}  // namespace crm::customer
