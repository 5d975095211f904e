// Rules over real Postgres: a rule on create routes, tags and notes a
// ticket; rules that undo each other stop after each fired once; a comment
// fires a rule; actions that cannot be made are skipped and said so; every
// firing is audited and published; rules are validated at save, ordered,
// and stay in their tenant.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>
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

v1::RuleCondition Cond(const std::string& field, v1::RuleOperator op,
                       const std::string& value = "") {
  v1::RuleCondition c;
  c.set_field(field);
  c.set_operator_(op);
  c.set_value(value);
  return c;
}

struct Desk {
  CustomerHarness customers{"rules_customers"};
  ServiceHarness h{
      ticketing::Definition(), "rules",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> tickets = h.Stub<v1::TicketService>();
  std::unique_ptr<v1::RoutingService::Stub> routing = h.Stub<v1::RoutingService>();
  std::unique_ptr<v1::RuleService::Stub> rules = h.Stub<v1::RuleService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();

  grpc::Status TryRule(v1::Rule rule, v1::Rule* out, const std::string& tenant = "acme") {
    v1::CreateRuleRequest req;
    *req.mutable_rule() = std::move(rule);
    return rules->CreateRule(ServiceHarness::Ctx(tenant).get(), req, out);
  }

  v1::Rule Rule(v1::Rule rule, const std::string& tenant = "acme") {
    v1::Rule out;
    grpc::Status s = TryRule(std::move(rule), &out, tenant);
    if (!s.ok()) FAIL("CreateRule: " << s.error_message());
    return out;
  }

  v1::Ticket Open(const std::string& subject, const std::string& tenant = "acme") {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(tenant == "acme" ? requester : "");
    req.mutable_ticket()->set_subject(subject);
    req.mutable_ticket()->set_channel(v1::CHANNEL_EMAIL);
    v1::Ticket out;
    grpc::Status s = tickets->CreateTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  v1::Ticket SetPriority(const std::string& name, v1::Priority priority) {
    v1::UpdateTicketRequest req;
    req.mutable_ticket()->set_name(name);
    req.mutable_ticket()->set_priority(priority);
    req.mutable_update_mask()->add_paths("priority");
    v1::Ticket out;
    grpc::Status s = tickets->UpdateTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("UpdateTicket: " << s.error_message());
    return out;
  }

  v1::Ticket Get(const std::string& name) {
    v1::GetTicketRequest req;
    req.set_name(name);
    v1::Ticket out;
    grpc::Status s = tickets->GetTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("GetTicket: " << s.error_message());
    return out;
  }

  std::vector<v1::RuleFiring> Firings(const std::string& parent,
                                      const std::string& tenant = "acme") {
    v1::ListRuleFiringsRequest req;
    req.set_parent(parent);
    v1::ListRuleFiringsResponse out;
    grpc::Status s = rules->ListRuleFirings(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("ListRuleFirings: " << s.error_message());
    return {out.firings().begin(), out.firings().end()};
  }

  // The types of the events about `ticket` and its comments, in feed order.
  std::vector<std::string> EventTypes() {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    std::vector<std::string> types;
    for (const auto& row :
         tx.exec("SELECT type FROM ticketing.outbox WHERE type NOT LIKE 'sla.%' ORDER BY tx_id, "
                 "seq")) {
      types.push_back(row[0].as<std::string>());
    }
    return types;
  }
};

}  // namespace

TEST_CASE("a rule on create routes, tags and notes a refund ticket, audited and published",
          "[integration][ticketing][rules]") {
  Desk d;
  v1::CreateGroupRequest group_req;
  group_req.mutable_group()->set_display_name("Payments");
  group_req.mutable_group()->set_strategy(v1::ROUTING_STRATEGY_ROUND_ROBIN);
  v1::Group payments;
  REQUIRE(d.routing->CreateGroup(ServiceHarness::Ctx().get(), group_req, &payments).ok());
  v1::CreateAgentRequest agent_req;
  agent_req.mutable_agent()->set_display_name("Pat");
  agent_req.mutable_agent()->add_groups(payments.name());
  agent_req.mutable_agent()->set_capacity(5);
  agent_req.mutable_agent()->set_available(true);
  v1::Agent pat;
  REQUIRE(d.routing->CreateAgent(ServiceHarness::Ctx().get(), agent_req, &pat).ok());

  v1::Rule r;
  r.set_display_name("Refunds to payments");
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  *r.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_CONTAINS, "refund");
  *r.add_all_conditions() = Cond("channel", v1::RULE_OPERATOR_IS, "email");
  r.add_actions()->set_set_group(payments.name());
  r.add_actions()->set_set_priority(v1::PRIORITY_HIGH);
  r.add_actions()->mutable_add_tags()->add_tags("refund");
  r.add_actions()->set_add_internal_note("Refund: check the order's payment first.");
  const v1::Rule rule = d.Rule(r);
  CHECK(rule.all_conditions(1).value() == "EMAIL");

  const v1::Ticket t = d.Open("Where is my Refund?");
  CHECK(t.group() == payments.name());
  CHECK(t.assignee() == pat.name());
  CHECK(t.priority() == v1::PRIORITY_HIGH);
  REQUIRE(t.tags_size() == 1);
  CHECK(t.tags(0) == "refund");
  CHECK(d.Get(t.name()).etag() == t.etag());  // the response is the ticket as stored

  const v1::Ticket other = d.Open("Shipping question");
  CHECK(other.group().empty());
  CHECK(d.Firings(other.name()).empty());

  const auto firings = d.Firings(t.name());
  REQUIRE(firings.size() == 1);
  CHECK(firings[0].rule() == rule.name());
  CHECK(firings[0].rule_display_name() == "Refunds to payments");
  CHECK(firings[0].trigger() == v1::RULE_TRIGGER_CREATED);
  CHECK(firings[0].method() == "CreateTicket");
  CHECK(firings[0].skipped().empty());
  std::vector<std::string> fields;
  for (const auto& c : firings[0].changes()) fields.push_back(c.field());
  CHECK(fields == std::vector<std::string>{"priority", "group", "assignee", "tags", "comment"});
  CHECK(d.Firings(rule.name()).size() == 1);

  v1::ListCommentsRequest comments_req;
  comments_req.set_parent(t.name());
  v1::ListCommentsResponse comments;
  REQUIRE(d.tickets->ListComments(ServiceHarness::Ctx().get(), comments_req, &comments).ok());
  REQUIRE(comments.comments_size() == 1);
  CHECK(comments.comments(0).author() == rule.name());
  CHECK(comments.comments(0).author_kind() == v1::AUTHOR_KIND_SYSTEM);
  CHECK_FALSE(comments.comments(0).public_());

  // ticket.created first, then the rule's own changes, then its audit.
  const auto types = d.EventTypes();
  REQUIRE(types.size() >= 5);
  CHECK(types[0] == "ticket.created");
  CHECK(std::count(types.begin(), types.end(), "ticket.assigned") == 1);
  CHECK(std::count(types.begin(), types.end(), "ticket.updated") == 1);
  CHECK(std::count(types.begin(), types.end(), "ticket.comment_added") == 1);
  CHECK(std::count(types.begin(), types.end(), "rule.fired") == 1);
}

TEST_CASE("rules that undo each other stop after each fired once",
          "[integration][ticketing][rules]") {
  Desk d;
  v1::Rule calm;
  calm.set_display_name("Urgent is too loud");
  calm.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *calm.add_all_conditions() = Cond("priority", v1::RULE_OPERATOR_CHANGED_TO, "URGENT");
  calm.add_actions()->set_set_priority(v1::PRIORITY_LOW);
  const v1::Rule a = d.Rule(calm);
  v1::Rule loud;
  loud.set_display_name("Low is too quiet");
  loud.set_position(1);
  loud.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *loud.add_all_conditions() = Cond("priority", v1::RULE_OPERATOR_CHANGED_TO, "LOW");
  loud.add_actions()->set_set_priority(v1::PRIORITY_URGENT);
  const v1::Rule b = d.Rule(loud);
  // And one that would retrigger itself: every change of tags adds a tag.
  v1::Rule self;
  self.set_display_name("Tag on tag");
  self.set_position(2);
  self.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *self.add_all_conditions() = Cond("priority", v1::RULE_OPERATOR_CHANGED);
  self.add_actions()->mutable_add_tags()->add_tags("seen");
  const v1::Rule c = d.Rule(self);

  const v1::Ticket t = d.Open("Loop");
  const v1::Ticket after = d.SetPriority(t.name(), v1::PRIORITY_URGENT);
  // calm (URGENT → LOW), then loud (LOW → URGENT), then tag-on-tag; none twice.
  CHECK(after.priority() == v1::PRIORITY_URGENT);
  REQUIRE(after.tags_size() == 1);
  const auto firings = d.Firings(t.name());  // newest first
  REQUIRE(firings.size() == 3);
  CHECK(firings[2].rule() == a.name());
  CHECK(firings[1].rule() == b.name());
  CHECK(firings[0].rule() == c.name());
  CHECK(firings[2].method() == "UpdateTicket");
  REQUIRE(firings[2].changes_size() == 1);
  CHECK(firings[2].changes(0).before() == "URGENT");
  CHECK(firings[2].changes(0).after() == "LOW");
  CHECK(d.Get(t.name()).priority() == v1::PRIORITY_URGENT);
}

TEST_CASE("a customer's thanks solves the ticket, and actions that cannot be made are skipped",
          "[integration][ticketing][rules]") {
  Desk d;
  v1::Rule thanks;
  thanks.set_display_name("Thanks solves");
  thanks.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *thanks.add_all_conditions() = Cond("comment", v1::RULE_OPERATOR_CONTAINS, "thank");
  *thanks.add_all_conditions() = Cond("comment_author_kind", v1::RULE_OPERATOR_IS, "customer");
  thanks.add_actions()->set_set_status(v1::STATUS_SOLVED);
  const v1::Rule rule = d.Rule(thanks);

  v1::Ticket t = d.Open("Parcel");
  v1::AddCommentRequest req;
  req.set_parent(t.name());
  req.mutable_comment()->set_author_kind(v1::AUTHOR_KIND_CUSTOMER);
  req.mutable_comment()->set_author(d.requester);
  req.mutable_comment()->set_body("It arrived, thank you!");
  req.mutable_comment()->set_public_(true);
  v1::Comment added;
  REQUIRE(d.tickets->AddComment(ServiceHarness::Ctx().get(), req, &added).ok());
  CHECK(d.Get(t.name()).status() == v1::STATUS_SOLVED);
  auto firings = d.Firings(t.name());
  REQUIRE(firings.size() == 1);
  CHECK(firings[0].method() == "AddComment");
  CHECK(firings[0].skipped().empty());

  // Now a rule assigns to an agent who is away: skipped, saying why.
  v1::CreateAgentRequest agent_req;
  agent_req.mutable_agent()->set_display_name("Away");
  agent_req.mutable_agent()->set_capacity(1);
  agent_req.mutable_agent()->set_available(false);
  v1::Agent away;
  REQUIRE(d.routing->CreateAgent(ServiceHarness::Ctx().get(), agent_req, &away).ok());
  v1::Rule assign;
  assign.set_display_name("Urgent to Away");
  assign.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *assign.add_all_conditions() = Cond("priority", v1::RULE_OPERATOR_IS, "URGENT");
  assign.add_actions()->set_set_assignee(away.name());
  assign.add_actions()->set_set_status(v1::STATUS_SOLVED);  // from OPEN: allowed
  d.Rule(assign);
  const v1::Ticket u = d.Open("Broken");
  const v1::Ticket after = d.SetPriority(u.name(), v1::PRIORITY_URGENT);
  CHECK(after.assignee().empty());
  CHECK(after.status() == v1::STATUS_SOLVED);
  firings = d.Firings(u.name());
  REQUIRE(firings.size() == 1);
  REQUIRE(firings[0].skipped_size() == 1);
  CHECK(absl::StartsWith(firings[0].skipped(0), "set_assignee"));
}

TEST_CASE("rules are validated at save, kept in order, disabled, updated and deleted",
          "[integration][ticketing][rules]") {
  Desk d;
  v1::Rule r;
  r.set_display_name("To a queue that is not there");
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  *r.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_CONTAINS, "x");
  r.add_actions()->set_set_group("groups/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11");
  v1::Rule out;
  grpc::Status s = d.TryRule(r, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(s.error_message(), "rule.actions[0]: groups/"));
  r.mutable_all_conditions(0)->set_field("colour");
  s = d.TryRule(r, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "rule.all_conditions[0].field"));

  // Later position first in the list, and in firing order.
  v1::Rule second;
  second.set_display_name("Second");
  second.set_position(5);
  second.add_triggers(v1::RULE_TRIGGER_CREATED);
  *second.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_CONTAINS, "order");
  second.add_actions()->set_set_priority(v1::PRIORITY_LOW);
  const v1::Rule second_rule = d.Rule(second);
  v1::Rule first = second;
  first.set_display_name("First");
  first.set_position(1);
  first.mutable_actions(0)->set_set_priority(v1::PRIORITY_HIGH);
  const v1::Rule first_rule = d.Rule(first);
  v1::ListRulesResponse list;
  REQUIRE(d.rules->ListRules(ServiceHarness::Ctx().get(), v1::ListRulesRequest(), &list).ok());
  REQUIRE(list.rules_size() == 2);
  CHECK(list.rules(0).name() == first_rule.name());
  CHECK(d.Open("My order").priority() == v1::PRIORITY_LOW);  // First, then Second

  // Disabled, the second no longer fires.
  v1::UpdateRuleRequest update;
  *update.mutable_rule() = second_rule;
  update.mutable_rule()->set_disabled(true);
  v1::Rule updated;
  REQUIRE(d.rules->UpdateRule(ServiceHarness::Ctx().get(), update, &updated).ok());
  CHECK(updated.etag() != second_rule.etag());
  CHECK(d.Open("Another order").priority() == v1::PRIORITY_HIGH);
  // A stale etag is refused.
  s = d.rules->UpdateRule(ServiceHarness::Ctx().get(), update, &updated);
  CHECK(s.error_code() == grpc::StatusCode::ABORTED);

  v1::DeleteRuleRequest del;
  del.set_name(first_rule.name());
  v1::DeleteRuleResponse deleted;
  REQUIRE(d.rules->DeleteRule(ServiceHarness::Ctx().get(), del, &deleted).ok());
  CHECK(d.Open("Third order").priority() == v1::PRIORITY_NORMAL);
  CHECK(d.Firings(first_rule.name()).size() == 2);  // the audit stays
  v1::GetRuleRequest get;
  get.set_name(first_rule.name());
  s = d.rules->GetRule(ServiceHarness::Ctx().get(), get, &out);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a tenant's rules never touch another tenant's tickets",
          "[integration][ticketing][rules]") {
  Desk d;
  v1::Rule r;
  r.set_display_name("Everything urgent");
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  *r.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_IS_NOT, "");
  r.add_actions()->set_set_priority(v1::PRIORITY_URGENT);
  d.Rule(r, "acme");
  CHECK(d.Open("Mine").priority() == v1::PRIORITY_URGENT);
  const std::string other = d.customers.NewCustomer("other@example.com", "globex").name();
  v1::CreateTicketRequest req;
  req.mutable_ticket()->set_requester(other);
  req.mutable_ticket()->set_subject("Theirs");
  v1::Ticket theirs;
  REQUIRE(d.tickets->CreateTicket(ServiceHarness::Ctx("globex").get(), req, &theirs).ok());
  CHECK(theirs.priority() == v1::PRIORITY_NORMAL);
  CHECK(d.Firings(theirs.name(), "globex").empty());
  v1::ListRulesResponse list;
  REQUIRE(
      d.rules->ListRules(ServiceHarness::Ctx("globex").get(), v1::ListRulesRequest(), &list).ok());
  CHECK(list.rules().empty());
}

}  // namespace crm::testing
