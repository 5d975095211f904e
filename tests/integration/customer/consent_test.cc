// Consent: recording, history, the one-call contact decision, and its event.
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

using crm::customer::v1::CheckConsentRequest;
using crm::customer::v1::CheckConsentResponse;
using crm::customer::v1::Consent;
using crm::customer::v1::CreateCustomerRequest;
using crm::customer::v1::Customer;
using crm::customer::v1::ListConsentsRequest;
using crm::customer::v1::ListConsentsResponse;
using crm::customer::v1::RecordConsentRequest;
namespace v1 = crm::customer::v1;

grpc::Status Record(CustomerHarness& h, const std::string& name, v1::ConsentStatus status,
                    int64_t seconds_ago, Consent* out, const std::string& request_id = "",
                    const std::string& tenant = "acme") {
  RecordConsentRequest req;
  req.set_name(name);
  req.set_request_id(request_id);
  Consent* c = req.mutable_consent();
  c->set_channel(v1::CONSENT_CHANNEL_EMAIL);
  c->set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  c->set_status(status);
  c->set_source(status == v1::CONSENT_STATUS_GRANTED ? "checkout" : "unsubscribe-link");
  c->set_text_version("2024-05");
  if (seconds_ago > 0) {
    *c->mutable_consent_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(absl::Now()) - seconds_ago);
  }
  return h.stub().RecordConsent(CustomerHarness::Ctx(tenant).get(), req, out);
}

CheckConsentResponse Check(CustomerHarness& h, const std::string& name,
                           v1::ConsentPurpose purpose = v1::CONSENT_PURPOSE_MARKETING,
                           v1::ConsentChannel channel = v1::CONSENT_CHANNEL_EMAIL) {
  CheckConsentRequest req;
  req.set_name(name);
  req.set_channel(channel);
  req.set_purpose(purpose);
  CheckConsentResponse resp;
  grpc::Status s = h.stub().CheckConsent(CustomerHarness::Ctx().get(), req, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return resp;
}

TEST_CASE("may I send marketing email to this customer now?", "[integration][consent]") {
  CustomerHarness h("consent");
  Customer ann = h.NewCustomer("ann@example.com");

  CheckConsentResponse answer = Check(h, ann.name());
  CHECK_FALSE(answer.allowed());
  CHECK(answer.reason() == "no marketing email consent recorded");
  CHECK_FALSE(answer.has_consent());
  CHECK(Check(h, ann.name(), v1::CONSENT_PURPOSE_TRANSACTIONAL).allowed());

  Consent granted;
  REQUIRE(Record(h, ann.name(), v1::CONSENT_STATUS_GRANTED, 3600, &granted).ok());
  CHECK(granted.has_record_time());
  answer = Check(h, ann.name());
  CHECK(answer.allowed());
  CHECK(answer.consent().source() == "checkout");

  Consent denied;
  REQUIRE(Record(h, ann.name(), v1::CONSENT_STATUS_DENIED, 60, &denied).ok());
  CHECK_FALSE(Check(h, ann.name()).allowed());

  // A late-arriving older grant joins the history but does not override.
  Consent old;
  REQUIRE(Record(h, ann.name(), v1::CONSENT_STATUS_GRANTED, 86400, &old).ok());
  answer = Check(h, ann.name());
  CHECK_FALSE(answer.allowed());
  CHECK(answer.consent().source() == "unsubscribe-link");

  ListConsentsRequest list;
  list.set_name(ann.name());
  ListConsentsResponse current;
  REQUIRE(h.stub().ListConsents(CustomerHarness::Ctx().get(), list, &current).ok());
  REQUIRE(current.consents_size() == 1);
  CHECK(current.consents(0).status() == v1::CONSENT_STATUS_DENIED);

  // Full history, newest decision first, two per page.
  list.set_history(true);
  list.set_page_size(2);
  std::vector<std::string> sources;
  for (;;) {
    ListConsentsResponse page;
    REQUIRE(h.stub().ListConsents(CustomerHarness::Ctx().get(), list, &page).ok());
    for (const auto& c : page.consents()) sources.push_back(c.source());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  CHECK(sources == std::vector<std::string>{"unsubscribe-link", "checkout", "checkout"});

  // Each decision was published.
  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM customer.outbox WHERE type = "
                "'customer.consent_changed'")[0][0]
            .as<int>() == 3);
}

TEST_CASE("consent: idempotency, validation, tenants, missing channel address",
          "[integration][consent]") {
  CustomerHarness h("consent");
  Customer ann = h.NewCustomer("ann@example.com");
  Consent first, second;
  REQUIRE(Record(h, ann.name(), v1::CONSENT_STATUS_GRANTED, 0, &first, "consent-1").ok());
  REQUIRE(Record(h, ann.name(), v1::CONSENT_STATUS_GRANTED, 0, &second, "consent-1").ok());
  CHECK(first.record_time().nanos() == second.record_time().nanos());
  {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    CHECK(tx.exec("SELECT count(*) FROM customer.consent_records")[0][0].as<int>() == 1);
  }

  RecordConsentRequest bad;
  bad.set_name(ann.name());
  Consent out;
  grpc::Status s = h.stub().RecordConsent(CustomerHarness::Ctx().get(), bad, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "consent: required");
  bad.mutable_consent()->set_channel(v1::CONSENT_CHANNEL_SMS);
  s = h.stub().RecordConsent(CustomerHarness::Ctx().get(), bad, &out);
  CHECK(s.error_message() == "consent.purpose: required");

  // Another tenant: NOT_FOUND for every consent call.
  CHECK(Record(h, ann.name(), v1::CONSENT_STATUS_DENIED, 0, &out, "", "other").error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CheckConsentRequest check;
  check.set_name(ann.name());
  check.set_channel(v1::CONSENT_CHANNEL_EMAIL);
  check.set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  CheckConsentResponse resp;
  CHECK(h.stub().CheckConsent(CustomerHarness::Ctx("other").get(), check, &resp).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  check.clear_channel();
  CHECK(h.stub().CheckConsent(CustomerHarness::Ctx().get(), check, &resp).error_message() ==
        "channel: required");

  // SMS needs a phone number, whatever was consented.
  CHECK_FALSE(
      Check(h, ann.name(), v1::CONSENT_PURPOSE_TRANSACTIONAL, v1::CONSENT_CHANNEL_SMS).allowed());
  CHECK(Check(h, ann.name(), v1::CONSENT_PURPOSE_TRANSACTIONAL, v1::CONSENT_CHANNEL_SMS).reason() ==
        "the customer has no phone number");
}

}  // namespace
}  // namespace crm::testing

namespace crm::testing {
namespace {

TEST_CASE("consent is usable in customer filters", "[integration][consent]") {
  CustomerHarness h("consent");
  Customer granted = h.NewCustomer("yes@example.com");
  Customer denied = h.NewCustomer("no@example.com");
  Customer never = h.NewCustomer("never@example.com");
  Consent out;
  REQUIRE(Record(h, granted.name(), v1::CONSENT_STATUS_DENIED, 7200, &out).ok());
  REQUIRE(Record(h, granted.name(), v1::CONSENT_STATUS_GRANTED, 60, &out).ok());
  REQUIRE(Record(h, denied.name(), v1::CONSENT_STATUS_DENIED, 60, &out).ok());
  auto emails = [&](const std::string& filter) {
    crm::customer::v1::ListCustomersRequest list;
    list.set_filter(filter);
    crm::customer::v1::ListCustomersResponse page;
    grpc::Status s = h.stub().ListCustomers(CustomerHarness::Ctx().get(), list, &page);
    INFO(filter << ": " << s.error_message());
    REQUIRE(s.ok());
    std::set<std::string> out;
    for (const auto& c : page.customers()) out.insert(c.email());
    return out;
  };
  CHECK(emails("consent.email.marketing = \"CONSENT_STATUS_GRANTED\"") ==
        std::set<std::string>{"yes@example.com"});
  CHECK(emails("consent.email.marketing != \"CONSENT_STATUS_GRANTED\"") ==
        std::set<std::string>{"no@example.com", "never@example.com"});
  CHECK(emails("consent.email.marketing = \"CONSENT_STATUS_DENIED\"") ==
        std::set<std::string>{"no@example.com"});
  CHECK(emails("consent.sms.transactional = \"CONSENT_STATUS_GRANTED\"").empty());
}

}  // namespace
}  // namespace crm::testing
