// A tenant's rules (triggers) and the audit of their firings in the
// `ticketing` schema (RuleService). Rules arrive validated (ValidateRule);
// the store checks what needs the database: that the groups, agents and
// custom statuses their actions name exist, the tenant's rule limit, and
// etags. TicketStore runs them (ticket_store_rules.cc) through RulesFor and
// Record, in the transaction of the change that fires them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/ticketing/v1/rule_service.pb.h"
#include "services/ticketing/routing_store.h"

namespace crm::ticketing {

inline constexpr int kMaxRulesPerTenant = 200;

class RuleStore {
 public:
  RuleStore(db::Pool& pool, api::PageTokenCodec tokens, RoutingStore& routing);

  absl::StatusOr<v1::Rule> Create(const server::CallScope& scope, const v1::Rule& rule);
  absl::StatusOr<v1::Rule> Get(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListRulesResponse> List(const server::CallScope& scope);
  absl::StatusOr<v1::Rule> Update(const server::CallScope& scope, const std::string& id,
                                  const v1::Rule& rule);
  absl::Status Delete(const server::CallScope& scope, const std::string& id,
                      const std::string& etag);
  // `collection` is "tickets" or "rules", `id` its id.
  absl::StatusOr<v1::ListRuleFiringsResponse> ListFirings(const server::CallScope& scope,
                                                          const std::string& collection,
                                                          const std::string& id, int page_size,
                                                          const std::string& page_token);

  // The tenant's enabled rules considered for `trigger`, in order.
  std::vector<v1::Rule> RulesFor(db::Tx& tx, const std::string& tenant, v1::RuleTrigger trigger);
  // Keeps `firing` in the audit and publishes it as `rule.fired`; returns it
  // with its name and time.
  v1::RuleFiring Record(db::Tx& tx, const std::string& tenant, v1::RuleFiring firing);

 private:
  absl::Status CheckReferences(db::Tx& tx, const std::string& tenant, const v1::Rule& rule);

  db::Pool& pool_;
  api::PageTokenCodec tokens_;
  RoutingStore& routing_;
};

}  // namespace crm::ticketing
