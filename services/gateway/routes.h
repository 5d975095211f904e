// Routing and scope rules of the gateway, as pure functions: which backend
// serves a method, and which scope a method needs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::gateway {

struct Route {
  std::string package;  // e.g. "crm.customer.v1"
  std::string address;  // e.g. "127.0.0.1:50061"
};

// Parses "crm.customer.v1=127.0.0.1:50061,crm.ticketing.v1=host:port".
absl::StatusOr<std::vector<Route>> ParseRoutes(absl::string_view spec);

struct MethodInfo {
  std::string package;  // crm.customer.v1
  std::string service;  // CustomerService
  std::string method;   // GetCustomer
};

// Splits "/crm.customer.v1.CustomerService/GetCustomer".
absl::StatusOr<MethodInfo> ParseMethod(absl::string_view path);

// "customer.read" for reads (Get*, List*, Search*, BatchGet*, Check*,
// Stream*, Subscribe, Export*), "customer.write" otherwise; the prefix is the package segment
// after "crm." ("customer" for crm.customer.v1). Every service's event feed,
// crm.<svc>.v1.EventFeedService, needs "events.read".
std::string RequiredScope(const MethodInfo& method);

// A granted scope matches itself, "*", and "<area>.*".
bool HasScope(const std::vector<std::string>& granted, absl::string_view required);

// Scopes a key may be created with: "*", "<area>.*", "<area>.read",
// "<area>.write" where <area> is [a-z][a-z0-9_]*.
bool IsValidScope(absl::string_view scope);

}  // namespace crm::gateway
