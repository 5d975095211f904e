// Support and engagement facts in the `analytics` schema: tickets, their
// SLA outcomes and breaches from the ticketing feed; messages with the
// delivery steps they reached and unsubscribes from the interaction feed;
// when customers were created, from the customer feed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/analytics/v1/engagement.pb.h"
#include "crm/events/v1/event_feed.pb.h"
#include "crm/interaction/v1/conversation.pb.h"
#include "crm/interaction/v1/delivery.pb.h"
#include "crm/ticketing/v1/ticket.pb.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {

// A ticket as the support report reads it.
struct TicketFact {
  std::string group;
  std::string assignee;
  absl::Time create;
  std::optional<absl::Time> first_response;
  std::optional<absl::Time> solve;
  // When it stopped being open (solved, closed or merged), by its current
  // state; nullopt while it is open.
  std::optional<absl::Time> done;
  std::optional<int64_t> first_reply_business_seconds;
  std::optional<int64_t> resolution_business_seconds;
  std::optional<bool> csat_satisfied;
  std::optional<absl::Time> csat_time;
};

// One SLA target met or missed, with its ticket's group and assignee.
struct SlaOutcomeFact {
  std::string group;
  std::string assignee;
  std::string metric;
  absl::Time when;
  bool breached = false;
};

// The figures StreamKpis pushes, for one tenant and day.
struct KpiCounts {
  struct Sales {
    std::string currency_code;
    int64_t orders = 0;
    int64_t revenue_minor = 0;  // totals less refunds
  };
  std::vector<Sales> revenue;  // per currency, most orders first
  int64_t new_customers = 0;
  int64_t open_tickets = 0;
  int64_t sla_breaches = 0;
  int64_t messages = 0;
  v1::Freshness freshness;
};

// The Postgres channel the feeds' effects notify with the tenant whose
// figures changed (KpiHub listens).
inline constexpr char kKpiChannel[] = "crm_analytics_kpis";

class ActivityStore {
 public:
  // `facts` records how fresh each source is.
  ActivityStore(db::Pool& pool, FactStore& facts);

  // Applied in the event's tenant's transaction, like
  // FactStore::ApplyCustomerEvent.
  absl::Status ApplyTicketingEvent(db::Tx& tx, const crm::events::v1::Event& event);
  absl::Status ApplyInteractionEvent(db::Tx& tx, const crm::events::v1::Event& event);
  // The facts of one record of a producer's snapshot (SnapshotRebuild), as
  // the events that announced it leave them; the event paths use them too.
  void LoadTicket(db::Tx& tx, const std::string& tenant, const crm::ticketing::v1::Ticket& ticket);
  // A missed target also counts as the breach sla.breached announced.
  void LoadSlaOutcome(db::Tx& tx, const std::string& tenant,
                      const crm::ticketing::v1::SlaOutcome& outcome);
  // `m.create_time` set.
  void LoadMessage(db::Tx& tx, const std::string& tenant, const crm::interaction::v1::Message& m);
  // `u.create_time` set.
  void LoadUnsubscribe(db::Tx& tx, const std::string& tenant,
                       const crm::interaction::v1::Unsubscribe& u);
  // customer.created records the customer; customer.erased pseudonymises.
  absl::Status ApplyCustomerEvent(db::Tx& tx, const crm::events::v1::Event& event);
  // Notifies kKpiChannel that `tenant`'s figures changed, when `tx`
  // commits.
  void Changed(db::Tx& tx, const std::string& tenant);

  // Tickets that matter to [start, end): created before `end` and not done
  // before `start`, or answered, solved or rated in the period; merged
  // tickets are left out. `group` ('' for all) narrows them.
  struct SupportFacts {
    std::vector<TicketFact> tickets;
    std::vector<SlaOutcomeFact> outcomes;  // in [start, end)
    int64_t breaches = 0;                  // sla.breached due in [start, end)
  };
  absl::StatusOr<SupportFacts> Support(const server::CallScope& scope, absl::Time start,
                                       absl::Time end, const std::string& group);

  // Outbound messages created in [start, end) per channel and per channel
  // and template (counts only; the rates are EngagementRates'), and the
  // inbound messages received. `purpose` is MARKETING, TRANSACTIONAL or ''.
  struct Engagement {
    std::vector<v1::EngagementFigures> channels;
    std::vector<v1::EngagementFigures> templates;
    int64_t received = 0;
  };
  absl::StatusOr<Engagement> EngagementIn(const server::CallScope& scope, absl::Time start,
                                          absl::Time end, const std::string& purpose);

  // The dashboard figures of `tenant` since `day_start` (orders and
  // revenue per currency, new customers, SLA breaches, messages),
  // and the tickets open now.
  absl::StatusOr<KpiCounts> Kpis(const std::string& tenant, absl::Time day_start);

 private:
  db::Pool& pool_;
  FactStore& facts_;
};

// The rates of `f` from its counts (0 when a denominator is 0).
void EngagementRates(v1::EngagementFigures* f);

}  // namespace crm::analytics
