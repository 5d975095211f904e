#include "services/gateway/routes.h"

#include <catch2/catch.hpp>

namespace crm::gateway {
namespace {

TEST_CASE("routes parse from configuration", "[gateway]") {
  auto routes = ParseRoutes("crm.customer.v1=127.0.0.1:50061, crm.ticketing.v1=ticketing:50051");
  REQUIRE(routes.ok());
  REQUIRE(routes->size() == 2);
  CHECK((*routes)[1].package == "crm.ticketing.v1");
  CHECK((*routes)[1].address == "ticketing:50051");
  CHECK_FALSE(ParseRoutes("").ok());
  CHECK_FALSE(ParseRoutes("customer=x:1").ok());
  CHECK_FALSE(ParseRoutes("crm.customer.v1").ok());
}

TEST_CASE("method paths split into package, service, method", "[gateway]") {
  auto m = ParseMethod("/crm.customer.v1.CustomerService/GetCustomer");
  REQUIRE(m.ok());
  CHECK(m->package == "crm.customer.v1");
  CHECK(m->service == "CustomerService");
  CHECK(m->method == "GetCustomer");
  CHECK_FALSE(ParseMethod("crm.customer.v1.CustomerService/GetCustomer").ok());
  CHECK_FALSE(ParseMethod("/NoPackage/Get").ok());
  CHECK_FALSE(ParseMethod("/a.B/").ok());
}

TEST_CASE("scopes: reads need .read, everything else .write", "[gateway]") {
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/GetCustomer")) ==
        "customer.read");
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/ListCustomers")) ==
        "customer.read");
  CHECK(RequiredScope(*ParseMethod("/crm.analytics.v1.KpiService/StreamKpis")) == "analytics.read");
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/CreateCustomer")) ==
        "customer.write");
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/MergeCustomers")) ==
        "customer.write");
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/CheckConsent")) ==
        "customer.read");
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.CustomerService/RecordConsent")) ==
        "customer.write");
  // Every service's feed is one area of its own.
  CHECK(RequiredScope(*ParseMethod("/crm.customer.v1.EventFeedService/Subscribe")) ==
        "events.read");
  CHECK(RequiredScope(*ParseMethod("/crm.ticketing.v1.EventFeedService/Subscribe")) ==
        "events.read");
  CHECK(HasScope({"customer.read"}, "customer.read"));
  CHECK_FALSE(HasScope({"customer.read"}, "customer.write"));
  CHECK(HasScope({"customer.*"}, "customer.write"));
  CHECK_FALSE(HasScope({"ticketing.*"}, "customer.write"));
  CHECK(HasScope({"*"}, "anything.write"));
  CHECK_FALSE(HasScope({}, "customer.read"));
  CHECK(IsValidScope("*"));
  CHECK(IsValidScope("customer.read"));
  CHECK(IsValidScope("customer.*"));
  CHECK_FALSE(IsValidScope("customer"));
  CHECK_FALSE(IsValidScope("customer.delete"));
  CHECK_FALSE(IsValidScope("Customer.read"));
}

}  // namespace
}  // namespace crm::gateway
