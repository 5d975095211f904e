// The SLA engine over the database: in each transaction that changes a
// ticket it chooses the ticket's policy, moves its clocks (sla_clock.h) and
// stores them with the ticket; its scheduler fires warnings and breaches as
// they fall due, across tenants, exactly once with any number of replicas.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "crm/ticketing/v1/ticket.pb.h"
#include "services/ticketing/sla_clock.h"

namespace crm::ticketing {

class SlaEngine {
 public:
  // Prepares its statements on `pool`.
  explicit SlaEngine(db::Pool& pool);

  // In the transaction that changed `ticket` (written, and its row locked):
  // chooses its policy, moves its clocks through `change`, stores them and
  // the ticket's SLA columns, appends `sla.breached` for breaches this
  // change is the first to see, and sets `ticket->sla`.
  absl::Status Apply(db::Tx& tx, const std::string& tenant, v1::Ticket* ticket,
                     const SlaChange& change, bool created = false);

  struct Fired {
    int64_t clocks = 0;  // taken this step
    int64_t warnings = 0;
    int64_t breaches = 0;
    // When the next clock falls due; unset when none is waiting.
    std::optional<absl::Time> next;
  };
  // The scheduler's step: fires up to `batch` warnings and breaches due by
  // `now`, across tenants, each with its event in its tenant's feed, in one
  // transaction (FOR UPDATE SKIP LOCKED: replicas take disjoint clocks).
  absl::StatusOr<Fired> FireDue(absl::Time now, int batch);

  // The scheduler as a kit loop (ServiceRuntime::AddLoop): fires what is
  // due, then waits until the next due time, at most `poll`.
  absl::StatusOr<absl::Duration> Step(absl::Duration poll, int batch = 500);

 private:
  db::Pool& pool_;
};

// SQL of a scalar subquery giving the clocks of ticket `t` (an alias of
// ticketing.tickets) as text for ParseSlaClocks.
std::string SlaClocksOfTicketSql();
// The clocks as SlaClocksOfTicketSql gives them.
std::vector<SlaTimer> ParseSlaClocks(absl::string_view text);

}  // namespace crm::ticketing
