// CustomerService against a real Postgres, over real gRPC.
#include <google/protobuf/util/message_differencer.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::DeleteCustomerRequest;
using crm::customer::v1::GetCustomerRequest;
using crm::customer::v1::ListCustomersRequest;
using crm::customer::v1::ListCustomersResponse;
using crm::customer::v1::UpdateCustomerRequest;
using google::protobuf::util::MessageDifferencer;

Customer MustCreate(CustomerHarness& h, const std::string& tenant, Customer c,
                    const std::string& request_id = "") {
  CreateCustomerRequest req;
  *req.mutable_customer() = std::move(c);
  req.set_request_id(request_id);
  Customer out;
  auto ctx = CustomerHarness::Ctx(tenant);
  grpc::Status s = h.stub().CreateCustomer(ctx.get(), req, &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return out;
}

int64_t CountRows(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<int64_t>();
}

TEST_CASE("customer CRUD with etags", "[integration][customer]") {
  CustomerHarness h;
  Customer in;
  in.set_external_id("shop-1");
  in.set_email("ann@example.com");
  in.set_given_name("Ann");
  in.set_country("GB");
  in.add_tags("vip");
  (*in.mutable_attributes())["tier"].set_string_value("gold");
  (*in.mutable_attributes())["score"].set_number_value(2.5);
  Customer created = MustCreate(h, "acme", in);
  CHECK(created.name().rfind("customers/", 0) == 0);
  CHECK(created.etag() == "v1");
  CHECK(created.attributes().at("tier").string_value() == "gold");
  CHECK(created.attributes().at("score").number_value() == 2.5);
  CHECK(created.has_create_time());

  GetCustomerRequest get;
  get.set_name(created.name());
  Customer got;
  REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &got).ok());
  CHECK(MessageDifferencer::Equals(got, created));

  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(created.name());
  update.mutable_customer()->set_email("ann.lee@example.com");
  update.mutable_update_mask()->add_paths("email");
  update.set_etag(created.etag());
  Customer updated;
  REQUIRE(h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &updated).ok());
  CHECK(updated.email() == "ann.lee@example.com");
  CHECK(updated.given_name() == "Ann");
  CHECK(updated.etag() == "v2");

  SECTION("a stale etag is ABORTED and changes nothing") {
    update.mutable_customer()->set_email("stale@example.com");
    Customer ignored;
    grpc::Status s = h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &ignored);
    CHECK(s.error_code() == grpc::StatusCode::ABORTED);
    REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &got).ok());
    CHECK(got.email() == "ann.lee@example.com");
  }

  SECTION("delete is soft and frees the external_id") {
    DeleteCustomerRequest del;
    del.set_name(created.name());
    del.set_etag("v1");
    Customer deleted;
    CHECK(h.stub().DeleteCustomer(CustomerHarness::Ctx().get(), del, &deleted).error_code() ==
          grpc::StatusCode::ABORTED);
    del.set_etag(updated.etag());
    REQUIRE(h.stub().DeleteCustomer(CustomerHarness::Ctx().get(), del, &deleted).ok());
    CHECK(deleted.has_delete_time());
    REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &got).ok());
    CHECK(got.has_delete_time());
    ListCustomersRequest list;
    ListCustomersResponse page;
    REQUIRE(h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page).ok());
    CHECK(page.customers_size() == 0);
    CHECK(h.stub().DeleteCustomer(CustomerHarness::Ctx().get(), del, &deleted).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    Customer again = MustCreate(h, "acme", in);  // external_id reusable
    CHECK(again.name() != created.name());
  }
}

TEST_CASE("bad input is INVALID_ARGUMENT naming the field", "[integration][customer]") {
  CustomerHarness h;
  CreateCustomerRequest req;
  Customer out;
  CHECK(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), req, &out).error_message() ==
        "customer: required");
  req.mutable_customer()->set_email("nope");
  grpc::Status s = h.stub().CreateCustomer(CustomerHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("customer.email:", 0) == 0);

  GetCustomerRequest get;
  get.set_name("customers/not-a-uuid");
  s = h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("name:", 0) == 0);
  get.set_name("customers/00000000-0000-4000-8000-000000000000");
  CHECK(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  ListCustomersRequest list;
  ListCustomersResponse page;
  list.set_filter("country = ");
  s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("filter:", 0) == 0);
  list.set_filter("");
  list.set_page_token("forged-token");
  s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("page_token:", 0) == 0);
  list.set_page_token("");
  list.set_page_size(-5);
  CHECK(h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  list.set_page_size(0);
  list.set_order_by("email");
  CHECK(h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // No tenant, or a malformed one: refused before any work.
  s = h.stub().GetCustomer(CustomerHarness::Ctx("").get(), get, &out);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  s = h.stub().GetCustomer(CustomerHarness::Ctx("Bad Tenant").get(), get, &out);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("tenants never see each other's customers", "[integration][customer]") {
  CustomerHarness h;
  Customer in;
  in.set_external_id("same-id");
  in.set_email("a@example.com");
  Customer a = MustCreate(h, "tenant-a", in);
  Customer b = MustCreate(h, "tenant-b", in);  // same external_id, other tenant: fine
  GetCustomerRequest get;
  get.set_name(a.name());
  Customer out;
  CHECK(h.stub().GetCustomer(CustomerHarness::Ctx("tenant-b").get(), get, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(a.name());
  update.mutable_update_mask()->add_paths("email");
  CHECK(
      h.stub().UpdateCustomer(CustomerHarness::Ctx("tenant-b").get(), update, &out).error_code() ==
      grpc::StatusCode::NOT_FOUND);
  DeleteCustomerRequest del;
  del.set_name(a.name());
  CHECK(h.stub().DeleteCustomer(CustomerHarness::Ctx("tenant-b").get(), del, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  ListCustomersRequest list;
  ListCustomersResponse page;
  REQUIRE(h.stub().ListCustomers(CustomerHarness::Ctx("tenant-b").get(), list, &page).ok());
  REQUIRE(page.customers_size() == 1);
  CHECK(page.customers(0).name() == b.name());
  // external_id is unique within a tenant.
  CreateCustomerRequest dup;
  *dup.mutable_customer() = in;
  grpc::Status s = h.stub().CreateCustomer(CustomerHarness::Ctx("tenant-a").get(), dup, &out);
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(s.error_message().rfind("customer.external_id:", 0) == 0);
}

TEST_CASE("create is idempotent by request_id", "[integration][customer]") {
  CustomerHarness h;
  Customer in;
  in.set_email("idem@example.com");
  (*in.mutable_attributes())["a"].set_bool_value(true);
  (*in.mutable_attributes())["b"].set_number_value(1);
  Customer first = MustCreate(h, "acme", in, "req-1");
  Customer second = MustCreate(h, "acme", in, "req-1");
  CHECK(MessageDifferencer::Equals(first, second));
  CHECK(CountRows(h.db_url(), "SELECT count(*) FROM customer.customers") == 1);

  // Concurrent retries of one request create one row too.
  std::vector<std::thread> threads;
  std::vector<std::string> names(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Customer c;
      c.set_email("race@example.com");
      names[i] = MustCreate(h, "acme", c, "req-race").name();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == 1);
  CHECK(CountRows(h.db_url(), "SELECT count(*) FROM customer.customers") == 2);

  // The same request_id for a different request is refused.
  CreateCustomerRequest other;
  other.mutable_customer()->set_email("other@example.com");
  other.set_request_id("req-1");
  Customer out;
  CHECK(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), other, &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // request_ids are per tenant.
  Customer elsewhere = MustCreate(h, "other-tenant", in, "req-1");
  CHECK(elsewhere.name() != first.name());
}

TEST_CASE("filters select the right customers", "[integration][customer]") {
  CustomerHarness h;
  Customer c;
  c.set_country("GB");
  c.add_tags("vip");
  c.set_email("Ann@Example.com");
  const Customer ann = MustCreate(h, "acme", c);
  MustCreate(h, "globex", c);  // another tenant's vip
  c.clear_tags();
  c.set_email("bob@example.com");
  MustCreate(h, "acme", c);
  c.set_country("FR");
  c.set_email("chloe@exemple.fr");
  c.set_external_id("fr-1");
  MustCreate(h, "acme", c);
  auto count = [&](const std::string& filter) {
    ListCustomersRequest list;
    list.set_filter(filter);
    ListCustomersResponse page;
    grpc::Status s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
    INFO(filter << ": " << s.error_message());
    REQUIRE(s.ok());
    return page.customers_size();
  };
  CHECK(count("") == 3);
  CHECK(count("country = \"GB\"") == 2);
  CHECK(count("country = \"GB\" AND tags:\"vip\"") == 1);
  CHECK(count("NOT tags:\"vip\"") == 2);
  CHECK(count("email = \"ann@example.com\"") == 1);
  CHECK(count("email:\"example.com\"") == 2);
  CHECK(count("external_id = \"fr-1\" OR country = \"XX\"") == 1);
  CHECK(count("create_time > \"2000-01-01T00:00:00Z\"") == 3);
  CHECK(count("create_time < \"2000-01-01T00:00:00Z\"") == 0);
  CHECK(count("email = \"x'); DELETE FROM customer.customers; --\"") == 0);
  CHECK(count("") == 3);

  // Tag filters follow every change of the tags (they read a table kept in
  // step by a trigger): Ann loses "vip" and gains "gold".
  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(ann.name());
  update.mutable_customer()->add_tags("gold");
  update.mutable_update_mask()->add_paths("tags");
  Customer updated;
  REQUIRE(h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &updated).ok());
  CHECK(count("tags:\"vip\"") == 0);
  CHECK(count("tags:\"gold\"") == 1);
  CHECK(count("NOT tags:\"gold\"") == 2);
}

TEST_CASE("keyset pagination over 10,000 customers loses and repeats nothing",
          "[integration][customer]") {
  CustomerHarness h;
  // 10,000 rows, many sharing a create_time so the id tie-break matters.
  ExecSql(h.db_url(),
          "INSERT INTO customer.customers (tenant_id, email, create_time, update_time) "
          "SELECT 'acme', 'seed' || g || '@example.com', "
          "timestamptz '2024-01-01' + (g / 7) * interval '1 second', now() "
          "FROM generate_series(1, 10000) g");
  std::set<std::string> seeded;
  {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT id::text FROM customer.customers")) {
      seeded.insert("customers/" + row[0].as<std::string>());
    }
  }
  REQUIRE(seeded.size() == 10000);

  for (const std::string order : {"create_time", "create_time desc"}) {
    std::atomic<bool> stop{false};
    std::atomic<int> inserted{0};
    std::thread writer([&] {
      while (!stop) {
        Customer c;
        c.set_email("concurrent@example.com");
        MustCreate(h, "acme", c);
        ++inserted;
      }
    });
    std::multiset<std::string> seen;
    ListCustomersRequest list;
    list.set_page_size(137);
    list.set_order_by(order);
    int pages = 0;
    for (;;) {
      ListCustomersResponse page;
      grpc::Status s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
      REQUIRE(s.ok());
      for (const auto& c : page.customers()) seen.insert(c.name());
      ++pages;
      if (page.next_page_token().empty()) break;
      list.set_page_token(page.next_page_token());
    }
    stop = true;
    writer.join();
    INFO(order << ": " << pages << " pages, " << inserted.load() << " concurrent inserts");
    CHECK(inserted.load() > 0);
    int lost = 0, repeated = 0;
    for (const auto& name : seeded) {
      lost += seen.count(name) == 0 ? 1 : 0;
      repeated += seen.count(name) > 1 ? 1 : 0;
    }
    CHECK(lost == 0);
    CHECK(repeated == 0);
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());
  }
}

}  // namespace
}  // namespace crm::testing
