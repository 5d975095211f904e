// Routing's rules without the database: which of a group's agents a ticket
// goes to under the group's strategy, and what groups and agents must hold.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "crm/ticketing/v1/routing.pb.h"

namespace crm::ticketing {

// One of a group's available agents, as routing sees it.
struct AgentLoad {
  std::string id;
  std::vector<std::string> skills;
  int open = 0;  // open tickets now
  int capacity = 0;
};

// The agent a ticket goes to among `agents` (the group's available agents,
// in id order), or "" when none may take it: never one at capacity; for
// SKILLS only agents with every one of `required_skills`. Round robin takes
// the first after `last_agent` in id order (wrapping); least loaded and
// skills the fewest open tickets, ties in that same turn.
std::string PickAgent(v1::RoutingStrategy strategy, const std::vector<AgentLoad>& agents,
                      const std::string& last_agent,
                      const std::vector<std::string>& required_skills);
// The same for a ticket that waited the group's relax time: skills no
// longer count (least loaded of all).
std::string PickAgentRelaxed(const std::vector<AgentLoad>& agents, const std::string& last_agent);

// Whether an agent with `skills` may take a ticket needing `required` in a
// group of `strategy` (only SKILLS asks).
bool AgentQualifies(v1::RoutingStrategy strategy, const std::vector<std::string>& skills,
                    const std::vector<std::string>& required);

// The skills a ticket needs: its tags that are among the group's skill
// tags, and its language (LanguageSkill) when it has one.
std::vector<std::string> RequiredSkills(const std::vector<std::string>& ticket_tags,
                                        const std::vector<std::string>& skill_tags,
                                        absl::string_view language = "");
// An agent's skills as routing matches them: its skills, and a
// LanguageSkill for each of its languages.
std::vector<std::string> AgentSkills(std::vector<std::string> skills,
                                     const std::vector<std::string>& languages);
// The skill that speaking `language` is: `lang:` and its primary language
// subtag, lower-case (`de-AT` → `lang:de`); "" for "". (Skills written by
// people are labels of [a-z0-9_-], so they never look like one.)
std::string LanguageSkill(absl::string_view language);

// Validate and normalise (default strategy, tags and skills lower-case,
// sorted, unique); INVALID_ARGUMENT names the field under `path`.
absl::Status PrepareGroup(v1::Group* group, absl::string_view path);
absl::Status PrepareAgent(v1::Agent* agent, absl::string_view path);

// As stored: "ROUND_ROBIN" ↔ ROUTING_STRATEGY_ROUND_ROBIN.
std::string StrategyText(v1::RoutingStrategy strategy);
v1::RoutingStrategy StrategyOf(absl::string_view text);

}  // namespace crm::ticketing
