// SearchCustomers: words as prefixes, exact identifiers first, paged.
#include <algorithm>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <utility>

#include "tests/testing/customer_harness.h"
#include "tests/testing/test_db.h"

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
  // An e-mail prefix is literal: LIKE's wildcards in the query match only
  // themselves.
  create("Under", "Score", "a_b@example.com", "");
  create("Wild", "Card", "axxb@example.com", "");
  CHECK(search("a_b@").front() == "a_b@example.com");
  auto none_is_axxb = [](const std::vector<std::string>& emails) {
    return std::find(emails.begin(), emails.end(), "axxb@example.com") == emails.end();
  };
  CHECK(none_is_axxb(search("a%b@")));
  CHECK(none_is_axxb(search("a__b@")));
  CHECK_FALSE(none_is_axxb(search("axxb@")));
  CHECK(search("annabel@EXAMPLE.O").front() == "annabel@example.org");

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

TEST_CASE("customer lookups are answered by indexes under row-level security",
          "[integration][search]") {
  CustomerHarness h("search_rls");
  // Enough varied customers that each condition's own index is the cheapest.
  {
    auto ctx = CustomerHarness::Ctx();
    v1::ImportCustomersResponse summary;
    auto writer = h.stub().ImportCustomers(ctx.get(), &summary);
    for (int chunk = 0; chunk < 6; ++chunk) {
      v1::ImportCustomersRequest req;
      for (int i = chunk * 500; i < (chunk + 1) * 500; ++i) {
        v1::Customer* c = req.add_customers();
        const std::string n = std::to_string(i);
        c->set_external_id("shop-" + n);
        c->set_email("user" + n + "@example.com");
        c->set_phone("+4477009" + std::string(5 - n.size(), '0') + n);
        c->set_given_name("Given" + n);
        c->set_family_name("Family" + n);
        c->set_country(i % 2 == 0 ? "GB" : (i % 3 == 0 ? "FR" : "DE"));
        if (i % 100 == 0) c->add_tags("vip");
      }
      REQUIRE(writer->Write(req));
    }
    writer->WritesDone();
    REQUIRE(writer->Finish().ok());
    REQUIRE(summary.created() == 3000);
  }
  // A role that is not the owner: row-level security applies to it, as it
  // does to the service's own role (FORCE). Only leakproof conditions may
  // use an index then; with sequential scans off, a condition that cannot
  // shows as a Seq Scan.
  ExecSql(h.db_url(),
          "DO $$ BEGIN CREATE ROLE rls_probe; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
          "GRANT USAGE ON SCHEMA customer TO rls_probe;"
          "GRANT SELECT ON customer.customers, customer.identities, customer.customer_tags TO "
          "rls_probe;"
          "ANALYZE customer.customers; ANALYZE customer.customer_tags;");
  pqxx::connection conn(h.db_url());
  pqxx::work tx(conn);
  tx.exec("SET LOCAL ROLE rls_probe");
  tx.exec("SET LOCAL enable_seqscan = off");
  tx.exec("SELECT set_config('app.tenant_id', 'acme', true)");
  // Each condition, and the column an index condition must then name.
  const std::vector<std::pair<std::string, std::string>> lookups = {
      {"c.email_norm = lower('Ann@Example.com')", "email_norm"},
      {"starts_with(c.email_norm, lower('Ann@ex'))", "email_norm"},
      {"starts_with(c.given_name_norm, 'ann')", "given_name_norm"},
      {"starts_with(c.family_name_norm, 'lee')", "family_name_norm"},
      {"c.phone = '+447700900001'", "phone"},
      {"c.external_id = 'shop-1'", "external_id"},
      {"c.country = 'GB'", "country"},
      {"c.id IN (SELECT t.customer_id FROM customer.customer_tags t WHERE t.tag = 'vip')",
       "tag = "},
  };
  for (const auto& [condition, column] : lookups) {
    std::string index_conditions, plan;
    for (const auto& row : tx.exec("EXPLAIN SELECT c.id FROM customer.customers c WHERE "
                                   "c.tenant_id = 'acme' AND c.delete_time IS NULL AND " +
                                   condition)) {
      const std::string line = row[0].as<std::string>();
      plan += line + "\n";
      if (line.find("Index Cond") != std::string::npos) index_conditions += line;
    }
    INFO(condition << "\n" << plan);
    CHECK(index_conditions.find(column) != std::string::npos);
  }
}

}  // namespace
}  // namespace crm::testing
