// Rules without the database: what a saved rule must hold (each refusal
// names its field), each operator on each kind of field, changes against
// the ticket before the call, and the field changes actions make.
#include "services/ticketing/rule_domain.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"

namespace crm::ticketing {
namespace {

v1::RuleCondition Cond(const std::string& field, v1::RuleOperator op,
                       const std::string& value = "") {
  v1::RuleCondition c;
  c.set_field(field);
  c.set_operator_(op);
  c.set_value(value);
  return c;
}

// On update: subject contains "refund" → priority HIGH.
v1::Rule RefundRule() {
  v1::Rule r;
  r.set_display_name("Refunds are high");
  r.add_triggers(v1::RULE_TRIGGER_UPDATED);
  *r.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_CONTAINS, "refund");
  r.add_actions()->set_set_priority(v1::PRIORITY_HIGH);
  return r;
}

std::string Refusal(v1::Rule rule) {
  absl::Status s = ValidateRule(&rule, "rule");
  if (s.ok()) return "ok";
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

v1::Ticket Ticket(v1::Priority priority, std::vector<std::string> tags = {}) {
  v1::Ticket t;
  t.set_subject("Where is my REFUND?");
  t.set_channel(v1::CHANNEL_EMAIL);
  t.set_priority(priority);
  t.set_status(v1::STATUS_OPEN);
  for (auto& tag : tags) t.add_tags(tag);
  return t;
}

bool Matches(const v1::Rule& rule, const v1::Ticket& before, const v1::Ticket& now,
             const v1::Comment* comment = nullptr,
             v1::RuleTrigger trigger = v1::RULE_TRIGGER_UPDATED) {
  RuleContext context;
  context.trigger = trigger;
  context.before = &before;
  context.comment = comment;
  return RuleMatches(rule, now, context);
}

}  // namespace

TEST_CASE("a valid rule is normalised: enum values upper-cased, tags as tags are written",
          "[unit][ticketing][rules]") {
  v1::Rule r = RefundRule();
  *r.add_all_conditions() = Cond("priority", v1::RULE_OPERATOR_CHANGED_TO, "urgent");
  *r.add_any_conditions() = Cond("tags", v1::RULE_OPERATOR_CONTAINS, "VIP");
  r.add_actions()->mutable_add_tags()->add_tags("Refund");
  REQUIRE(ValidateRule(&r, "rule").ok());
  CHECK(r.all_conditions(1).value() == "URGENT");
  CHECK(r.any_conditions(0).value() == "vip");
  CHECK(r.actions(1).add_tags().tags(0) == "refund");
}

TEST_CASE("a rule that cannot work is refused naming the field", "[unit][ticketing][rules]") {
  v1::Rule r = RefundRule();
  r.clear_display_name();
  CHECK(Refusal(r) == "rule.display_name: required");

  r = RefundRule();
  r.clear_triggers();
  CHECK(Refusal(r) == "rule.triggers: at least one");
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  CHECK(Refusal(r) == "rule.triggers[1]: given twice");

  r = RefundRule();
  r.clear_all_conditions();
  CHECK(absl::StartsWith(Refusal(r), "rule.all_conditions: a rule needs at least one"));

  r = RefundRule();
  r.mutable_all_conditions(0)->set_field("mood");
  CHECK(Refusal(r) == "rule.all_conditions[0].field: \"mood\" is not a field rules can test");

  r = RefundRule();
  *r.add_any_conditions() = Cond("tags", v1::RULE_OPERATOR_IS, "vip");
  CHECK(Refusal(r) == "rule.any_conditions[0].operator: tags does not take IS");
  r.mutable_any_conditions(0)->set_operator_(v1::RULE_OPERATOR_CHANGED);
  CHECK(Refusal(r) == "rule.any_conditions[0].value: CHANGED takes no value");
  r.mutable_any_conditions(0)->set_operator_(v1::RULE_OPERATOR_CONTAINS);
  r.mutable_any_conditions(0)->set_value("not a tag");
  CHECK(absl::StartsWith(Refusal(r), "rule.any_conditions[0].value: \"not a tag\""));

  r = RefundRule();
  *r.add_all_conditions() = Cond("subject", v1::RULE_OPERATOR_LESS_THAN, "b");
  CHECK(Refusal(r) == "rule.all_conditions[1].operator: subject does not take LESS_THAN");
  r.mutable_all_conditions(1)->set_field("status");
  CHECK(Refusal(r) == "rule.all_conditions[1].operator: status does not take LESS_THAN");
  r.mutable_all_conditions(1)->set_operator_(v1::RULE_OPERATOR_IS);
  r.mutable_all_conditions(1)->set_value("waiting");
  CHECK(Refusal(r) == "rule.all_conditions[1].value: \"waiting\" is not a value of status");
  r.mutable_all_conditions(1)->set_field("group");
  r.mutable_all_conditions(1)->set_value("queues/1");
  CHECK(absl::StartsWith(Refusal(r), "rule.all_conditions[1].value"));
  r.mutable_all_conditions(1)->set_value("");  // no group
  CHECK(Refusal(r) == "ok");
  r.mutable_all_conditions(1)->set_operator_(v1::RULE_OPERATOR_UNSPECIFIED);
  CHECK(Refusal(r) == "rule.all_conditions[1].operator: required");

  r = RefundRule();
  r.clear_actions();
  CHECK(Refusal(r) == "rule.actions: at least one");
  r.add_actions();
  CHECK(Refusal(r) == "rule.actions[0]: one action is required");
  r.mutable_actions(0)->set_set_status(v1::STATUS_NEW);
  CHECK(Refusal(r) == "rule.actions[0].set_status: a ticket cannot move back to NEW");
  r.mutable_actions(0)->set_set_group("groups/not-a-uuid");
  CHECK(absl::StartsWith(Refusal(r), "rule.actions[0].set_group"));
  r.mutable_actions(0)->set_set_priority(v1::PRIORITY_LOW);
  r.add_actions()->set_set_priority(v1::PRIORITY_HIGH);
  CHECK(Refusal(r) == "rule.actions[1]: the rule already has an action of this kind");
  r.mutable_actions(1)->mutable_remove_tags();
  CHECK(Refusal(r) == "rule.actions[1].remove_tags.tags: required");
  r.mutable_actions(1)->set_add_internal_note("");
  CHECK(Refusal(r) == "rule.actions[1].add_internal_note: required");
  r.mutable_actions(1)->set_set_status(v1::STATUS_SOLVED);
  r.add_actions()->set_set_custom_status("customStatuses/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11");
  CHECK(Refusal(r) == "rule.actions: set_status and set_custom_status together");
}

TEST_CASE("text conditions ignore case, list conditions test elements",
          "[unit][ticketing][rules]") {
  const v1::Ticket t = Ticket(v1::PRIORITY_NORMAL, {"vip"});
  v1::Rule r = RefundRule();
  CHECK(Matches(r, t, t));
  r.mutable_all_conditions(0)->set_operator_(v1::RULE_OPERATOR_NOT_CONTAINS);
  CHECK_FALSE(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("subject", v1::RULE_OPERATOR_IS, "where is my refund?");
  CHECK(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("channel", v1::RULE_OPERATOR_IS, "EMAIL");
  CHECK(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("channel", v1::RULE_OPERATOR_IS_NOT, "EMAIL");
  CHECK_FALSE(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("tags", v1::RULE_OPERATOR_CONTAINS, "vip");
  CHECK(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("tags", v1::RULE_OPERATOR_CONTAINS, "vi");  // not a substring
  CHECK_FALSE(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("assignee", v1::RULE_OPERATOR_IS, "");  // unassigned
  CHECK(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("priority", v1::RULE_OPERATOR_LESS_THAN, "HIGH");
  CHECK(Matches(r, t, t));
  *r.mutable_all_conditions(0) = Cond("priority", v1::RULE_OPERATOR_GREATER_THAN, "NORMAL");
  CHECK_FALSE(Matches(r, t, t));
}

TEST_CASE("change conditions compare with the ticket before the call", "[unit][ticketing][rules]") {
  const v1::Ticket before = Ticket(v1::PRIORITY_NORMAL, {"vip"});
  const v1::Ticket after = Ticket(v1::PRIORITY_URGENT, {"refund"});
  v1::Rule r = RefundRule();
  *r.mutable_all_conditions(0) = Cond("priority", v1::RULE_OPERATOR_CHANGED_TO, "URGENT");
  CHECK(Matches(r, before, after));
  CHECK_FALSE(Matches(r, after, after));  // no change
  CHECK_FALSE(Matches(r, after, before));
  *r.mutable_all_conditions(0) = Cond("priority", v1::RULE_OPERATOR_CHANGED_FROM, "NORMAL");
  CHECK(Matches(r, before, after));
  *r.mutable_all_conditions(0) = Cond("priority", v1::RULE_OPERATOR_CHANGED);
  CHECK(Matches(r, before, after));
  *r.mutable_all_conditions(0) = Cond("subject", v1::RULE_OPERATOR_NOT_CHANGED);
  CHECK(Matches(r, before, after));
  *r.mutable_all_conditions(0) = Cond("tags", v1::RULE_OPERATOR_CHANGED_TO, "refund");  // added
  CHECK(Matches(r, before, after));
  *r.mutable_all_conditions(0) = Cond("tags", v1::RULE_OPERATOR_CHANGED_FROM, "vip");  // removed
  CHECK(Matches(r, before, after));
  *r.mutable_all_conditions(0) = Cond("tags", v1::RULE_OPERATOR_CHANGED_FROM, "refund");
  CHECK_FALSE(Matches(r, before, after));
  // On create the ticket before is empty: whatever is set changed.
  *r.mutable_all_conditions(0) = Cond("channel", v1::RULE_OPERATOR_CHANGED_TO, "EMAIL");
  r.clear_triggers();
  r.add_triggers(v1::RULE_TRIGGER_CREATED);
  CHECK(Matches(r, v1::Ticket(), after, nullptr, v1::RULE_TRIGGER_CREATED));
  CHECK_FALSE(Matches(r, v1::Ticket(), after, nullptr, v1::RULE_TRIGGER_UPDATED));  // trigger
}

TEST_CASE("all conditions must hold, and one of any when there are any",
          "[unit][ticketing][rules]") {
  const v1::Ticket t = Ticket(v1::PRIORITY_NORMAL);
  v1::Rule r = RefundRule();
  *r.add_any_conditions() = Cond("priority", v1::RULE_OPERATOR_IS, "URGENT");
  CHECK_FALSE(Matches(r, t, t));
  *r.add_any_conditions() = Cond("channel", v1::RULE_OPERATOR_IS, "EMAIL");
  CHECK(Matches(r, t, t));
  r.mutable_all_conditions(0)->set_value("invoice");
  CHECK_FALSE(Matches(r, t, t));
  r.clear_all_conditions();  // any alone
  CHECK(Matches(r, t, t));
  r.set_disabled(true);
  CHECK_FALSE(Matches(r, t, t));
}

TEST_CASE("comment conditions read the comment the call adds", "[unit][ticketing][rules]") {
  const v1::Ticket t = Ticket(v1::PRIORITY_NORMAL);
  v1::Comment c;
  c.set_body("Thanks, that solved it!");
  c.set_author_kind(v1::AUTHOR_KIND_CUSTOMER);
  c.set_public_(true);
  v1::Rule r = RefundRule();
  *r.mutable_all_conditions(0) = Cond("comment", v1::RULE_OPERATOR_CONTAINS, "THANKS");
  *r.add_all_conditions() = Cond("comment_author_kind", v1::RULE_OPERATOR_IS, "CUSTOMER");
  *r.add_all_conditions() = Cond("comment_public", v1::RULE_OPERATOR_IS, "TRUE");
  REQUIRE(ValidateRule(&r, "rule").ok());
  CHECK(Matches(r, t, t, &c));
  CHECK_FALSE(Matches(r, t, t));  // no comment in this call
  c.set_public_(false);
  CHECK_FALSE(Matches(r, t, t, &c));
  *r.mutable_all_conditions(0) = Cond("comment", v1::RULE_OPERATOR_IS, "");
  r.mutable_all_conditions()->DeleteSubrange(1, 2);
  CHECK(Matches(r, t, t));  // "no comment"
}

TEST_CASE("field actions and the changes the audit keeps", "[unit][ticketing][rules]") {
  v1::Rule r = RefundRule();
  r.add_actions()->set_set_type(v1::TICKET_TYPE_INCIDENT);
  r.add_actions()->mutable_add_tags()->add_tags("refund");
  r.add_actions()->mutable_remove_tags()->add_tags("vip");
  const v1::Ticket before = Ticket(v1::PRIORITY_NORMAL, {"vip", "zz"});
  const v1::Ticket after = WithFieldActions(r, before);
  CHECK(after.priority() == v1::PRIORITY_HIGH);
  CHECK(after.type() == v1::TICKET_TYPE_INCIDENT);
  REQUIRE(after.tags_size() == 2);
  CHECK(after.tags(0) == "refund");
  CHECK(after.tags(1) == "zz");
  const auto changes = TicketChanges(before, after);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].field() == "priority");
  CHECK(changes[0].before() == "NORMAL");
  CHECK(changes[0].after() == "HIGH");
  CHECK(changes[1].field() == "type");
  CHECK(changes[1].before() == "");
  CHECK(changes[2].field() == "tags");
  CHECK(changes[2].before() == "vip,zz");
  CHECK(changes[2].after() == "refund,zz");
  CHECK(TicketChanges(after, after).empty());
}

}  // namespace crm::ticketing
