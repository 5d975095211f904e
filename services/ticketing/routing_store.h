// Groups and agents in the `ticketing` schema (RoutingService), and the
// routing steps a ticket's transaction takes: choosing an agent in a group,
// checking that an agent may take one more ticket. Every step that gives an
// agent a ticket holds the agent's row lock while it counts the agent's
// open tickets, so no agent ever goes above capacity.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/ticketing/v1/routing_service.pb.h"

namespace crm::ticketing {

class RoutingStore {
 public:
  explicit RoutingStore(db::Pool& pool);

  // `group` prepared (PrepareGroup).
  absl::StatusOr<v1::Group> CreateGroup(const server::CallScope& scope, const v1::Group& group);
  absl::StatusOr<v1::ListGroupsResponse> ListGroups(const server::CallScope& scope);
  absl::StatusOr<v1::Group> UpdateGroup(const server::CallScope& scope, const std::string& id,
                                        const v1::Group& group);
  // `agent` prepared (PrepareAgent).
  absl::StatusOr<v1::Agent> CreateAgent(const server::CallScope& scope, const v1::Agent& agent);
  absl::StatusOr<v1::Agent> GetAgent(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListAgentsResponse> ListAgents(const server::CallScope& scope);
  // Writes the agent; the caller (TicketStore::UpdateAgent) hands back and
  // re-routes tickets in the same transaction.
  absl::StatusOr<v1::Agent> UpdateAgent(db::Tx& tx, const std::string& tenant,
                                        const std::string& id, const v1::Agent& agent);

  // In a ticket's transaction. FAILED_PRECONDITION when group `group_id`
  // does not exist.
  absl::Status CheckGroup(db::Tx& tx, const std::string& tenant, const std::string& group_id);
  // FAILED_PRECONDITION naming `field` and the first of `agents`
  // (`agents/{id}`) that does not exist.
  absl::Status CheckAgentsExist(db::Tx& tx, const std::string& tenant,
                                const std::vector<std::string>& agents, absl::string_view field);
  // The agent of group `group_id` a ticket with `tags` goes to by the
  // group's strategy ("" when nobody may take it now), its row locked;
  // advances the group's turn. `relaxed`: skills no longer count.
  absl::StatusOr<std::string> Route(db::Tx& tx, const std::string& tenant,
                                    const std::string& group_id,
                                    const std::vector<std::string>& tags,
                                    const std::string& language, bool relaxed = false);
  // OK when agent `agent_id` exists, is available, is below capacity and,
  // when `group_id` is set, works that group; its row locked.
  // FAILED_PRECONDITION naming `field` otherwise.
  absl::Status CheckAssignable(db::Tx& tx, const std::string& tenant, const std::string& agent_id,
                               const std::string& group_id, const std::string& field);
  // How many more tickets agent `agent_id` may take now (0 when
  // unavailable), its row locked; and its skills.
  absl::StatusOr<int> FreeCapacity(db::Tx& tx, const std::string& tenant,
                                   const std::string& agent_id, std::vector<std::string>* skills);
  // Whether agent `agent_id` holds more open tickets than its capacity, or
  // any while unavailable; its row locked.
  absl::StatusOr<bool> OverCapacity(db::Tx& tx, const std::string& tenant,
                                    const std::string& agent_id);
  absl::StatusOr<v1::Agent> GetAgentInTx(db::Tx& tx, const std::string& tenant,
                                         const std::string& id);

 private:
  db::Pool& pool_;
};

}  // namespace crm::ticketing
