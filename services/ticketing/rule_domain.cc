#include "services/ticketing/rule_domain.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/ticket_domain.h"
#include "services/ticketing/ticket_fields.h"

namespace crm::ticketing {
namespace {

using v1::RuleCondition;
using v1::RuleOperator;
using v1::Ticket;

// How a condition field reads and which values it takes.
enum class Kind {
  kText,         // subject, description
  kComment,      // the body of the call's comment
  kCommentEnum,  // comment_author_kind, comment_public
  kEnum,         // channel, type, priority, status
  kReference,    // custom_status, group, assignee, requester, order
  kTags,         // tags
  kRequesterTags,
  kCustomField,  // custom_fields.<key>
};

using Reader = std::string (*)(const Ticket&, const v1::Comment*);

struct Field {
  const char* name;
  Kind kind;
  Reader read;
  // kEnum: the parse of an upper-case name (UNSPECIFIED when unknown);
  // kReference: the collection.
  const char* collection = "";
  bool (*valid)(const std::string&) = nullptr;
};

// "" for the zero value, so that "no channel" and "none" read alike.
std::string Named(std::string text) { return text == "UNSPECIFIED" ? "" : text; }

const std::vector<Field>& Fields() {
  static const auto* fields = new std::vector<Field>{
      {"subject", Kind::kText, [](const Ticket& t, const v1::Comment*) { return t.subject(); }},
      {"description", Kind::kText,
       [](const Ticket& t, const v1::Comment*) { return t.description(); }},
      {"comment", Kind::kComment,
       [](const Ticket&, const v1::Comment* c) { return c ? c->body() : std::string(); }},
      {"comment_author_kind", Kind::kCommentEnum,
       [](const Ticket&, const v1::Comment* c) {
         return c ? Named(AuthorKindText(c->author_kind())) : std::string();
       },
       "", [](const std::string& v) { return AuthorKindOf(v) != v1::AUTHOR_KIND_UNSPECIFIED; }},
      {"comment_public", Kind::kCommentEnum,
       [](const Ticket&, const v1::Comment* c) {
         return c ? std::string(c->public_() ? "TRUE" : "FALSE") : std::string();
       },
       "", [](const std::string& v) { return v == "TRUE" || v == "FALSE"; }},
      {"channel", Kind::kEnum,
       [](const Ticket& t, const v1::Comment*) { return Named(ChannelText(t.channel())); }, "",
       [](const std::string& v) { return ChannelOf(v) != v1::CHANNEL_UNSPECIFIED; }},
      {"type", Kind::kEnum,
       [](const Ticket& t, const v1::Comment*) { return Named(TypeText(t.type())); }, "",
       [](const std::string& v) { return TypeOf(v) != v1::TICKET_TYPE_UNSPECIFIED; }},
      {"priority", Kind::kEnum,
       [](const Ticket& t, const v1::Comment*) { return Named(PriorityText(t.priority())); }, "",
       [](const std::string& v) { return PriorityOf(v) != v1::PRIORITY_UNSPECIFIED; }},
      {"status", Kind::kEnum,
       [](const Ticket& t, const v1::Comment*) { return Named(StatusText(t.status())); }, "",
       [](const std::string& v) { return StatusOf(v) != v1::STATUS_UNSPECIFIED; }},
      {"custom_status", Kind::kReference,
       [](const Ticket& t, const v1::Comment*) { return t.custom_status(); }, "customStatuses"},
      {"group", Kind::kReference, [](const Ticket& t, const v1::Comment*) { return t.group(); },
       "groups"},
      {"assignee", Kind::kReference,
       [](const Ticket& t, const v1::Comment*) { return t.assignee(); }, "agents"},
      {"requester", Kind::kReference,
       [](const Ticket& t, const v1::Comment*) { return t.requester(); }, "customers"},
      {"order", Kind::kReference, [](const Ticket& t, const v1::Comment*) { return t.order(); },
       "orders"},
      {"tags", Kind::kTags,
       [](const Ticket& t, const v1::Comment*) { return absl::StrJoin(t.tags(), ","); }},
      {"requester_tags", Kind::kRequesterTags,
       [](const Ticket& t, const v1::Comment*) { return absl::StrJoin(t.requester_tags(), ","); }},
      {"custom_fields.", Kind::kCustomField, nullptr},
  };
  return *fields;
}

const Field* FindField(absl::string_view name) {
  if (absl::StartsWith(name, "custom_fields.")) return &Fields().back();
  for (const Field& f : Fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

bool Takes(const Field& f, RuleOperator op) {
  using v1::RuleOperator;
  switch (f.kind) {
    case Kind::kText:
      return op == v1::RULE_OPERATOR_IS || op == v1::RULE_OPERATOR_IS_NOT ||
             op == v1::RULE_OPERATOR_CONTAINS || op == v1::RULE_OPERATOR_NOT_CONTAINS ||
             op == v1::RULE_OPERATOR_CHANGED || op == v1::RULE_OPERATOR_NOT_CHANGED;
    case Kind::kComment:
      return op == v1::RULE_OPERATOR_IS || op == v1::RULE_OPERATOR_IS_NOT ||
             op == v1::RULE_OPERATOR_CONTAINS || op == v1::RULE_OPERATOR_NOT_CONTAINS;
    case Kind::kCommentEnum:
      return op == v1::RULE_OPERATOR_IS || op == v1::RULE_OPERATOR_IS_NOT;
    case Kind::kEnum:
    case Kind::kReference:
      if (op == v1::RULE_OPERATOR_LESS_THAN || op == v1::RULE_OPERATOR_GREATER_THAN) {
        return absl::string_view(f.name) == "priority";
      }
      return op == v1::RULE_OPERATOR_IS || op == v1::RULE_OPERATOR_IS_NOT ||
             op == v1::RULE_OPERATOR_CHANGED || op == v1::RULE_OPERATOR_NOT_CHANGED ||
             op == v1::RULE_OPERATOR_CHANGED_TO || op == v1::RULE_OPERATOR_CHANGED_FROM;
    case Kind::kTags:
      return op == v1::RULE_OPERATOR_CONTAINS || op == v1::RULE_OPERATOR_NOT_CONTAINS ||
             op == v1::RULE_OPERATOR_CHANGED || op == v1::RULE_OPERATOR_NOT_CHANGED ||
             op == v1::RULE_OPERATOR_CHANGED_TO || op == v1::RULE_OPERATOR_CHANGED_FROM;
    case Kind::kRequesterTags:
      return op == v1::RULE_OPERATOR_CONTAINS || op == v1::RULE_OPERATOR_NOT_CONTAINS;
    case Kind::kCustomField:
      return op != v1::RULE_OPERATOR_UNSPECIFIED;
  }
  return false;
}

std::string OperatorText(RuleOperator op) {
  absl::string_view name = v1::RuleOperator_Name(op);
  absl::ConsumePrefix(&name, "RULE_OPERATOR_");
  return std::string(name);
}

absl::Status ValidateCondition(RuleCondition* c, const std::string& at) {
  const Field* f = FindField(c->field());
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(at, ".field: \"", c->field().substr(0, 64),
                                                   "\" is not a field rules can test"));
  }
  if (f->kind == Kind::kCustomField) {
    CRM_RETURN_IF_ERROR(
        CheckFieldKey(absl::StrCat(at, ".field"),
                      absl::string_view(c->field()).substr(sizeof("custom_fields.") - 1)));
  }
  CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(at, ".operator"), c->operator_()));
  if (!Takes(*f, c->operator_())) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".operator: ", f->name, " does not take ", OperatorText(c->operator_())));
  }
  const std::string value_at = absl::StrCat(at, ".value");
  const RuleOperator op = c->operator_();
  if (op == v1::RULE_OPERATOR_CHANGED || op == v1::RULE_OPERATOR_NOT_CHANGED) {
    if (!c->value().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(value_at, ": ", OperatorText(op), " takes no value"));
    }
    return absl::OkStatus();
  }
  CRM_RETURN_IF_ERROR(api::CheckText(value_at, c->value(), 200));
  switch (f->kind) {
    case Kind::kText:
    case Kind::kComment:
    case Kind::kCustomField:
      if (c->value().empty() &&
          (op == v1::RULE_OPERATOR_CONTAINS || op == v1::RULE_OPERATOR_NOT_CONTAINS)) {
        return absl::InvalidArgumentError(absl::StrCat(value_at, ": required"));
      }
      return absl::OkStatus();
    case Kind::kCommentEnum:
    case Kind::kEnum: {
      std::string upper = absl::AsciiStrToUpper(c->value());
      const bool none_allowed =
          f->kind == Kind::kCommentEnum && absl::string_view(f->name) == "comment_author_kind";
      if (!(upper.empty() && none_allowed) && !f->valid(upper)) {
        return absl::InvalidArgumentError(absl::StrCat(value_at, ": \"", c->value().substr(0, 64),
                                                       "\" is not a value of ", f->name));
      }
      c->set_value(std::move(upper));
      return absl::OkStatus();
    }
    case Kind::kReference: {
      if (c->value().empty()) return absl::OkStatus();  // none
      std::string id;
      return api::ParseResourceName(value_at, c->value(), f->collection, &id);
    }
    case Kind::kTags:
    case Kind::kRequesterTags: {
      google::protobuf::RepeatedPtrField<std::string> one;
      one.Add(std::string(c->value()));
      CRM_RETURN_IF_ERROR(NormaliseLabels(&one, value_at, 1));
      c->set_value(one.Get(0));
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAction(v1::RuleAction* a, const std::string& at) {
  std::string id;
  switch (a->action_case()) {
    case v1::RuleAction::kSetPriority:
      return api::RequiredEnum(absl::StrCat(at, ".set_priority"), a->set_priority());
    case v1::RuleAction::kSetType:
      return api::RequiredEnum(absl::StrCat(at, ".set_type"), a->set_type());
    case v1::RuleAction::kSetStatus:
      CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(at, ".set_status"), a->set_status()));
      if (a->set_status() == v1::STATUS_NEW) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".set_status: a ticket cannot move back to NEW"));
      }
      return absl::OkStatus();
    case v1::RuleAction::kSetCustomStatus:
      return api::ParseResourceName(absl::StrCat(at, ".set_custom_status"), a->set_custom_status(),
                                    "customStatuses", &id);
    case v1::RuleAction::kSetGroup:
      return api::ParseResourceName(absl::StrCat(at, ".set_group"), a->set_group(), "groups", &id);
    case v1::RuleAction::kSetAssignee:
      return api::ParseResourceName(absl::StrCat(at, ".set_assignee"), a->set_assignee(), "agents",
                                    &id);
    case v1::RuleAction::kAddTags:
    case v1::RuleAction::kRemoveTags: {
      const bool add = a->action_case() == v1::RuleAction::kAddTags;
      const std::string tags_at = absl::StrCat(at, add ? ".add_tags" : ".remove_tags", ".tags");
      auto* tags =
          add ? a->mutable_add_tags()->mutable_tags() : a->mutable_remove_tags()->mutable_tags();
      if (tags->empty()) return absl::InvalidArgumentError(absl::StrCat(tags_at, ": required"));
      return NormaliseLabels(tags, tags_at, 32);
    }
    case v1::RuleAction::kAddInternalNote:
      if (a->add_internal_note().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".add_internal_note: required"));
      }
      return api::CheckMaxLength(absl::StrCat(at, ".add_internal_note"), a->add_internal_note(),
                                 10000);
    case v1::RuleAction::ACTION_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(at, ": one action is required"));
}

bool HasTag(const google::protobuf::RepeatedPtrField<std::string>& tags, const std::string& tag) {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

// Numbers compare as numbers (a custom number field's `12.50` is `12.5`),
// anything else as text regardless of case: <0, 0, >0.
int Compare(const std::string& a, const std::string& b) {
  double x = 0, y = 0;
  if (absl::SimpleAtod(a, &x) && absl::SimpleAtod(b, &y)) return x < y ? -1 : (x > y ? 1 : 0);
  const std::string la = absl::AsciiStrToLower(a), lb = absl::AsciiStrToLower(b);
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

std::string Read(const Field& f, const RuleCondition& c, const Ticket& t,
                 const v1::Comment* comment) {
  if (f.kind == Kind::kCustomField) {
    return CustomFieldText(t.custom_fields(), c.field().substr(sizeof("custom_fields.") - 1));
  }
  return f.read(t, comment);
}

bool Holds(const RuleCondition& c, const Ticket& ticket, const RuleContext& context) {
  static const Ticket* const kNone = new Ticket();
  const Field* f = FindField(c.field());
  if (f == nullptr) return false;  // validated at save
  const Ticket& before = context.before != nullptr ? *context.before : *kNone;
  const std::string now_text = Read(*f, c, ticket, context.comment);
  const std::string before_text = Read(*f, c, before, context.comment);
  const bool changed = now_text != before_text;
  const bool list = f->kind == Kind::kTags || f->kind == Kind::kRequesterTags;
  switch (c.operator_()) {
    case v1::RULE_OPERATOR_IS:
      return Compare(now_text, c.value()) == 0;
    case v1::RULE_OPERATOR_IS_NOT:
      return Compare(now_text, c.value()) != 0;
    case v1::RULE_OPERATOR_CONTAINS:
    case v1::RULE_OPERATOR_NOT_CONTAINS: {
      bool contains = false;
      if (list) {
        contains =
            HasTag(f->kind == Kind::kTags ? ticket.tags() : ticket.requester_tags(), c.value());
      } else {
        contains =
            absl::StrContains(absl::AsciiStrToLower(now_text), absl::AsciiStrToLower(c.value()));
      }
      return contains == (c.operator_() == v1::RULE_OPERATOR_CONTAINS);
    }
    case v1::RULE_OPERATOR_LESS_THAN:
    case v1::RULE_OPERATOR_GREATER_THAN: {
      if (f->kind == Kind::kCustomField && now_text.empty()) return false;  // no value
      const int order = f->kind == Kind::kCustomField
                            ? Compare(now_text, c.value())
                            : static_cast<int>(ticket.priority()) - PriorityOf(c.value());
      return c.operator_() == v1::RULE_OPERATOR_LESS_THAN ? order < 0 : order > 0;
    }
    case v1::RULE_OPERATOR_CHANGED:
      return changed;
    case v1::RULE_OPERATOR_NOT_CHANGED:
      return !changed;
    case v1::RULE_OPERATOR_CHANGED_TO:
      if (list) return !HasTag(before.tags(), c.value()) && HasTag(ticket.tags(), c.value());
      return changed && Compare(now_text, c.value()) == 0;
    case v1::RULE_OPERATOR_CHANGED_FROM:
      if (list) return HasTag(before.tags(), c.value()) && !HasTag(ticket.tags(), c.value());
      return changed && Compare(before_text, c.value()) == 0;
    default:
      return false;
  }
}

void AddChange(std::vector<v1::RuleFieldChange>* changes, const char* field, std::string before,
               std::string after) {
  if (before == after) return;
  v1::RuleFieldChange& c = changes->emplace_back();
  c.set_field(field);
  c.set_before(std::move(before));
  c.set_after(std::move(after));
}

}  // namespace

absl::Status ValidateRule(v1::Rule* rule, absl::string_view path) {
  const auto at = [path](absl::string_view field) { return absl::StrCat(path, ".", field); };
  if (rule->display_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at("display_name"), ": required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(at("display_name"), rule->display_name(), 100));
  if (rule->position() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(at("position"), ": must be >= 0"));
  }
  if (rule->triggers().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at("triggers"), ": at least one"));
  }
  std::set<int> triggers;
  for (int i = 0; i < rule->triggers_size(); ++i) {
    const auto trigger = static_cast<v1::RuleTrigger>(rule->triggers(i));
    const std::string trigger_at = absl::StrCat(at("triggers"), "[", i, "]");
    CRM_RETURN_IF_ERROR(api::RequiredEnum(trigger_at, trigger));
    if (!triggers.insert(trigger).second) {
      return absl::InvalidArgumentError(absl::StrCat(trigger_at, ": given twice"));
    }
  }
  const int conditions = rule->all_conditions_size() + rule->any_conditions_size();
  if (conditions == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(at("all_conditions"), ": a rule needs at least one condition"));
  }
  if (conditions > kMaxRuleConditions) {
    return absl::InvalidArgumentError(
        absl::StrCat(at("all_conditions"), ": at most ", kMaxRuleConditions, " conditions in all"));
  }
  for (int i = 0; i < rule->all_conditions_size(); ++i) {
    CRM_RETURN_IF_ERROR(ValidateCondition(rule->mutable_all_conditions(i),
                                          absl::StrCat(at("all_conditions"), "[", i, "]")));
  }
  for (int i = 0; i < rule->any_conditions_size(); ++i) {
    CRM_RETURN_IF_ERROR(ValidateCondition(rule->mutable_any_conditions(i),
                                          absl::StrCat(at("any_conditions"), "[", i, "]")));
  }
  if (rule->actions().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at("actions"), ": at least one"));
  }
  if (rule->actions_size() > kMaxRuleActions) {
    return absl::InvalidArgumentError(absl::StrCat(at("actions"), ": at most ", kMaxRuleActions));
  }
  std::set<int> kinds;
  for (int i = 0; i < rule->actions_size(); ++i) {
    const std::string action_at = absl::StrCat(at("actions"), "[", i, "]");
    v1::RuleAction* a = rule->mutable_actions(i);
    CRM_RETURN_IF_ERROR(ValidateAction(a, action_at));
    if (!kinds.insert(a->action_case()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(action_at, ": the rule already has an action of this kind"));
    }
  }
  if (kinds.count(v1::RuleAction::kSetStatus) && kinds.count(v1::RuleAction::kSetCustomStatus)) {
    return absl::InvalidArgumentError(
        absl::StrCat(at("actions"), ": set_status and set_custom_status together"));
  }
  return absl::OkStatus();
}

bool RuleMatches(const v1::Rule& rule, const Ticket& ticket, const RuleContext& context) {
  if (rule.disabled()) return false;
  if (std::find(rule.triggers().begin(), rule.triggers().end(), context.trigger) ==
      rule.triggers().end()) {
    return false;
  }
  for (const RuleCondition& c : rule.all_conditions()) {
    if (!Holds(c, ticket, context)) return false;
  }
  if (rule.any_conditions().empty()) return true;
  return std::any_of(rule.any_conditions().begin(), rule.any_conditions().end(),
                     [&](const RuleCondition& c) { return Holds(c, ticket, context); });
}

Ticket WithFieldActions(const v1::Rule& rule, Ticket ticket) {
  for (const v1::RuleAction& a : rule.actions()) {
    switch (a.action_case()) {
      case v1::RuleAction::kSetPriority:
        ticket.set_priority(a.set_priority());
        break;
      case v1::RuleAction::kSetType:
        ticket.set_type(a.set_type());
        break;
      case v1::RuleAction::kAddTags:
      case v1::RuleAction::kRemoveTags: {
        std::set<std::string> tags(ticket.tags().begin(), ticket.tags().end());
        for (const std::string& tag : a.add_tags().tags()) tags.insert(tag);
        for (const std::string& tag : a.remove_tags().tags()) tags.erase(tag);
        ticket.clear_tags();
        for (const std::string& tag : tags) ticket.add_tags(tag);
        break;
      }
      default:
        break;
    }
  }
  return ticket;
}

std::vector<v1::RuleFieldChange> TicketChanges(const Ticket& before, const Ticket& after) {
  std::vector<v1::RuleFieldChange> changes;
  AddChange(&changes, "subject", before.subject(), after.subject());
  AddChange(&changes, "priority", Named(PriorityText(before.priority())),
            Named(PriorityText(after.priority())));
  AddChange(&changes, "type", Named(TypeText(before.type())), Named(TypeText(after.type())));
  AddChange(&changes, "status", Named(StatusText(before.status())),
            Named(StatusText(after.status())));
  AddChange(&changes, "custom_status", before.custom_status(), after.custom_status());
  AddChange(&changes, "group", before.group(), after.group());
  AddChange(&changes, "assignee", before.assignee(), after.assignee());
  AddChange(&changes, "tags", absl::StrJoin(before.tags(), ","), absl::StrJoin(after.tags(), ","));
  return changes;
}

std::string RuleTriggerText(v1::RuleTrigger trigger) {
  absl::string_view name = v1::RuleTrigger_Name(trigger);
  absl::ConsumePrefix(&name, "RULE_TRIGGER_");
  return std::string(name);
}

v1::RuleTrigger RuleTriggerOf(absl::string_view text) {
  v1::RuleTrigger trigger = v1::RULE_TRIGGER_UNSPECIFIED;
  v1::RuleTrigger_Parse(absl::StrCat("RULE_TRIGGER_", text), &trigger);
  return trigger;
}

}  // namespace crm::ticketing
