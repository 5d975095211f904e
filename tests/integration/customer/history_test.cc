// The audit history: every change with actor, request id and old → new.
#include <catch2/catch.hpp>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::DeleteCustomerRequest;
using crm::customer::v1::ListCustomerHistoryRequest;
using crm::customer::v1::ListCustomerHistoryResponse;
using crm::customer::v1::RecordConsentRequest;
using crm::customer::v1::UpdateCustomerRequest;
namespace v1 = crm::customer::v1;

std::unique_ptr<grpc::ClientContext> As(const std::string& actor, const std::string& request_id) {
  auto ctx = CustomerHarness::Ctx();
  ctx->AddMetadata("x-crm-actor", actor);
  ctx->AddMetadata("x-request-id", request_id);
  return ctx;
}

TEST_CASE("every change lands in the customer's history", "[integration][history]") {
  CustomerHarness h("history");
  CreateCustomerRequest create;
  create.mutable_customer()->set_email("ann@example.com");
  create.mutable_customer()->add_tags("new");
  Customer ann;
  REQUIRE(h.stub().CreateCustomer(As("apiKeys/k1", "req-create").get(), create, &ann).ok());

  UpdateCustomerRequest update;
  update.mutable_customer()->set_name(ann.name());
  update.mutable_customer()->set_email("ann.lee@example.com");
  update.mutable_update_mask()->add_paths("email");
  update.mutable_update_mask()->add_paths("tags");
  Customer out;
  REQUIRE(h.stub().UpdateCustomer(As("apiKeys/k2", "req-update").get(), update, &out).ok());

  RecordConsentRequest consent;
  consent.set_name(ann.name());
  consent.mutable_consent()->set_channel(v1::CONSENT_CHANNEL_EMAIL);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  consent.mutable_consent()->set_status(v1::CONSENT_STATUS_GRANTED);
  consent.mutable_consent()->set_source("checkout");
  consent.mutable_consent()->set_text_version("v1");
  v1::Consent recorded;
  REQUIRE(h.stub().RecordConsent(CustomerHarness::Ctx().get(), consent, &recorded).ok());

  DeleteCustomerRequest del;
  del.set_name(ann.name());
  REQUIRE(h.stub().DeleteCustomer(As("apiKeys/k1", "req-delete").get(), del, &out).ok());

  ListCustomerHistoryRequest req;
  req.set_name(ann.name());
  req.set_page_size(3);
  std::vector<v1::HistoryEntry> entries;
  for (;;) {
    ListCustomerHistoryResponse page;
    REQUIRE(h.stub().ListCustomerHistory(CustomerHarness::Ctx().get(), req, &page).ok());
    for (const auto& e : page.entries()) entries.push_back(e);
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].action() == "deleted");
  CHECK(entries[0].actor() == "apiKeys/k1");
  CHECK(entries[0].request_id() == "req-delete");
  REQUIRE(entries[0].changes_size() == 1);
  CHECK(entries[0].changes(0).field() == "delete_time");

  CHECK(entries[1].action() == "consent_recorded");
  CHECK(entries[1].actor() == "service");  // no gateway in front
  CHECK(entries[1].changes(0).field() == "consent.email.marketing");
  CHECK(entries[1].changes(0).new_value().find("CONSENT_STATUS_GRANTED") != std::string::npos);

  CHECK(entries[2].action() == "updated");
  CHECK(entries[2].actor() == "apiKeys/k2");
  REQUIRE(entries[2].changes_size() == 2);
  CHECK(entries[2].changes(0).field() == "email");
  CHECK(entries[2].changes(0).old_value() == "\"ann@example.com\"");
  CHECK(entries[2].changes(0).new_value() == "\"ann.lee@example.com\"");
  CHECK(entries[2].changes(1).field() == "tags");
  CHECK(entries[2].changes(1).new_value().empty());

  CHECK(entries[3].action() == "created");
  CHECK(entries[3].request_id() == "req-create");
  CHECK(entries[3].changes_size() == 2);  // email, tags
  CHECK(entries[3].change_time().seconds() <= entries[0].change_time().seconds());

  // Another tenant cannot read it.
  ListCustomerHistoryResponse page;
  req.clear_page_token();
  CHECK(
      h.stub().ListCustomerHistory(CustomerHarness::Ctx("other").get(), req, &page).error_code() ==
      grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace crm::testing
