// Custom ticket fields and followers over real Postgres: definitions, values
// checked against their types on create and update, one value set or
// removed by its mask path, filters on each type, rules on a field; and
// followers checked to exist, filtered, and moved by a merge.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/ticketing/v1/routing_service.grpc.pb.h"
#include "crm/ticketing/v1/rule_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::ticketing::v1;

struct Desk {
  CustomerHarness customers{"fields_customers"};
  ServiceHarness h{
      ticketing::Definition(), "fields",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> tickets = h.Stub<v1::TicketService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();

  grpc::Status TryField(const std::string& key, v1::CustomFieldType type,
                        std::vector<std::string> options = {}) {
    v1::CreateTicketFieldRequest req;
    req.mutable_field()->set_key(key);
    req.mutable_field()->set_display_name(key);
    req.mutable_field()->set_type(type);
    for (auto& o : options) req.mutable_field()->add_options(o);
    v1::TicketField out;
    return tickets->CreateTicketField(ServiceHarness::Ctx().get(), req, &out);
  }

  grpc::Status TryOpen(v1::Ticket ticket, v1::Ticket* out) {
    v1::CreateTicketRequest req;
    *req.mutable_ticket() = std::move(ticket);
    req.mutable_ticket()->set_requester(requester);
    if (req.ticket().subject().empty()) req.mutable_ticket()->set_subject("Return");
    return tickets->CreateTicket(ServiceHarness::Ctx().get(), req, out);
  }

  v1::Ticket Open(v1::Ticket ticket) {
    v1::Ticket out;
    grpc::Status s = TryOpen(std::move(ticket), &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  std::vector<std::string> Find(const std::string& filter, grpc::Status* status = nullptr) {
    v1::ListTicketsRequest req;
    req.set_filter(filter);
    v1::ListTicketsResponse out;
    grpc::Status s = tickets->ListTickets(ServiceHarness::Ctx().get(), req, &out);
    if (status != nullptr) *status = s;
    std::vector<std::string> names;
    for (const auto& t : out.tickets()) names.push_back(t.name());
    return names;
  }
};

v1::Ticket WithFields(double amount, const std::string& reason, bool fragile = false) {
  v1::Ticket t;
  (*t.mutable_custom_fields())["refund_amount"].set_number_value(amount);
  (*t.mutable_custom_fields())["return_reason"].set_option_value(reason);
  if (fragile) (*t.mutable_custom_fields())["fragile"].set_bool_value(true);
  return t;
}

}  // namespace

TEST_CASE("custom fields: definitions, typed values, updates by key and filters",
          "[integration][ticketing][fields]") {
  Desk d;
  REQUIRE(d.TryField("refund_amount", v1::CUSTOM_FIELD_TYPE_NUMBER).ok());
  REQUIRE(
      d.TryField("return_reason", v1::CUSTOM_FIELD_TYPE_DROPDOWN, {"Damaged", "wrong_size"}).ok());
  REQUIRE(d.TryField("fragile", v1::CUSTOM_FIELD_TYPE_BOOLEAN).ok());
  REQUIRE(d.TryField("delivered_on", v1::CUSTOM_FIELD_TYPE_DATE).ok());
  grpc::Status s = d.TryField("fragile", v1::CUSTOM_FIELD_TYPE_TEXT);
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  s = d.TryField("Bad Key", v1::CUSTOM_FIELD_TYPE_TEXT);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "field.key"));
  s = d.TryField("colour", v1::CUSTOM_FIELD_TYPE_DROPDOWN);
  CHECK(s.error_message() == "field.options: a DROPDOWN needs options");
  v1::ListTicketFieldsResponse fields;
  REQUIRE(d.tickets->ListTicketFields(ServiceHarness::Ctx().get(), {}, &fields).ok());
  REQUIRE(fields.fields_size() == 4);
  CHECK(fields.fields(3).name() == "ticketFields/return_reason");
  CHECK(fields.fields(3).options(0) == "damaged");  // options are labels

  const v1::Ticket big = d.Open(WithFields(49.5, "damaged", true));
  CHECK(big.custom_fields().at("refund_amount").number_value() == 49.5);
  CHECK(big.custom_fields().at("return_reason").option_value() == "damaged");
  const v1::Ticket small = d.Open(WithFields(5, "wrong_size"));

  // Values that do not fit their field, or no field.
  v1::Ticket out;
  s = d.TryOpen(WithFields(1, "too_late"), &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() ==
        "ticket.custom_fields[\"return_reason\"]: \"too_late\" is not one of the field's options");
  v1::Ticket wrong_type;
  (*wrong_type.mutable_custom_fields())["refund_amount"].set_text_value("lots");
  s = d.TryOpen(wrong_type, &out);
  CHECK(s.error_message() ==
        "ticket.custom_fields[\"refund_amount\"]: the field is NUMBER, so number_value is "
        "required");
  v1::Ticket unknown;
  (*unknown.mutable_custom_fields())["mood"].set_text_value("grumpy");
  s = d.TryOpen(unknown, &out);
  CHECK(s.error_message() ==
        "ticket.custom_fields[\"mood\"]: the tenant has no ticket field \"mood\"");
  v1::Ticket bad_date;
  (*bad_date.mutable_custom_fields())["delivered_on"].set_date_value("2026-02-30");
  s = d.TryOpen(bad_date, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // One value set, another removed, by their mask paths.
  v1::UpdateTicketRequest update;
  update.mutable_ticket()->set_name(small.name());
  (*update.mutable_ticket()->mutable_custom_fields())["delivered_on"].set_date_value("2026-11-30");
  update.mutable_update_mask()->add_paths("custom_fields.delivered_on");
  update.mutable_update_mask()->add_paths("custom_fields.return_reason");  // no value: removed
  v1::Ticket updated;
  REQUIRE(d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), update, &updated).ok());
  CHECK(updated.custom_fields().at("delivered_on").date_value() == "2026-11-30");
  CHECK(updated.custom_fields().count("return_reason") == 0);
  CHECK(updated.custom_fields().at("refund_amount").number_value() == 5);

  // Filters compare each field as its type.
  CHECK(d.Find("custom_fields.refund_amount > 20") == std::vector<std::string>{big.name()});
  CHECK(d.Find("custom_fields.refund_amount <= 20") == std::vector<std::string>{small.name()});
  CHECK(d.Find("custom_fields.fragile = true") == std::vector<std::string>{big.name()});
  CHECK(d.Find("custom_fields.return_reason = \"damaged\"") ==
        std::vector<std::string>{big.name()});
  CHECK(d.Find("custom_fields.delivered_on >= \"2026-11-01\"") ==
        std::vector<std::string>{small.name()});
  grpc::Status filter_status;
  d.Find("custom_fields.mood = \"x\"", &filter_status);
  CHECK(filter_status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("a rule tests a custom field, numbers as numbers", "[integration][ticketing][fields]") {
  Desk d;
  REQUIRE(d.TryField("refund_amount", v1::CUSTOM_FIELD_TYPE_NUMBER).ok());
  REQUIRE(d.TryField("return_reason", v1::CUSTOM_FIELD_TYPE_DROPDOWN, {"damaged"}).ok());
  auto rules = d.h.Stub<v1::RuleService>();
  v1::CreateRuleRequest req;
  v1::Rule& r = *req.mutable_rule();
  r.set_display_name("Big refunds");
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  auto* c = r.add_all_conditions();
  c->set_field("custom_fields.refund_amount");
  c->set_operator_(v1::RULE_OPERATOR_GREATER_THAN);
  c->set_value("100");
  r.add_actions()->mutable_add_tags()->add_tags("big_refund");
  v1::Rule rule;
  REQUIRE(rules->CreateRule(ServiceHarness::Ctx().get(), req, &rule).ok());
  CHECK(d.Open(WithFields(250, "damaged")).tags(0) == "big_refund");
  CHECK(d.Open(WithFields(99.99, "damaged")).tags().empty());  // "99.99" > "100" as text
  // A rule on a field the tenant does not have is refused.
  c->set_field("custom_fields.mood");
  grpc::Status s = rules->CreateRule(ServiceHarness::Ctx().get(), req, &rule);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == "rule.all_conditions[0].field: ticketFields/mood does not exist");
}

TEST_CASE("followers are agents that exist, are filtered, and move with a merge",
          "[integration][ticketing][fields]") {
  Desk d;
  auto routing = d.h.Stub<v1::RoutingService>();
  std::vector<std::string> agents;
  for (const char* name : {"Ann", "Lee"}) {
    v1::CreateAgentRequest req;
    req.mutable_agent()->set_display_name(name);
    req.mutable_agent()->set_capacity(5);
    req.mutable_agent()->set_available(true);
    v1::Agent a;
    REQUIRE(routing->CreateAgent(ServiceHarness::Ctx().get(), req, &a).ok());
    agents.push_back(a.name());
  }
  v1::Ticket with_ann;
  with_ann.add_followers(agents[0]);
  with_ann.add_followers(agents[0]);  // once
  const v1::Ticket source = d.Open(with_ann);
  REQUIRE(source.followers_size() == 1);
  CHECK(source.followers(0) == agents[0]);
  v1::Ticket with_lee;
  with_lee.add_followers(agents[1]);
  const v1::Ticket target = d.Open(with_lee);

  v1::Ticket ghost;
  ghost.add_followers("agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11");
  v1::Ticket out;
  grpc::Status s = d.TryOpen(ghost, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() ==
        "ticket.followers: agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11 does not exist");
  ghost.set_followers(0, "customers/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11");
  s = d.TryOpen(ghost, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  CHECK(d.Find(absl::StrCat("followers:\"", agents[0], "\"")) ==
        std::vector<std::string>{source.name()});

  v1::MergeTicketsRequest merge;
  merge.set_source(source.name());
  merge.set_target(target.name());
  v1::MergeTicketsResponse merged;
  REQUIRE(d.tickets->MergeTickets(ServiceHarness::Ctx().get(), merge, &merged).ok());
  std::vector<std::string> followers(merged.target().followers().begin(),
                                     merged.target().followers().end());
  std::sort(agents.begin(), agents.end());
  CHECK(followers == agents);

  // Followers by UpdateTicket: replaced as a whole.
  v1::UpdateTicketRequest update;
  update.mutable_ticket()->set_name(target.name());
  update.mutable_update_mask()->add_paths("followers");
  v1::Ticket updated;
  REQUIRE(d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), update, &updated).ok());
  CHECK(updated.followers().empty());
}

}  // namespace crm::testing
