// ImportCustomers: a client stream of chunks, upsert by external_id, bad
// rows reported exactly, the rest written.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::ImportCustomersRequest;
using crm::customer::v1::ImportCustomersResponse;
namespace v1 = crm::customer::v1;

ImportCustomersResponse Import(CustomerHarness& h, int total, int chunk,
                               const std::set<int>& bad_rows, const std::string& suffix) {
  auto ctx = CustomerHarness::Ctx();
  ImportCustomersResponse summary;
  auto writer = h.stub().ImportCustomers(ctx.get(), &summary);
  ImportCustomersRequest req;
  for (int i = 0; i < total; ++i) {
    auto* c = req.add_customers();
    c->set_external_id("imp-" + std::to_string(i));
    c->set_email("user" + std::to_string(i) + suffix + "@example.com");
    c->set_country(i % 2 == 0 ? "GB" : "FR");
    if (bad_rows.count(i) > 0) c->set_phone("not-a-phone");
    if (req.customers_size() == chunk || i == total - 1) {
      REQUIRE(writer->Write(req));
      req.Clear();
    }
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  INFO(s.error_message());
  REQUIRE(s.ok());
  return summary;
}

TEST_CASE("a streamed import upserts by external_id and reports exactly the bad rows",
          "[integration][import]") {
  CustomerHarness h("import");
  const std::set<int> bad = {3, 999, 1000, 2499};
  ImportCustomersResponse first = Import(h, 2500, 700, bad, "");
  CHECK(first.received() == 2500);
  CHECK(first.created() == 2496);
  CHECK(first.updated() == 0);
  CHECK(first.failed() == 4);
  std::set<int64_t> reported;
  for (const auto& e : first.errors()) {
    reported.insert(e.row());
    CHECK(e.reason().rfind("customer.phone:", 0) == 0);
  }
  CHECK(reported == std::set<int64_t>{3, 999, 1000, 2499});

  // Again, with new e-mails and the bad rows fixed: updates plus 4 creations.
  ImportCustomersResponse second = Import(h, 2500, 1000, {}, ".v2");
  CHECK(second.created() == 4);
  CHECK(second.updated() == 2496);
  CHECK(second.failed() == 0);

  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.customers")[0][0].as<int>() == 2500);
  CHECK(tx.exec("SELECT count(*) FROM customer.customers WHERE email LIKE '%.v2@example.com'")[0][0]
            .as<int>() == 2500);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'customer.created'")[0][0]
            .as<int>() == 2500);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'customer.updated'")[0][0]
            .as<int>() == 2496);
  CHECK(tx.exec("SELECT count(*) FROM customer.audit_log WHERE action = 'imported'")[0][0]
            .as<int>() == 4996);

  // The same external_id twice in one chunk: the last row wins.
  auto ctx = CustomerHarness::Ctx();
  ImportCustomersResponse summary;
  auto writer = h.stub().ImportCustomers(ctx.get(), &summary);
  ImportCustomersRequest req;
  for (const char* email : {"twin-a@example.com", "twin-b@example.com"}) {
    auto* c = req.add_customers();
    c->set_external_id("twin");
    c->set_email(email);
  }
  req.add_customers()->set_email("no-external-id@example.com");
  REQUIRE(writer->Write(req));
  writer->WritesDone();
  REQUIRE(writer->Finish().ok());
  CHECK(summary.created() == 1);
  CHECK(summary.updated() == 1);
  CHECK(summary.failed() == 1);
  CHECK(summary.errors(0).reason() == "customer.external_id: required to import");
  CHECK(tx.exec("SELECT email FROM customer.customers WHERE external_id = 'twin'")[0][0]
            .as<std::string>() == "twin-b@example.com");
}

}  // namespace
}  // namespace crm::testing
