// Which agent a ticket goes to: each strategy's choice, capacity never
// exceeded, fairness over many tickets, skills, and what groups and agents
// must hold.
#include "services/ticketing/routing_domain.h"

#include <catch2/catch.hpp>
#include <map>
#include <vector>

namespace crm::ticketing {
namespace {

std::vector<AgentLoad> Agents(std::vector<int> open, int capacity = 2) {
  std::vector<AgentLoad> agents;
  const char* ids[] = {"a", "b", "c", "d"};
  for (size_t i = 0; i < open.size(); ++i) agents.push_back({ids[i], {}, open[i], capacity});
  return agents;
}

}  // namespace

TEST_CASE("round robin takes the next agent after the last one, skipping full ones",
          "[unit][ticketing][routing]") {
  const auto rr = v1::ROUTING_STRATEGY_ROUND_ROBIN;
  CHECK(PickAgent(rr, Agents({0, 0, 0}), "", {}) == "a");
  CHECK(PickAgent(rr, Agents({0, 0, 0}), "a", {}) == "b");
  CHECK(PickAgent(rr, Agents({0, 0, 0}), "c", {}) == "a");   // wraps
  CHECK(PickAgent(rr, Agents({0, 2, 0}), "a", {}) == "c");   // b is full
  CHECK(PickAgent(rr, Agents({2, 2, 2}), "a", {}).empty());  // nobody may take it
  CHECK(PickAgent(rr, {}, "", {}).empty());
}

TEST_CASE("least loaded takes the agent with the fewest open tickets, ties in turn",
          "[unit][ticketing][routing]") {
  const auto ll = v1::ROUTING_STRATEGY_LEAST_LOADED;
  CHECK(PickAgent(ll, Agents({2, 1, 1}, 5), "", {}) == "b");
  CHECK(PickAgent(ll, Agents({2, 1, 1}, 5), "b", {}) == "c");
  CHECK(PickAgent(ll, Agents({0, 3, 3}, 3), "a", {}) == "a");  // the only one with room
}

TEST_CASE("skills routing takes only agents with every skill the ticket needs",
          "[unit][ticketing][routing]") {
  const auto sk = v1::ROUTING_STRATEGY_SKILLS;
  std::vector<AgentLoad> agents = {
      {"a", {"german"}, 0, 5}, {"b", {"german", "refund"}, 3, 5}, {"c", {"refund"}, 1, 5}};
  CHECK(PickAgent(sk, agents, "", {"refund"}) == "c");            // least loaded of b, c
  CHECK(PickAgent(sk, agents, "", {"german", "refund"}) == "b");  // only b has both
  CHECK(PickAgent(sk, agents, "", {"french"}).empty());
  CHECK(PickAgent(sk, agents, "", {}) == "a");  // nothing needed: anyone, least loaded
  CHECK(PickAgentRelaxed(agents, "") == "a");   // relaxed: skills no longer count
  CHECK(RequiredSkills({"damage", "refund", "vip"}, {"german", "refund"}) ==
        std::vector<std::string>{"refund"});
  CHECK(AgentQualifies(v1::ROUTING_STRATEGY_ROUND_ROBIN, {}, {"refund"}));
  CHECK_FALSE(AgentQualifies(sk, {"german"}, {"refund"}));
}

TEST_CASE("a ticket's language is a skill its agent must speak", "[unit][ticketing][routing]") {
  CHECK(LanguageSkill("de-AT") == "lang:de");
  CHECK(LanguageSkill("EN") == "lang:en");
  CHECK(LanguageSkill("").empty());
  CHECK(RequiredSkills({"refund"}, {"refund"}, "de-AT") ==
        std::vector<std::string>{"refund", "lang:de"});
  CHECK(RequiredSkills({"refund"}, {}, "") == std::vector<std::string>{});
  CHECK(AgentSkills({"refund"}, {"de", "en"}) ==
        std::vector<std::string>{"refund", "lang:de", "lang:en"});
  const auto sk = v1::ROUTING_STRATEGY_SKILLS;
  std::vector<AgentLoad> agents = {{"a", AgentSkills({}, {"en"}), 0, 5},
                                   {"b", AgentSkills({}, {"de", "en"}), 2, 5}};
  CHECK(PickAgent(sk, agents, "", RequiredSkills({}, {}, "de-CH")) == "b");
  CHECK(PickAgent(sk, agents, "", RequiredSkills({}, {}, "en-GB")) == "a");
  CHECK(PickAgent(sk, agents, "", RequiredSkills({}, {}, "fr")).empty());
  // Only SKILLS groups ask.
  CHECK(AgentQualifies(v1::ROUTING_STRATEGY_LEAST_LOADED, {}, {"lang:fr"}));

  v1::Agent agent;
  agent.set_display_name("Ann");
  agent.set_capacity(3);
  agent.add_languages("DE-at");
  agent.add_languages("en");
  agent.add_languages("de");
  REQUIRE(PrepareAgent(&agent, "agent").ok());
  REQUIRE(agent.languages_size() == 2);
  CHECK(agent.languages(0) == "de");
  CHECK(agent.languages(1) == "en");
  agent.add_languages("german!");
  CHECK(PrepareAgent(&agent, "agent").message() ==
        "agent.languages[2]: must be a BCP-47 tag such as en or en-GB");
}

TEST_CASE("over many tickets every strategy is fair and never exceeds capacity",
          "[unit][ticketing][routing]") {
  for (auto strategy : {v1::ROUTING_STRATEGY_ROUND_ROBIN, v1::ROUTING_STRATEGY_LEAST_LOADED}) {
    CAPTURE(strategy);
    std::vector<AgentLoad> agents = Agents({0, 0, 0}, 100);
    std::string last;
    int waiting = 0;
    for (int i = 0; i < 320; ++i) {
      const std::string chosen = PickAgent(strategy, agents, last, {});
      if (chosen.empty()) {
        ++waiting;
        continue;
      }
      for (auto& a : agents) {
        if (a.id == chosen) ++a.open;
      }
      last = chosen;
    }
    for (const auto& a : agents) CHECK(a.open == 100);  // even, and capped
    CHECK(waiting == 20);
  }
}

TEST_CASE("groups and agents are validated and normalised", "[unit][ticketing][routing]") {
  v1::Group g;
  CHECK(PrepareGroup(&g, "group").message() == "group.display_name: required");
  g.set_display_name("Returns");
  g.add_skill_tags("Refund");
  g.add_skill_tags("refund");
  REQUIRE(PrepareGroup(&g, "group").ok());
  CHECK(g.strategy() == v1::ROUTING_STRATEGY_ROUND_ROBIN);
  CHECK(g.skill_tags_size() == 1);
  CHECK(g.skill_tags(0) == "refund");
  g.add_skill_tags("no spaces");
  CHECK(PrepareGroup(&g, "group").message() ==
        "group.skill_tags: \"no spaces\" is not 1 to 64 characters of [a-z0-9_-]");

  v1::Agent a;
  a.set_display_name("Ann");
  CHECK(PrepareAgent(&a, "agent").message() == "agent.capacity: 1 to 1000");
  a.set_capacity(5);
  a.add_groups("teams/1");
  CHECK(PrepareAgent(&a, "agent").code() == absl::StatusCode::kInvalidArgument);
  a.clear_groups();
  a.add_groups("groups/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  a.add_skills("German");
  REQUIRE(PrepareAgent(&a, "agent").ok());
  CHECK(a.skills(0) == "german");
  CHECK(StrategyOf(StrategyText(v1::ROUTING_STRATEGY_SKILLS)) == v1::ROUTING_STRATEGY_SKILLS);
}

}  // namespace crm::ticketing
