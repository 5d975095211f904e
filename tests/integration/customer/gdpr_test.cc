// GDPR: export everything, erase every personal value, keep the aggregates.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/testing/customer_harness.h"
#include "tests/testing/pii_scan.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
namespace v1 = crm::customer::v1;

const std::vector<std::string>& PersonalValues() {
  static const auto* values = new std::vector<std::string>{"ext-erin-42",
                                                           "erin.original@example.com",
                                                           "erin.new@example.com",
                                                           "Erin",
                                                           "Zyxwabbly",
                                                           "+447700900999",
                                                           "10 Secret Lane",
                                                           "Hidden Hamlet",
                                                           "ZZ9 9ZZ",
                                                           "teal-secret-colour",
                                                           "SECRETCODE2024",
                                                           "1988-03-04"};
  return *values;
}

std::vector<std::string> Leaks(const std::string& url) {
  return PersonalValueLeaks(url, "customer", PersonalValues(), 10);
}

}  // namespace

TEST_CASE("export holds everything, and erase leaves no personal value anywhere",
          "[integration][gdpr]") {
  CustomerHarness h("gdpr");
  CreateCustomerRequest create;
  Customer* c = create.mutable_customer();
  c->set_external_id("ext-erin-42");
  c->set_email("erin.original@example.com");
  c->set_given_name("Erin");
  c->set_family_name("Zyxwabbly");
  c->set_phone("+447700900999");
  c->set_country("GB");
  c->add_tags("vip");
  (*c->mutable_attributes())["favourite"].set_string_value("teal-secret-colour");
  auto* a = c->add_addresses();
  a->set_kind(v1::ADDRESS_KIND_SHIPPING);
  a->mutable_address()->add_lines("10 Secret Lane");
  a->mutable_address()->set_city("Hidden Hamlet");
  a->mutable_address()->set_postal_code("ZZ9 9ZZ");
  a->mutable_address()->set_country("GB");
  c->mutable_demographics()->set_birth_date("1988-03-04");
  create.set_request_id("signup-erin");
  Customer erin;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &erin).ok());

  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_name(erin.name());
  update.mutable_customer()->set_email("erin.new@example.com");
  update.mutable_update_mask()->add_paths("email");
  Customer out;
  REQUIRE(h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &out).ok());

  v1::RecordOrderRequest order;
  order.mutable_order()->set_customer(erin.name());
  order.mutable_order()->set_order_id("erin-order-1");
  order.mutable_order()->set_status(v1::ORDER_STATUS_PAID);
  order.mutable_order()->set_currency_code("GBP");
  order.mutable_order()->set_total_minor(4200);
  order.mutable_order()->add_discount_codes("SECRETCODE2024");
  v1::Order recorded;
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());

  v1::RecordConsentRequest consent;
  consent.set_name(erin.name());
  consent.mutable_consent()->set_channel(v1::CONSENT_CHANNEL_EMAIL);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  consent.mutable_consent()->set_status(v1::CONSENT_STATUS_GRANTED);
  consent.mutable_consent()->set_source("checkout");
  consent.mutable_consent()->set_text_version("v3");
  v1::Consent granted;
  REQUIRE(h.stub().RecordConsent(CustomerHarness::Ctx().get(), consent, &granted).ok());

  v1::TrackEventsRequest track;
  auto* search = track.add_events();
  search->set_event_id("erin-search-1");
  search->set_customer(erin.name());
  search->set_type(v1::BEHAVIOR_EVENT_TYPE_SEARCH);
  (*search->mutable_properties())["query"].set_string_value("Zyxwabbly family crest");
  v1::TrackEventsResponse tracked;
  REQUIRE(h.stub().TrackEvents(CustomerHarness::Ctx().get(), track, &tracked).ok());
  REQUIRE(tracked.accepted() == 1);

  // A bystander whose data must survive.
  CreateCustomerRequest other;
  other.mutable_customer()->set_email("bystander@example.com");
  Customer bystander;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), other, &bystander).ok());

  v1::ExportCustomerDataRequest export_req;
  export_req.set_name(erin.name());
  v1::ExportCustomerDataResponse exported;
  REQUIRE(h.stub().ExportCustomerData(CustomerHarness::Ctx().get(), export_req, &exported).ok());
  CHECK(exported.customer().email() == "erin.new@example.com");
  CHECK(exported.customer().addresses(0).address().city() == "Hidden Hamlet");
  REQUIRE(exported.orders_size() == 1);
  CHECK(exported.orders(0).discount_codes(0) == "SECRETCODE2024");
  CHECK(exported.consents_size() == 1);
  CHECK(exported.history_size() == 3);  // created, updated, consent
  CHECK(exported.has_export_time());
  REQUIRE(exported.events_size() == 1);
  CHECK(exported.events(0).properties().at("query").string_value() == "Zyxwabbly family crest");
  CHECK_FALSE(Leaks(h.db_url()).empty());  // the scan does find the values

  v1::EraseCustomerRequest erase;
  erase.set_name(erin.name());
  v1::EraseCustomerResponse erased;
  REQUIRE(h.stub().EraseCustomer(CustomerHarness::Ctx().get(), erase, &erased).ok());
  CHECK(erased.customer().has_erase_time());
  CHECK(erased.customer().has_delete_time());
  CHECK(erased.customer().email().empty());
  CHECK(erased.customer().country() == "GB");
  CHECK(erased.customer().facts().total_spent_minor() == 4200);  // aggregates stay

  const std::vector<std::string> leaks = Leaks(h.db_url());
  INFO(leaks.size() << " leaks, first: " << (leaks.empty() ? "" : leaks.front()));
  CHECK(leaks.empty());

  // Idempotent: a second erasure changes nothing and succeeds.
  v1::EraseCustomerResponse again;
  REQUIRE(h.stub().EraseCustomer(CustomerHarness::Ctx().get(), erase, &again).ok());
  CHECK(again.customer().erase_time().seconds() == erased.customer().erase_time().seconds());

  // The audit trail proves the erasure; the bystander is untouched; the
  // order's money stays for revenue reporting; the event went out once.
  v1::ListCustomerHistoryRequest hist;
  hist.set_name(erin.name());
  v1::ListCustomerHistoryResponse entries;
  REQUIRE(h.stub().ListCustomerHistory(CustomerHarness::Ctx().get(), hist, &entries).ok());
  REQUIRE(entries.entries_size() == 4);
  CHECK(entries.entries(0).action() == "erased");
  CHECK(entries.entries(1).changes(0).new_value() == "[erased]");
  v1::GetCustomerRequest get;
  get.set_name(bystander.name());
  REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), get, &out).ok());
  CHECK(out.email() == "bystander@example.com");
  v1::GetOrderRequest get_order;
  get_order.set_name(recorded.name());
  v1::Order kept;
  REQUIRE(h.stub().GetOrder(CustomerHarness::Ctx().get(), get_order, &kept).ok());
  CHECK(kept.total_minor() == 4200);
  // The code is gone; that the order was discounted is not personal.
  REQUIRE(kept.discount_codes_size() == 1);
  CHECK(kept.discount_codes(0) == "[erased]");
  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = 'customer.erased'")[0][0]
            .as<int>() == 1);
  // The freed external id can be used again.
  CreateCustomerRequest reuse;
  reuse.mutable_customer()->set_external_id("ext-erin-42");
  CHECK(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), reuse, &out).ok());
}

TEST_CASE("erasing a survivor erases its identities, merges and the customers merged into it",
          "[integration][gdpr]") {
  CustomerHarness h("gdpr_merge");
  CreateCustomerRequest create;
  create.mutable_customer()->set_email("erin.original@example.com");
  create.mutable_customer()->set_given_name("Erin");
  Customer erin;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &erin).ok());
  create.mutable_customer()->set_email("erin.new@example.com");
  create.mutable_customer()->set_family_name("Zyxwabbly");
  create.mutable_customer()->set_external_id("ext-erin-42");
  Customer duplicate;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &duplicate).ok());
  v1::AddIdentityRequest add;
  add.set_name(erin.name());
  add.mutable_identity()->set_kind(v1::IDENTITY_KIND_PHONE);
  add.mutable_identity()->set_value("+447700900999");
  Customer out;
  REQUIRE(h.stub().AddIdentity(CustomerHarness::Ctx().get(), add, &out).ok());
  v1::MergeCustomersRequest merge;
  merge.set_survivor(erin.name());
  merge.set_merged(duplicate.name());
  v1::MergeCustomersResponse merged;
  REQUIRE(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), merge, &merged).ok());
  v1::ListDuplicateCandidatesRequest scan;
  v1::ListDuplicateCandidatesResponse pairs;
  REQUIRE(h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), scan, &pairs).ok());
  CHECK_FALSE(Leaks(h.db_url()).empty());

  v1::EraseCustomerRequest erase;
  erase.set_name(erin.name());
  v1::EraseCustomerResponse erased;
  REQUIRE(h.stub().EraseCustomer(CustomerHarness::Ctx().get(), erase, &erased).ok());
  const std::vector<std::string> leaks = Leaks(h.db_url());
  INFO(leaks.size() << " leaks, first: " << (leaks.empty() ? "" : leaks.front()));
  CHECK(leaks.empty());
  CHECK(erased.customer().identities_size() == 0);
  v1::UnmergeCustomerRequest unmerge;
  unmerge.set_name(merged.merge().name());
  v1::UnmergeCustomerResponse undone;
  CHECK(h.stub().UnmergeCustomer(CustomerHarness::Ctx().get(), unmerge, &undone).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

}  // namespace crm::testing
