// SearchCustomers: words as prefixes, exact identifiers first, paged.
#include <catch2/catch.hpp>
#include <set>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::customer::v1;

TEST_CASE("free-text search ranks exact identifiers first and pages", "[integration][search]") {
  CustomerHarness h("search");
  auto create = [&](const std::string& given, const std::string& family, const std::string& email,
                    const std::string& phone) {
    v1::CreateCustomerRequest req;
    req.mutable_customer()->set_given_name(given);
    req.mutable_customer()->set_family_name(family);
    req.mutable_customer()->set_email(email);
    req.mutable_customer()->set_phone(phone);
    v1::Customer c;
    REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), req, &c).ok());
    return c;
  };
  v1::Customer ann = create("Ann", "Leeds", "ann.leeds@example.com", "+447700900001");
  create("Annabel", "Lee", "annabel@example.org", "");
  create("Bob", "Anning", "bob@example.com", "");
  for (int i = 0; i < 12; ++i) {
    create("Zed", "Number" + std::to_string(i), "zed" + std::to_string(i) + "@example.net", "");
  }
  auto search = [&](const std::string& q, int page_size = 0) {
    v1::SearchCustomersRequest req;
    req.set_query(q);
    req.set_page_size(page_size);
    v1::SearchCustomersResponse resp;
    grpc::Status s = h.stub().SearchCustomers(CustomerHarness::Ctx().get(), req, &resp);
    INFO(q << ": " << s.error_message());
    REQUIRE(s.ok());
    std::vector<std::string> emails;
    for (const auto& c : resp.customers()) emails.push_back(c.email());
    return emails;
  };
  // Both match every word; equal ranks come in id order, so compare as sets.
  std::vector<std::string> both = search("ann lee");
  CHECK(std::set<std::string>(both.begin(), both.end()) ==
        std::set<std::string>{"ann.leeds@example.com", "annabel@example.org"});
  CHECK(search("ANNING") == std::vector<std::string>{"bob@example.com"});
  CHECK(search("ann.leeds@example.com").front() == "ann.leeds@example.com");
  CHECK(search("ann.leeds@exa").front() == "ann.leeds@example.com");
  CHECK(search("+447700900001") == std::vector<std::string>{"ann.leeds@example.com"});
  CHECK(search("nobody-like-this").empty());
  CHECK(search("'); DROP TABLE customer.customers; --").empty());

  // Pages of 5 over the 12 Zeds: all of them, each once.
  std::set<std::string> seen;
  v1::SearchCustomersRequest req;
  req.set_query("zed");
  req.set_page_size(5);
  int pages = 0;
  for (;;) {
    v1::SearchCustomersResponse resp;
    REQUIRE(h.stub().SearchCustomers(CustomerHarness::Ctx().get(), req, &resp).ok());
    for (const auto& c : resp.customers()) CHECK(seen.insert(c.name()).second);
    ++pages;
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  CHECK(seen.size() == 12);
  CHECK(pages == 3);

  v1::SearchCustomersRequest empty;
  v1::SearchCustomersResponse resp;
  CHECK(h.stub().SearchCustomers(CustomerHarness::Ctx().get(), empty, &resp).error_message() ==
        "query: required");
  // Other tenants find nothing of ours.
  empty.set_query("ann");
  REQUIRE(h.stub().SearchCustomers(CustomerHarness::Ctx("other").get(), empty, &resp).ok());
  CHECK(resp.customers_size() == 0);
}

}  // namespace
}  // namespace crm::testing
