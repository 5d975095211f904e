// Tickets and their comments in the `ticketing` schema, tenant-scoped by
// row-level security; every change appends its event to the outbox in the
// same transaction.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/filter.h"
#include "common/api/page_token.h"
#include "common/db/idempotency.h"
#include "common/db/pool.h"
#include "common/db/reader.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/events/v1/event_feed.pb.h"
#include "crm/ticketing/v1/rule.pb.h"
#include "crm/ticketing/v1/ticket_service.pb.h"
#include "services/ticketing/routing_store.h"
#include "services/ticketing/rule_store.h"
#include "services/ticketing/sla_engine.h"

namespace crm::ticketing {

// A call's `request_id` and the fingerprint of its request: a retry with
// the id returns the first answer (db::Idempotency).
struct RequestKey {
  std::string id;
  std::string hash;
};

class TicketStore {
 public:
  TicketStore(db::Pool& pool, db::Reader& reader, api::PageTokenCodec tokens, SlaEngine& sla,
              RoutingStore& routing, RuleStore& rules);

  // `ticket` is prepared (PrepareNewTicket); `request_hash` fingerprints
  // the request for request_id reuse checks.
  absl::StatusOr<v1::Ticket> Create(const server::CallScope& scope, v1::Ticket ticket,
                                    const std::string& request_id, const std::string& request_hash);
  // Without a worker thread: `done` runs on the db::Reader's thread.
  void Get(const server::CallScope& scope, const std::string& id,
           std::function<void(absl::StatusOr<v1::Ticket>)> done);
  // The same from a worker thread.
  absl::StatusOr<v1::Ticket> Find(const server::CallScope& scope, const std::string& id);
  // UpdateTicket: `patch` validated (ValidateTicketUpdate) for `paths`;
  // its etag, when set, must be current.
  absl::StatusOr<v1::Ticket> Update(const server::CallScope& scope, const std::string& id,
                                    const v1::Ticket& patch, const std::vector<std::string>& paths);
  absl::StatusOr<v1::ListTicketsResponse> List(const server::CallScope& scope,
                                               const v1::ListTicketsRequest& request);
  // To category `status`, or to custom status `custom_status_id` (its
  // category; `status` then unset or the same).
  absl::StatusOr<v1::Ticket> ChangeStatus(const server::CallScope& scope, const std::string& id,
                                          v1::Status status, const std::string& custom_status_id,
                                          const std::string& etag, const RequestKey& key = {});
  // `status` is validated (label, category).
  absl::StatusOr<v1::CustomStatus> CreateCustomStatus(const server::CallScope& scope,
                                                      const v1::CustomStatus& status);
  absl::StatusOr<v1::ListCustomStatusesResponse> ListCustomStatuses(const server::CallScope& scope);
  // Custom ticket fields (ticket_store_fields.cc); `field` validated
  // (ValidateTicketField).
  absl::StatusOr<v1::TicketField> CreateField(const server::CallScope& scope,
                                              const v1::TicketField& field);
  absl::StatusOr<v1::ListTicketFieldsResponse> ListFields(const server::CallScope& scope);
  // `comment` is validated (ValidateComment).
  absl::StatusOr<v1::Comment> AddComment(const server::CallScope& scope,
                                         const std::string& ticket_id, v1::Comment comment,
                                         const std::string& request_id,
                                         const std::string& request_hash);
  // AddComment's work in a transaction of `tenant` (also for the
  // interaction feed's customer messages).
  absl::StatusOr<v1::Comment> AddCommentInTx(db::Tx& tx, const std::string& tenant,
                                             const std::string& ticket_id,
                                             const v1::Comment& comment);
  // The effect of an interaction feed event (message.received on a
  // conversation a ticket came from: the customer's public comment on the
  // ticket), in the consumer's transaction (ticket_store_customers.cc).
  absl::Status ApplyInteractionEvent(db::Tx& tx, const crm::events::v1::Event& event);
  // AssignTicket (ticket_store_routing.cc): `group_id` and/or `agent_id`.
  absl::StatusOr<v1::Ticket> Assign(const server::CallScope& scope, const std::string& id,
                                    const std::string& group_id, const std::string& agent_id,
                                    const std::string& etag, const RequestKey& key = {});
  // EscalateTicket: `reason` validated; `priority` UNSPECIFIED for one step
  // up; `group_id` optional.
  absl::StatusOr<v1::Ticket> Escalate(const server::CallScope& scope, const std::string& id,
                                      v1::Priority priority, const std::string& group_id,
                                      const std::string& reason, const std::string& etag,
                                      const RequestKey& key = {});
  // UpdateAgent: writes the agent, hands back the tickets it may no longer
  // hold (re-routed in their groups) and gives it waiting ones it now has
  // room for, in one transaction.
  absl::StatusOr<v1::Agent> UpdateAgent(const server::CallScope& scope, const std::string& id,
                                        const v1::Agent& agent);
  // The routing loop's step: tickets of skills groups that waited their
  // group's relax time go to any agent of the group with room, across
  // tenants, each in its tenant's transaction. Returns the wait until the
  // next step.
  absl::StatusOr<absl::Duration> RelaxWaiting(int batch);
  // Gives agent `id` the waiting tickets it has room for.
  absl::Status DrainAgent(const server::CallScope& scope, const std::string& id);
  // SubmitSatisfactionRating: `rating` validated (ValidateRating).
  absl::StatusOr<v1::SatisfactionRating> Rate(const server::CallScope& scope,
                                              const std::string& ticket_id,
                                              v1::SatisfactionRating rating,
                                              const std::string& request_id,
                                              const std::string& request_hash);
  // Folds ticket `source_id` into `target_id` (MergeTickets).
  absl::StatusOr<v1::MergeTicketsResponse> Merge(const server::CallScope& scope,
                                                 const std::string& source_id,
                                                 const std::string& target_id,
                                                 const RequestKey& key = {});
  // ExportTickets: every ticket and SLA outcome of the scope's tenant (or
  // of every tenant) as of one snapshot, through `emit`.
  absl::Status Export(const server::CallScope& scope, int batch,
                      const std::function<bool(const v1::ExportTicketsResponse&)>& emit);
  // Closes tickets solved longer than `after` ago, across tenants, in
  // batches of `batch`, each with its ticket.status_changed event; returns
  // how many it closed. Safe with several replicas (SKIP LOCKED).
  absl::StatusOr<int64_t> CloseSolved(absl::Duration after, int batch = 500);
  // The effect of a customer feed event (customer.erased, customer.merged,
  // customer.unmerged) in the consumer's transaction of its tenant
  // (ticket_store_customers.cc).
  absl::Status ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event);
  absl::StatusOr<v1::ListCommentsResponse> ListComments(const server::CallScope& scope,
                                                        const std::string& ticket_id,
                                                        const v1::ListCommentsRequest& request);

 private:
  db::Pool& pool_;
  db::Reader& reader_;
  api::PageTokenCodec tokens_;
  // Routing steps inside a ticket's transaction (ticket_store_routing.cc).
  absl::StatusOr<v1::Ticket> AssignInTx(db::Tx& tx, const std::string& tenant,
                                        const std::string& ticket_id, const std::string& group_id,
                                        const std::string& agent_id, bool publish = true);
  absl::StatusOr<v1::Ticket> RouteInTx(db::Tx& tx, const std::string& tenant,
                                       const v1::Ticket& ticket, const std::string& group_id,
                                       bool publish = true);
  absl::Status DrainInTx(db::Tx& tx, const std::string& tenant, const std::string& agent_id);
  // After `ticket` moved from `before`: a closed or solved ticket frees its
  // assignee's place; a reopened one that puts its assignee above capacity
  // goes back to its group.
  absl::Status AfterStatusChange(db::Tx& tx, const std::string& tenant, v1::Status before,
                                 v1::Ticket* ticket);

  // Rules (ticket_store_rules.cc): the tenant's rules for `trigger` over
  // `ticket` (written, its row locked, its own events appended), which
  // `method` changed from `before` (a default ticket on create), adding
  // `comment` (or none). Each firing is a change of its own: written, SLA
  // clocks moved, its events and `rule.fired` appended.
  absl::Status RunRules(db::Tx& tx, const std::string& tenant, v1::RuleTrigger trigger,
                        const char* method, const v1::Ticket& before, v1::Ticket* ticket,
                        const v1::Comment* comment = nullptr);
  // One rule's actions on `ticket`; returns the actions it had to skip, and
  // in `note` the internal note it added (empty when none).
  absl::StatusOr<std::vector<std::string>> MakeRuleActions(db::Tx& tx, const std::string& tenant,
                                                           const v1::Rule& rule, v1::Ticket* ticket,
                                                           std::string* note);

  // The tenant's ticket fields by key.
  std::map<std::string, v1::TicketField> FieldsOf(db::Tx& tx, const std::string& tenant);
  // That `ticket`'s custom field values fit the tenant's fields (`fields`)
  // and its followers exist (`followers`): INVALID_ARGUMENT or
  // FAILED_PRECONDITION naming the field.
  absl::Status CheckFieldsAndFollowers(db::Tx& tx, const std::string& tenant,
                                       const v1::Ticket& ticket, bool fields, bool followers);
  // `custom_fields.<key>` of each of the tenant's fields, for filters.
  std::vector<api::FilterField> CustomFieldFilters(db::Tx& tx, const std::string& tenant);

  db::Idempotency idempotency_;
  SlaEngine& sla_;
  RoutingStore& routing_;
  RuleStore& rules_;
};

}  // namespace crm::ticketing
