#include "services/ticketing/routing_domain.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

constexpr size_t kMaxTags = 64;

bool HasAll(const std::vector<std::string>& have, const std::vector<std::string>& need) {
  return std::all_of(need.begin(), need.end(), [&have](const std::string& s) {
    return std::find(have.begin(), have.end(), s) != have.end();
  });
}

}  // namespace

std::string PickAgent(v1::RoutingStrategy strategy, const std::vector<AgentLoad>& agents,
                      const std::string& last_agent,
                      const std::vector<std::string>& required_skills) {
  // The turn: agents after the last one assigned first, then from the start.
  std::vector<const AgentLoad*> turn;
  for (const AgentLoad& a : agents) {
    if (a.id > last_agent) turn.push_back(&a);
  }
  for (const AgentLoad& a : agents) {
    if (a.id <= last_agent) turn.push_back(&a);
  }
  const AgentLoad* best = nullptr;
  for (const AgentLoad* a : turn) {
    if (a->open >= a->capacity) continue;
    if (strategy == v1::ROUTING_STRATEGY_SKILLS && !HasAll(a->skills, required_skills)) continue;
    if (strategy == v1::ROUTING_STRATEGY_ROUND_ROBIN) return a->id;
    if (best == nullptr || a->open < best->open) best = a;
  }
  return best == nullptr ? "" : best->id;
}

bool AgentQualifies(v1::RoutingStrategy strategy, const std::vector<std::string>& skills,
                    const std::vector<std::string>& required) {
  return strategy != v1::ROUTING_STRATEGY_SKILLS || HasAll(skills, required);
}

std::string PickAgentRelaxed(const std::vector<AgentLoad>& agents, const std::string& last_agent) {
  return PickAgent(v1::ROUTING_STRATEGY_LEAST_LOADED, agents, last_agent, {});
}

std::vector<std::string> RequiredSkills(const std::vector<std::string>& ticket_tags,
                                        const std::vector<std::string>& skill_tags,
                                        absl::string_view language) {
  std::vector<std::string> needed;
  for (const std::string& tag : ticket_tags) {
    if (std::find(skill_tags.begin(), skill_tags.end(), tag) != skill_tags.end()) {
      needed.push_back(tag);
    }
  }
  if (!language.empty()) needed.push_back(LanguageSkill(language));
  return needed;
}

std::vector<std::string> AgentSkills(std::vector<std::string> skills,
                                     const std::vector<std::string>& languages) {
  for (const std::string& l : languages) skills.push_back(LanguageSkill(l));
  return skills;
}

std::string LanguageSkill(absl::string_view language) {
  if (language.empty()) return "";
  return absl::StrCat("lang:", absl::AsciiStrToLower(language.substr(0, language.find('-'))));
}

absl::Status PrepareGroup(v1::Group* g, absl::string_view path) {
  const std::string p(path);
  if (g->display_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".display_name: required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(p, ".display_name"), g->display_name(), 100));
  CRM_RETURN_IF_ERROR(api::OptionalEnum(absl::StrCat(p, ".strategy"), g->strategy()));
  if (g->strategy() == v1::ROUTING_STRATEGY_UNSPECIFIED) {
    g->set_strategy(v1::ROUTING_STRATEGY_ROUND_ROBIN);
  }
  if (g->relax_after_minutes() < 0 || g->relax_after_minutes() > 10080) {
    return absl::InvalidArgumentError(
        absl::StrCat(p, ".relax_after_minutes: 0 (never) to 10080 (a week)"));
  }
  return NormaliseLabels(g->mutable_skill_tags(), absl::StrCat(p, ".skill_tags"), kMaxTags);
}

absl::Status PrepareAgent(v1::Agent* a, absl::string_view path) {
  const std::string p(path);
  if (a->display_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".display_name: required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(p, ".display_name"), a->display_name(), 100));
  if (!a->email().empty())
    CRM_RETURN_IF_ERROR(api::CheckEmail(absl::StrCat(p, ".email"), a->email()));
  if (a->capacity() < 1 || a->capacity() > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".capacity: 1 to 1000"));
  }
  if (a->groups_size() > 50) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".groups: at most 50"));
  }
  std::set<std::string> groups;
  for (int i = 0; i < a->groups_size(); ++i) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName(absl::StrCat(p, ".groups[", i, "]"), a->groups(i), "groups", &id));
    groups.insert(a->groups(i));
  }
  a->clear_groups();
  for (const std::string& g : groups) a->add_groups(g);
  std::set<std::string> languages;
  for (int i = 0; i < a->languages_size(); ++i) {
    CRM_RETURN_IF_ERROR(api::CheckLocale(absl::StrCat(p, ".languages[", i, "]"), a->languages(i)));
    languages.insert(LanguageSkill(a->languages(i)).substr(sizeof("lang:") - 1));
  }
  if (languages.size() > 20) {
    return absl::InvalidArgumentError(absl::StrCat(p, ".languages: at most 20"));
  }
  a->clear_languages();
  for (const std::string& l : languages) a->add_languages(l);
  return NormaliseLabels(a->mutable_skills(), absl::StrCat(p, ".skills"), kMaxTags);
}

std::string StrategyText(v1::RoutingStrategy s) {
  return v1::RoutingStrategy_Name(s).substr(sizeof("ROUTING_STRATEGY_") - 1);
}

v1::RoutingStrategy StrategyOf(absl::string_view text) {
  v1::RoutingStrategy s = v1::ROUTING_STRATEGY_UNSPECIFIED;
  v1::RoutingStrategy_Parse(absl::StrCat("ROUTING_STRATEGY_", text), &s);
  return s;
}

}  // namespace crm::ticketing
