// Addresses, demographics and preferences: stored, updated by mask, filtered.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using crm::customer::v1::UpdateCustomerRequest;
namespace v1 = crm::customer::v1;

Customer Profile(const std::string& email, v1::Gender gender, const std::string& birth,
                 const std::string& language, std::vector<std::string> categories) {
  Customer c;
  c.set_email(email);
  auto* a = c.add_addresses();
  a->set_kind(v1::ADDRESS_KIND_SHIPPING);
  a->set_is_default(true);
  a->mutable_address()->add_lines("221B Baker Street");
  a->mutable_address()->set_city("London");
  a->mutable_address()->set_postal_code("NW1 6XE");
  a->mutable_address()->set_country("GB");
  c.mutable_demographics()->set_gender(gender);
  c.mutable_demographics()->set_birth_date(birth);
  c.mutable_preferences()->set_language(language);
  c.mutable_preferences()->set_preferred_channel(v1::CONSENT_CHANNEL_SMS);
  for (auto& cat : categories) c.mutable_preferences()->add_categories(cat);
  return c;
}

TEST_CASE("profile details round-trip, update by mask and filter", "[integration][profile]") {
  CustomerHarness h("profile");
  auto create = [&](const Customer& c) {
    CreateCustomerRequest req;
    *req.mutable_customer() = c;
    Customer out;
    grpc::Status s = h.stub().CreateCustomer(CustomerHarness::Ctx().get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return out;
  };
  Customer ann =
      create(Profile("ann@example.com", v1::GENDER_FEMALE, "1990-02-28", "en", {"shoes", "bags"}));
  Customer bob =
      create(Profile("bob@example.com", v1::GENDER_MALE, "1975-07-01", "fr", {"garden"}));
  REQUIRE(ann.addresses_size() == 1);
  CHECK(ann.addresses(0).address().city() == "London");
  CHECK(ann.addresses(0).is_default());
  CHECK(ann.demographics().birth_date() == "1990-02-28");
  CHECK(ann.preferences().preferred_channel() == v1::CONSENT_CHANNEL_SMS);
  // Categories come back sorted.
  CHECK(ann.preferences().categories(0) == "bags");

  auto names = [&](const std::string& filter) {
    ListCustomersRequest list;
    list.set_filter(filter);
    ListCustomersResponse page;
    grpc::Status s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
    INFO(filter << ": " << s.error_message());
    REQUIRE(s.ok());
    std::vector<std::string> out;
    for (const auto& c : page.customers()) out.push_back(c.email());
    return out;
  };
  CHECK(names("demographics.gender = \"GENDER_FEMALE\"") ==
        std::vector<std::string>{"ann@example.com"});
  CHECK(names("demographics.birth_date < \"1980-01-01\"") ==
        std::vector<std::string>{"bob@example.com"});
  CHECK(names("preferences.categories:\"shoes\"") == std::vector<std::string>{"ann@example.com"});
  CHECK(names("preferences.language = \"fr\" OR preferences.categories:\"bags\"").size() == 2);
  CHECK(names("preferences.preferred_channel = \"CONSENT_CHANNEL_SMS\"").size() == 2);

  // Replace ann's preferences only; addresses and demographics stay.
  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(ann.name());
  update.mutable_customer()->mutable_preferences()->set_language("de");
  update.mutable_update_mask()->add_paths("preferences");
  Customer updated;
  REQUIRE(h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &updated).ok());
  CHECK(updated.preferences().language() == "de");
  CHECK(updated.preferences().categories_size() == 0);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(updated.addresses(0), ann.addresses(0)));
  CHECK(updated.demographics().gender() == v1::GENDER_FEMALE);
  CHECK(names("preferences.categories:\"shoes\"").empty());

  // Invalid details are refused with the field named.
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("addresses");
  update.mutable_customer()->add_addresses()->set_kind(v1::ADDRESS_KIND_BILLING);
  grpc::Status s = h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &updated);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "customer.addresses[0].address: required");
}

}  // namespace
}  // namespace crm::testing
