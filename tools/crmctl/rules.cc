// crmctl rules list | new | show NAME | enable NAME | disable NAME |
// delete NAME | firings tickets/ID|rules/ID. Rules are given as the proto's
// JSON (--json), e.g.
//   crmctl rules new --json '{"displayName": "Refunds to payments",
//     "triggers": ["RULE_TRIGGER_CREATED"], "allConditions": [{"field":
//     "subject", "operator": "RULE_OPERATOR_CONTAINS", "value": "refund"}],
//     "actions": [{"setGroup": "groups/…"}, {"addTags": {"tags": ["refund"]}}]}'
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/api/enum_text.h"
#include "crm/ticketing/v1/rule_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::ticketing::v1;

void PrintRule(const v1::Rule& r) {
  std::vector<std::string> triggers;
  for (int t : r.triggers()) {
    triggers.push_back(api::EnumText(static_cast<v1::RuleTrigger>(t)));
  }
  std::printf("%s  %3d %-8s %-16s %-32s %d condition(s), %d action(s)\n", r.name().c_str(),
              r.position(), r.disabled() ? "disabled" : "enabled",
              absl::StrJoin(triggers, ",").c_str(), r.display_name().c_str(),
              r.all_conditions_size() + r.any_conditions_size(), r.actions_size());
}

void PrintFiring(const v1::RuleFiring& f) {
  std::vector<std::string> changes;
  for (const auto& c : f.changes()) {
    changes.push_back(c.field() == "comment"
                          ? absl::StrCat("note ", c.after())
                          : absl::StrCat(c.field(), " ", c.before().empty() ? "-" : c.before(),
                                         " → ", c.after().empty() ? "-" : c.after()));
  }
  for (const auto& s : f.skipped()) changes.push_back(absl::StrCat("skipped: ", s));
  std::printf("%s  %s  %-14s %s \"%s\" on %s: %s\n",
              google::protobuf::util::TimeUtil::ToString(f.fire_time()).c_str(), f.name().c_str(),
              f.method().c_str(), f.rule().c_str(), f.rule_display_name().c_str(),
              f.ticket().c_str(),
              changes.empty() ? "no change" : absl::StrJoin(changes, "; ").c_str());
}

}  // namespace

int Rules(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl rules list|new|show|enable|disable|delete|firings [NAME] "
                 "[--json JSON]\n");
    return 2;
  }
  auto stub = v1::RuleService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "list") {
    v1::ListRulesResponse out;
    grpc::Status s = stub->ListRules(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& r : out.rules()) PrintRule(r);
    return 0;
  }
  if (verb == "new") {
    v1::CreateRuleRequest req;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(absl::GetFlag(FLAGS_json), req.mutable_rule());
    if (!parsed.ok()) {
      std::fprintf(stderr, "error: --json: %s\n", parsed.ToString().c_str());
      return 2;
    }
    v1::Rule out;
    grpc::Status s = stub->CreateRule(&ctx, req, &out);
    if (!s.ok()) return Report(s);
    PrintRule(out);
    return 0;
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl rules %s NAME\n", verb.c_str());
    return 2;
  }
  const std::string name = args[3];
  if (verb == "firings") {
    v1::ListRuleFiringsRequest req;
    req.set_parent(name);
    v1::ListRuleFiringsResponse out;
    grpc::Status s = stub->ListRuleFirings(&ctx, req, &out);
    if (!s.ok()) return Report(s);
    for (const auto& f : out.firings()) PrintFiring(f);
    if (out.firings().empty()) std::printf("no firings\n");
    return 0;
  }
  if (verb == "delete") {
    v1::DeleteRuleRequest req;
    req.set_name(name);
    v1::DeleteRuleResponse out;
    grpc::Status s = stub->DeleteRule(&ctx, req, &out);
    if (!s.ok()) return Report(s);
    std::printf("deleted %s\n", name.c_str());
    return 0;
  }
  v1::GetRuleRequest get;
  get.set_name(name);
  v1::Rule current;
  grpc::Status s = stub->GetRule(&ctx, get, &current);
  if (!s.ok()) return Report(s);
  if (verb == "show") {
    std::cout << Json(current) << "\n";
    return 0;
  }
  if (verb == "enable" || verb == "disable") {
    v1::UpdateRuleRequest update;
    *update.mutable_rule() = current;
    update.mutable_rule()->set_disabled(verb == "disable");
    grpc::ClientContext update_ctx;
    Prepare(&update_ctx);
    v1::Rule out;
    s = stub->UpdateRule(&update_ctx, update, &out);
    if (!s.ok()) return Report(s);
    PrintRule(out);
    return 0;
  }
  std::fprintf(stderr, "unknown verb: rules %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
