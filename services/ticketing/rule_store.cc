#include "services/ticketing/rule_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/events/outbox.h"
#include "services/ticketing/rule_domain.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kDefaultFiringPageSize = 100;
constexpr int kMaxFiringPageSize = 500;

constexpr char kRuleColumns[] =
    "r.id::text, r.display_name, r.position, r.disabled, array_to_string(r.triggers, ','), "
    "r.all_conditions::text, r.any_conditions::text, r.actions::text, "
    "(EXTRACT(EPOCH FROM r.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM r.update_time) * 1000000)::bigint, r.version";

constexpr char kFiringColumns[] =
    "f.id, f.rule_id::text, f.rule_display_name, f.ticket_id::text, f.trigger, f.method, "
    "f.changes::text, array_to_string(f.skipped, chr(31)), "
    "(EXTRACT(EPOCH FROM f.fire_time) * 1000000)::bigint";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"ticketing_count_rules", "SELECT count(*) FROM ticketing.rules WHERE tenant_id = $1"},
      {"ticketing_insert_rule",
       absl::StrCat("INSERT INTO ticketing.rules AS r (tenant_id, display_name, position, "
                    "disabled, triggers, all_conditions, any_conditions, actions) VALUES ($1, $2, "
                    "$3, $4, $5::text[], $6::jsonb, $7::jsonb, $8::jsonb) RETURNING ",
                    kRuleColumns)},
      {"ticketing_get_rule",
       absl::StrCat("SELECT ", kRuleColumns,
                    " FROM ticketing.rules r WHERE r.tenant_id = $1 AND r.id = $2::uuid")},
      {"ticketing_lock_rule",
       absl::StrCat("SELECT ", kRuleColumns,
                    " FROM ticketing.rules r WHERE r.tenant_id = $1 AND r.id = $2::uuid FOR "
                    "UPDATE")},
      {"ticketing_list_rules",
       absl::StrCat("SELECT ", kRuleColumns,
                    " FROM ticketing.rules r WHERE r.tenant_id = $1 ORDER BY r.position, "
                    "r.create_time, r.id")},
      // $2 the trigger.
      {"ticketing_rules_for_trigger",
       absl::StrCat("SELECT ", kRuleColumns,
                    " FROM ticketing.rules r WHERE r.tenant_id = $1 AND NOT r.disabled AND $2 = "
                    "ANY(r.triggers) ORDER BY r.position, r.create_time, r.id")},
      {"ticketing_update_rule",
       absl::StrCat("UPDATE ticketing.rules r SET display_name = $3, position = $4, disabled = "
                    "$5, triggers = $6::text[], all_conditions = $7::jsonb, any_conditions = "
                    "$8::jsonb, actions = $9::jsonb, update_time = now(), version = r.version + "
                    "1 WHERE r.tenant_id = $1 AND r.id = $2::uuid RETURNING ",
                    kRuleColumns)},
      {"ticketing_delete_rule",
       "DELETE FROM ticketing.rules WHERE tenant_id = $1 AND id = $2::uuid"},
      {"ticketing_rule_ticket_field_exists",
       "SELECT 1 FROM ticketing.ticket_fields WHERE tenant_id = $1 AND key = $2"},
      {"ticketing_rule_custom_status_exists",
       "SELECT 1 FROM ticketing.custom_statuses WHERE tenant_id = $1 AND id = $2::uuid"},
      {"ticketing_insert_rule_firing",
       absl::StrCat("INSERT INTO ticketing.rule_firings AS f (tenant_id, rule_id, "
                    "rule_display_name, ticket_id, trigger, method, changes, skipped) VALUES ($1, "
                    "$2::uuid, $3, $4::uuid, $5, $6, $7::jsonb, $8::text[]) RETURNING ",
                    kFiringColumns)},
      // $2 the ticket or rule, $3 the last id of the previous page (0: none).
      {"ticketing_ticket_rule_firings",
       absl::StrCat("SELECT ", kFiringColumns,
                    " FROM ticketing.rule_firings f WHERE f.tenant_id = $1 AND f.ticket_id = "
                    "$2::uuid AND ($3::bigint = 0 OR f.id < $3::bigint) ORDER BY f.id DESC LIMIT "
                    "$4::int")},
      {"ticketing_rule_rule_firings",
       absl::StrCat("SELECT ", kFiringColumns,
                    " FROM ticketing.rule_firings f WHERE f.tenant_id = $1 AND f.rule_id = "
                    "$2::uuid AND ($3::bigint = 0 OR f.id < $3::bigint) ORDER BY f.id DESC LIMIT "
                    "$4::int")},
  };
  return *statements;
}

v1::Rule RuleFromRow(const pqxx::row& row) {
  v1::Rule r;
  r.set_name(absl::StrCat("rules/", row[0].as<std::string>()));
  r.set_display_name(row[1].as<std::string>());
  r.set_position(row[2].as<int>());
  r.set_disabled(row[3].as<bool>());
  for (const std::string& t : db::SplitJoined(row[4].as<std::string>())) {
    r.add_triggers(RuleTriggerOf(t));
  }
  for (int i : {5, 6, 7}) api::MergeJson(row[i].c_str(), &r).IgnoreError();  // written by us
  *r.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[8].as<int64_t>());
  *r.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[9].as<int64_t>());
  r.set_etag(api::EtagOf(row[10].as<int64_t>()));
  return r;
}

v1::RuleFiring FiringFromRow(const pqxx::row& row) {
  v1::RuleFiring f;
  f.set_name(absl::StrCat("ruleFirings/", row[0].as<int64_t>()));
  f.set_rule(absl::StrCat("rules/", row[1].as<std::string>()));
  f.set_rule_display_name(row[2].as<std::string>());
  f.set_ticket(absl::StrCat("tickets/", row[3].as<std::string>()));
  f.set_trigger(RuleTriggerOf(row[4].as<std::string>()));
  f.set_method(row[5].as<std::string>());
  api::MergeJson(row[6].c_str(), &f).IgnoreError();  // written by us: changes only
  const std::string skipped = row[7].as<std::string>();
  if (!skipped.empty()) {
    for (absl::string_view s : absl::StrSplit(skipped, '\x1f')) f.add_skipped(std::string(s));
  }
  *f.mutable_fire_time() = TimeUtil::MicrosecondsToTimestamp(row[8].as<int64_t>());
  return f;
}

// The parts of a rule kept as JSON columns.
struct RuleJson {
  std::string all, any, actions;
};
RuleJson JsonOf(const v1::Rule& rule) {
  v1::Rule all, any, actions;
  *all.mutable_all_conditions() = rule.all_conditions();
  *any.mutable_any_conditions() = rule.any_conditions();
  *actions.mutable_actions() = rule.actions();
  return {api::ToJson(all), api::ToJson(any), api::ToJson(actions)};
}

std::string TriggersOf(const v1::Rule& rule) {
  std::vector<std::string> triggers;
  for (int t : rule.triggers())
    triggers.push_back(RuleTriggerText(static_cast<v1::RuleTrigger>(t)));
  return db::TextArray(triggers);
}

absl::Status RuleNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("rules/", id, " not found"));
}

}  // namespace

RuleStore::RuleStore(db::Pool& pool, api::PageTokenCodec tokens, RoutingStore& routing)
    : pool_(pool), tokens_(std::move(tokens)), routing_(routing) {
  pool_.Prepare(Statements());
}

absl::Status RuleStore::CheckReferences(db::Tx& tx, const std::string& tenant,
                                        const v1::Rule& rule) {
  for (const auto* list : {&rule.all_conditions(), &rule.any_conditions()}) {
    for (int i = 0; i < list->size(); ++i) {
      absl::string_view key = list->Get(i).field();
      if (!absl::ConsumePrefix(&key, "custom_fields.")) continue;
      if (db::Exec(tx, "ticketing_rule_ticket_field_exists", tenant, std::string(key)).empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "rule.", list == &rule.all_conditions() ? "all_conditions[" : "any_conditions[", i,
            "].field: ticketFields/", key, " does not exist"));
      }
    }
  }
  for (int i = 0; i < rule.actions_size(); ++i) {
    const v1::RuleAction& a = rule.actions(i);
    const std::string at = absl::StrCat("rule.actions[", i, "]");
    absl::Status found = absl::OkStatus();
    std::string name;
    switch (a.action_case()) {
      case v1::RuleAction::kSetGroup:
        name = a.set_group();
        found = routing_.CheckGroup(tx, tenant, IdOf(name));
        break;
      case v1::RuleAction::kSetAssignee:
        name = a.set_assignee();
        found = routing_.GetAgentInTx(tx, tenant, IdOf(name)).status();
        break;
      case v1::RuleAction::kSetCustomStatus:
        name = a.set_custom_status();
        if (db::Exec(tx, "ticketing_rule_custom_status_exists", tenant, IdOf(name)).empty()) {
          found = absl::NotFoundError(name);
        }
        break;
      default:
        continue;
    }
    if (!found.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(at, ": ", name, " does not exist"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Rule> RuleStore::Create(const server::CallScope& scope, const v1::Rule& rule) {
  v1::Rule created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "ticketing_count_rules", scope.tenant)[0][0].as<int64_t>() >=
        kMaxRulesPerTenant) {
      return absl::ResourceExhaustedError(
          absl::StrCat("rule: a tenant has at most ", kMaxRulesPerTenant, " rules"));
    }
    CRM_RETURN_IF_ERROR(CheckReferences(tx, scope.tenant, rule));
    const RuleJson json = JsonOf(rule);
    created = RuleFromRow(db::Exec(tx, "ticketing_insert_rule", scope.tenant, rule.display_name(),
                                   rule.position(), rule.disabled(), TriggersOf(rule), json.all,
                                   json.any, json.actions)[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::Rule> RuleStore::Get(const server::CallScope& scope, const std::string& id) {
  v1::Rule found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_get_rule", scope.tenant, id);
    if (rows.empty()) return RuleNotFound(id);
    found = RuleFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListRulesResponse> RuleStore::List(const server::CallScope& scope) {
  v1::ListRulesResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_rules", scope.tenant)) {
      *response.add_rules() = RuleFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Rule> RuleStore::Update(const server::CallScope& scope, const std::string& id,
                                           const v1::Rule& rule) {
  v1::Rule updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_rule", scope.tenant, id);
    if (rows.empty()) return RuleNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(rule.etag(), RuleFromRow(rows[0]).etag(), "rule"));
    CRM_RETURN_IF_ERROR(CheckReferences(tx, scope.tenant, rule));
    const RuleJson json = JsonOf(rule);
    updated = RuleFromRow(db::Exec(tx, "ticketing_update_rule", scope.tenant, id,
                                   rule.display_name(), rule.position(), rule.disabled(),
                                   TriggersOf(rule), json.all, json.any, json.actions)[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::Status RuleStore::Delete(const server::CallScope& scope, const std::string& id,
                               const std::string& etag) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_rule", scope.tenant, id);
    if (rows.empty()) return RuleNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(etag, RuleFromRow(rows[0]).etag(), "rule"));
    db::Exec(tx, "ticketing_delete_rule", scope.tenant, id);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListRuleFiringsResponse> RuleStore::ListFirings(const server::CallScope& scope,
                                                                   const std::string& collection,
                                                                   const std::string& id,
                                                                   int page_size,
                                                                   const std::string& page_token) {
  CRM_ASSIGN_OR_RETURN(
      int size, api::EffectivePageSize(page_size, kDefaultFiringPageSize, kMaxFiringPageSize));
  const std::string parent = absl::StrCat(collection, "/", id);
  std::string before = "0";
  if (!page_token.empty()) {
    CRM_ASSIGN_OR_RETURN(auto key, tokens_.Decode(page_token, parent));
    int64_t last = 0;
    if (key.size() != 1 || !absl::SimpleAtoi(key[0], &last) || last <= 0) {
      return absl::InvalidArgumentError("page_token: invalid token");
    }
    before = key[0];
  }
  const char* statement =
      collection == "tickets" ? "ticketing_ticket_rule_firings" : "ticketing_rule_rule_firings";
  v1::ListRuleFiringsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    auto rows = db::Exec(tx, statement, scope.tenant, id, before, db::PageLimit(size));
    response.set_next_page_token(db::FillPage(
        rows, size, tokens_, parent,
        [&](const pqxx::row& row) { *response.add_firings() = FiringFromRow(row); },
        [](const pqxx::row& last) { return std::vector<std::string>{last[0].as<std::string>()}; }));
    return absl::OkStatus();
  }));
  return response;
}

std::vector<v1::Rule> RuleStore::RulesFor(db::Tx& tx, const std::string& tenant,
                                          v1::RuleTrigger trigger) {
  std::vector<v1::Rule> rules;
  for (const auto& row :
       db::Exec(tx, "ticketing_rules_for_trigger", tenant, RuleTriggerText(trigger))) {
    rules.push_back(RuleFromRow(row));
  }
  return rules;
}

v1::RuleFiring RuleStore::Record(db::Tx& tx, const std::string& tenant, v1::RuleFiring firing) {
  v1::RuleFiring changes_only;
  *changes_only.mutable_changes() = firing.changes();
  const v1::RuleFiring recorded = FiringFromRow(
      db::Exec(tx, "ticketing_insert_rule_firing", tenant, IdOf(firing.rule()),
               firing.rule_display_name(), IdOf(firing.ticket()), RuleTriggerText(firing.trigger()),
               firing.method(), api::ToJson(changes_only),
               db::TextArray({firing.skipped().begin(), firing.skipped().end()}))[0]);
  events::AppendEvent(tx, kSchema, tenant, "rule.fired", recorded.name(), recorded);
  return recorded;
}

}  // namespace crm::ticketing
