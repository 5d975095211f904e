#include "services/ticketing/routing_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "services/ticketing/routing_domain.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kOpen[] = "('NEW', 'OPEN', 'PENDING', 'ON_HOLD')";

constexpr char kGroupColumns[] =
    "g.id::text, g.display_name, g.strategy, array_to_string(g.skill_tags, ','), "
    "(EXTRACT(EPOCH FROM g.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM g.update_time) * 1000000)::bigint, g.version, g.relax_after_min";

const std::string& AgentColumns() {
  static const auto* columns = new std::string(absl::StrCat(
      "a.id::text, a.display_name, a.email, array_to_string(a.skills, ','), a.capacity, "
      "a.available, (EXTRACT(EPOCH FROM a.create_time) * 1000000)::bigint, "
      "(EXTRACT(EPOCH FROM a.update_time) * 1000000)::bigint, a.version, "
      "(SELECT string_agg(m.group_id::text, ',' ORDER BY m.group_id) FROM "
      "ticketing.group_members m WHERE m.tenant_id = a.tenant_id AND m.agent_id = a.id), "
      "(SELECT count(*) FROM ticketing.tickets t WHERE t.tenant_id = a.tenant_id AND "
      "t.assignee_id = a.id AND t.status IN ",
      kOpen, "), array_to_string(a.languages, ',')"));
  return *columns;
}

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"ticketing_insert_group",
       absl::StrCat("INSERT INTO ticketing.groups AS g (tenant_id, display_name, strategy, "
                    "skill_tags, relax_after_min) VALUES ($1, $2, $3, $4::text[], $5) RETURNING ",
                    kGroupColumns)},
      {"ticketing_group_name_taken",
       "SELECT 1 FROM ticketing.groups WHERE tenant_id = $1 AND lower(display_name) = lower($2) "
       "AND id::text <> $3"},
      {"ticketing_list_groups",
       absl::StrCat("SELECT ", kGroupColumns,
                    " FROM ticketing.groups g WHERE g.tenant_id = $1 ORDER BY "
                    "lower(g.display_name)")},
      {"ticketing_lock_group",
       absl::StrCat("SELECT ", kGroupColumns, ", COALESCE(g.last_agent::text, '')",
                    " FROM ticketing.groups g WHERE g.tenant_id = $1 AND g.id = $2::uuid FOR "
                    "UPDATE")},
      {"ticketing_update_group",
       absl::StrCat("UPDATE ticketing.groups g SET display_name = $3, strategy = $4, skill_tags "
                    "= $5::text[], relax_after_min = $6, update_time = now(), version = g.version "
                    "+ 1 WHERE g.tenant_id = $1 AND g.id = $2::uuid RETURNING ",
                    kGroupColumns)},
      {"ticketing_set_group_turn",
       "UPDATE ticketing.groups SET last_agent = $3::uuid WHERE tenant_id = $1 AND id = $2::uuid"},
      {"ticketing_existing_groups",
       "SELECT id::text FROM ticketing.groups WHERE tenant_id = $1 AND id = ANY($2::uuid[])"},
      {"ticketing_existing_agents",
       "SELECT id::text FROM ticketing.agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])"},
      {"ticketing_insert_agent",
       "INSERT INTO ticketing.agents (tenant_id, display_name, email, skills, capacity, "
       "available, languages) VALUES ($1, $2, $3, $4::text[], $5, $6, $7::text[]) RETURNING "
       "id::text"},
      {"ticketing_agent_email_taken",
       "SELECT 1 FROM ticketing.agents WHERE tenant_id = $1 AND $2 <> '' AND lower(email) = "
       "lower($2) AND id::text <> $3"},
      {"ticketing_get_agent",
       absl::StrCat("SELECT ", AgentColumns(),
                    " FROM ticketing.agents a WHERE a.tenant_id = $1 AND a.id = $2::uuid")},
      {"ticketing_list_agents",
       absl::StrCat("SELECT ", AgentColumns(),
                    " FROM ticketing.agents a WHERE a.tenant_id = $1 ORDER BY "
                    "lower(a.display_name), a.id")},
      {"ticketing_lock_agent",
       absl::StrCat("SELECT a.capacity, a.available, array_to_string(a.skills, ','), a.version, "
                    "(SELECT count(*) FROM ticketing.tickets t WHERE t.tenant_id = a.tenant_id "
                    "AND t.assignee_id = a.id AND t.status IN ",
                    kOpen,
                    "), array_to_string(a.languages, ',') FROM ticketing.agents a WHERE "
                    "a.tenant_id = $1 AND a.id = $2::uuid FOR UPDATE")},
      {"ticketing_update_agent",
       "UPDATE ticketing.agents a SET display_name = $3, email = $4, skills = $5::text[], "
       "capacity = $6, available = $7, languages = $8::text[], update_time = now(), version = "
       "a.version + 1 WHERE a.tenant_id = $1 AND a.id = $2::uuid"},
      {"ticketing_set_agent_groups",
       "WITH gone AS (DELETE FROM ticketing.group_members WHERE tenant_id = $1 AND agent_id = "
       "$2::uuid AND group_id <> ALL($3::uuid[])) INSERT INTO ticketing.group_members "
       "(tenant_id, group_id, agent_id) SELECT $1, g, $2::uuid FROM unnest($3::uuid[]) AS g ON "
       "CONFLICT DO NOTHING"},
      {"ticketing_is_member",
       "SELECT 1 FROM ticketing.group_members WHERE tenant_id = $1 AND group_id = $2::uuid AND "
       "agent_id = $3::uuid"},
      // A group's available agents in id order, locked in that order, with
      // their open tickets.
      {"ticketing_lock_group_agents",
       absl::StrCat("SELECT a.id::text, array_to_string(a.skills, ','), a.capacity, (SELECT "
                    "count(*) FROM ticketing.tickets t WHERE t.tenant_id = a.tenant_id AND "
                    "t.assignee_id = a.id AND t.status IN ",
                    kOpen,
                    "), array_to_string(a.languages, ',') FROM ticketing.agents a JOIN "
                    "ticketing.group_members m ON m.tenant_id = a.tenant_id AND m.agent_id = a.id "
                    "WHERE a.tenant_id = $1 AND m.group_id = $2::uuid AND a.available ORDER BY "
                    "a.id FOR UPDATE OF a")},
  };
  return *statements;
}

v1::Group GroupFromRow(const pqxx::row& row) {
  v1::Group g;
  g.set_name(absl::StrCat("groups/", row[0].as<std::string>()));
  g.set_display_name(row[1].as<std::string>());
  g.set_strategy(StrategyOf(row[2].as<std::string>()));
  for (const std::string& tag : db::SplitJoined(row[3].as<std::string>())) g.add_skill_tags(tag);
  *g.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[4].as<int64_t>());
  *g.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  g.set_etag(api::EtagOf(row[6].as<int64_t>()));
  g.set_relax_after_minutes(row[7].as<int32_t>());
  return g;
}

v1::Agent AgentFromRow(const pqxx::row& row) {
  v1::Agent a;
  a.set_name(absl::StrCat("agents/", row[0].as<std::string>()));
  a.set_display_name(row[1].as<std::string>());
  a.set_email(row[2].as<std::string>());
  for (const std::string& s : db::SplitJoined(row[3].as<std::string>())) a.add_skills(s);
  a.set_capacity(row[4].as<int32_t>());
  a.set_available(row[5].as<bool>());
  *a.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
  *a.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[7].as<int64_t>());
  a.set_etag(api::EtagOf(row[8].as<int64_t>()));
  for (const std::string& g : db::SplitJoined(row[9].is_null() ? "" : row[9].as<std::string>())) {
    a.add_groups(absl::StrCat("groups/", g));
  }
  a.set_open_tickets(row[10].as<int32_t>());
  for (const std::string& l : db::SplitJoined(row[11].as<std::string>())) a.add_languages(l);
  return a;
}

std::string Literal(const google::protobuf::RepeatedPtrField<std::string>& labels) {
  return db::TextArray({labels.begin(), labels.end()});
}

absl::Status GroupNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("groups/", id, " not found"));
}
absl::Status AgentNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("agents/", id, " not found"));
}

// The ids of an agent's groups; FAILED_PRECONDITION naming a missing one.
absl::StatusOr<std::vector<std::string>> GroupIds(db::Tx& tx, const std::string& tenant,
                                                  const v1::Agent& agent) {
  std::vector<std::string> ids;
  for (const std::string& name : agent.groups()) ids.push_back(name.substr(sizeof("groups/") - 1));
  const auto rows = db::Exec(tx, "ticketing_existing_groups", tenant, db::TextArray(ids));
  if (rows.size() != ids.size()) {
    for (const std::string& id : ids) {
      bool found = false;
      for (const auto& row : rows) found = found || row[0].as<std::string>() == id;
      if (!found) {
        return absl::FailedPreconditionError(
            absl::StrCat("agent.groups: groups/", id, " does not exist"));
      }
    }
  }
  return ids;
}

}  // namespace

RoutingStore::RoutingStore(db::Pool& pool) : pool_(pool) { pool_.Prepare(Statements()); }

absl::StatusOr<v1::Group> RoutingStore::CreateGroup(const server::CallScope& scope,
                                                    const v1::Group& group) {
  v1::Group created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (!db::Exec(tx, "ticketing_group_name_taken", scope.tenant, group.display_name(), "")
             .empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("group.display_name: \"", group.display_name(), "\" already exists"));
    }
    created = GroupFromRow(db::Exec(tx, "ticketing_insert_group", scope.tenant,
                                    group.display_name(), StrategyText(group.strategy()),
                                    Literal(group.skill_tags()), group.relax_after_minutes())[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::ListGroupsResponse> RoutingStore::ListGroups(const server::CallScope& scope) {
  v1::ListGroupsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_groups", scope.tenant)) {
      *response.add_groups() = GroupFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Group> RoutingStore::UpdateGroup(const server::CallScope& scope,
                                                    const std::string& id, const v1::Group& group) {
  v1::Group updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_lock_group", scope.tenant, id);
    if (rows.empty()) return GroupNotFound(id);
    CRM_RETURN_IF_ERROR(api::CheckEtag(group.etag(), GroupFromRow(rows[0]).etag(), "group"));
    if (!db::Exec(tx, "ticketing_group_name_taken", scope.tenant, group.display_name(), id)
             .empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("group.display_name: \"", group.display_name(), "\" already exists"));
    }
    updated = GroupFromRow(db::Exec(tx, "ticketing_update_group", scope.tenant, id,
                                    group.display_name(), StrategyText(group.strategy()),
                                    Literal(group.skill_tags()), group.relax_after_minutes())[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::StatusOr<v1::Agent> RoutingStore::CreateAgent(const server::CallScope& scope,
                                                    const v1::Agent& agent) {
  v1::Agent created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (!db::Exec(tx, "ticketing_agent_email_taken", scope.tenant, agent.email(), "").empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("agent.email: ", agent.email(), " is another agent's"));
    }
    CRM_ASSIGN_OR_RETURN(std::vector<std::string> groups, GroupIds(tx, scope.tenant, agent));
    const std::string id =
        db::Exec(tx, "ticketing_insert_agent", scope.tenant, agent.display_name(), agent.email(),
                 Literal(agent.skills()), agent.capacity(), agent.available(),
                 Literal(agent.languages()))[0][0]
            .as<std::string>();
    db::Exec(tx, "ticketing_set_agent_groups", scope.tenant, id, db::TextArray(groups));
    created = AgentFromRow(db::Exec(tx, "ticketing_get_agent", scope.tenant, id)[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::Agent> RoutingStore::GetAgent(const server::CallScope& scope,
                                                 const std::string& id) {
  v1::Agent found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "ticketing_get_agent", scope.tenant, id);
    if (rows.empty()) return AgentNotFound(id);
    found = AgentFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListAgentsResponse> RoutingStore::ListAgents(const server::CallScope& scope) {
  v1::ListAgentsResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    response.Clear();
    for (const auto& row : db::Exec(tx, "ticketing_list_agents", scope.tenant)) {
      *response.add_agents() = AgentFromRow(row);
    }
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Agent> RoutingStore::UpdateAgent(db::Tx& tx, const std::string& tenant,
                                                    const std::string& id, const v1::Agent& agent) {
  auto locked = db::Exec(tx, "ticketing_lock_agent", tenant, id);
  if (locked.empty()) return AgentNotFound(id);
  CRM_RETURN_IF_ERROR(
      api::CheckEtag(agent.etag(), api::EtagOf(locked[0][3].as<int64_t>()), "agent"));
  if (!db::Exec(tx, "ticketing_agent_email_taken", tenant, agent.email(), id).empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("agent.email: ", agent.email(), " is another agent's"));
  }
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> groups, GroupIds(tx, tenant, agent));
  db::Exec(tx, "ticketing_update_agent", tenant, id, agent.display_name(), agent.email(),
           Literal(agent.skills()), agent.capacity(), agent.available(),
           Literal(agent.languages()));
  db::Exec(tx, "ticketing_set_agent_groups", tenant, id, db::TextArray(groups));
  return AgentFromRow(db::Exec(tx, "ticketing_get_agent", tenant, id)[0]);
}

absl::Status RoutingStore::CheckGroup(db::Tx& tx, const std::string& tenant,
                                      const std::string& group_id) {
  if (db::Exec(tx, "ticketing_existing_groups", tenant, db::TextArray({group_id})).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("group: groups/", group_id, " does not exist"));
  }
  return absl::OkStatus();
}

absl::Status RoutingStore::CheckAgentsExist(db::Tx& tx, const std::string& tenant,
                                            const std::vector<std::string>& agents,
                                            absl::string_view field) {
  if (agents.empty()) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const std::string& name : agents) ids.push_back(IdOf(name));
  std::set<std::string> found;
  for (const auto& row : db::Exec(tx, "ticketing_existing_agents", tenant, db::TextArray(ids))) {
    found.insert(row[0].as<std::string>());
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (found.count(ids[i]) == 0) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", agents[i], " does not exist"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RoutingStore::Route(db::Tx& tx, const std::string& tenant,
                                                const std::string& group_id,
                                                const std::vector<std::string>& tags,
                                                const std::string& language, bool relaxed) {
  auto group = db::Exec(tx, "ticketing_lock_group", tenant, group_id);
  if (group.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("group: groups/", group_id, " does not exist"));
  }
  const v1::Group g = GroupFromRow(group[0]);
  const std::string last_agent = group[0][8].as<std::string>();
  std::vector<AgentLoad> agents;
  for (const auto& row : db::Exec(tx, "ticketing_lock_group_agents", tenant, group_id)) {
    AgentLoad a;
    a.id = row[0].as<std::string>();
    a.skills = AgentSkills(db::SplitJoined(row[1].as<std::string>()),
                           db::SplitJoined(row[4].as<std::string>()));
    a.capacity = row[2].as<int>();
    a.open = row[3].as<int>();
    agents.push_back(std::move(a));
  }
  const std::string chosen =
      relaxed ? PickAgentRelaxed(agents, last_agent)
              : PickAgent(
                    g.strategy(), agents, last_agent,
                    RequiredSkills(tags, {g.skill_tags().begin(), g.skill_tags().end()}, language));
  if (!chosen.empty()) db::Exec(tx, "ticketing_set_group_turn", tenant, group_id, chosen);
  return chosen;
}

absl::Status RoutingStore::CheckAssignable(db::Tx& tx, const std::string& tenant,
                                           const std::string& agent_id, const std::string& group_id,
                                           const std::string& field) {
  auto rows = db::Exec(tx, "ticketing_lock_agent", tenant, agent_id);
  if (rows.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": agents/", agent_id, " does not exist"));
  }
  if (!rows[0][1].as<bool>()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": agents/", agent_id, " is not available"));
  }
  if (rows[0][4].as<int>() >= rows[0][0].as<int>()) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": agents/", agent_id, " is at capacity (", rows[0][0].as<int>(), " open tickets)"));
  }
  if (!group_id.empty() &&
      db::Exec(tx, "ticketing_is_member", tenant, group_id, agent_id).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": agents/", agent_id, " does not work groups/", group_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> RoutingStore::OverCapacity(db::Tx& tx, const std::string& tenant,
                                                const std::string& agent_id) {
  auto rows = db::Exec(tx, "ticketing_lock_agent", tenant, agent_id);
  if (rows.empty()) return false;
  const int open = rows[0][4].as<int>();
  return open > rows[0][0].as<int>() || (!rows[0][1].as<bool>() && open > 0);
}

absl::StatusOr<v1::Agent> RoutingStore::GetAgentInTx(db::Tx& tx, const std::string& tenant,
                                                     const std::string& id) {
  auto rows = db::Exec(tx, "ticketing_get_agent", tenant, id);
  if (rows.empty()) return AgentNotFound(id);
  return AgentFromRow(rows[0]);
}

absl::StatusOr<int> RoutingStore::FreeCapacity(db::Tx& tx, const std::string& tenant,
                                               const std::string& agent_id,
                                               std::vector<std::string>* skills) {
  auto rows = db::Exec(tx, "ticketing_lock_agent", tenant, agent_id);
  if (rows.empty() || !rows[0][1].as<bool>()) return 0;
  if (skills != nullptr) {
    *skills = AgentSkills(db::SplitJoined(rows[0][2].as<std::string>()),
                          db::SplitJoined(rows[0][5].as<std::string>()));
  }
  return std::max(0, rows[0][0].as<int>() - rows[0][4].as<int>());
}

}  // namespace crm::ticketing
