// The transactional outbox every service keeps in its own schema as
// `<schema>.outbox` (see docs/events.md for the DDL each service's migration
// creates). Events are appended inside the transaction of the change, so a
// committed change always has its event and a rolled-back one never.
//
// Cursors are (transaction id, sequence) pairs and events are read only
// below the oldest transaction still running, so a reader that follows the
// cursor never skips an event that commits late.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "crm/events/v1/event_feed.pb.h"

namespace crm::events {

struct Cursor {
  uint64_t tx = 0;
  int64_t seq = 0;
  bool operator<(const Cursor& o) const { return tx < o.tx || (tx == o.tx && seq < o.seq); }
  bool operator==(const Cursor& o) const { return tx == o.tx && seq == o.seq; }
  bool operator<=(const Cursor& o) const { return *this < o || *this == o; }
};

std::string FormatCursor(const Cursor& c);
// Empty → the start; malformed → INVALID_ARGUMENT naming after_cursor.
absl::StatusOr<Cursor> ParseCursor(absl::string_view text);

// The cursor a snapshot is consistent with (snapshot-then-stream): called in
// the REPEATABLE READ transaction that reads the snapshot. Every event of a
// transaction the snapshot cannot see comes after it; events after it may
// also be ones the snapshot holds (transactions that committed while older
// ones still ran), so a reader applies them again, in order and
// idempotently.
Cursor SnapshotCursor(db::Tx& tx);

// NOTIFY channel the service's writers signal and its feed listens on.
std::string NotifyChannel(absl::string_view schema);

// Appends an event in `tx`; `payload` is packed into google.protobuf.Any.
void AppendEvent(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                 absl::string_view type, absl::string_view subject,
                 const google::protobuf::Message& payload);

struct PendingEvent {
  std::string type;
  std::string subject;
  const google::protobuf::Message* payload;
};

// Appends many events with one statement and one notification.
void AppendEvents(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                  const std::vector<PendingEvent>& events);

struct ReadResult {
  std::vector<crm::events::v1::Event> events;
  // True when committed events exist after the last returned one that cannot
  // be released yet because an older transaction is still running.
  bool held_back = false;
  // True when retention removed events after `after`: the reader has missed
  // them and gets nothing (the feed answers OUT_OF_RANGE).
  bool pruned = false;
};

// Reads up to `limit` events of `tenant` after `after`, in commit-safe order.
ReadResult ReadEvents(db::Tx& tx, absl::string_view schema, absl::string_view tenant,
                      const Cursor& after, int limit);

// Retention: removes events older than `retention`, across tenants, oldest
// first, in transactions of `batch` events, and records for each tenant the
// newest event removed (<schema>.outbox_pruned), so that a reader behind it
// is told instead of silently skipping. Returns how many it removed.
absl::StatusOr<int64_t> PruneOutbox(db::Pool& pool, const std::string& schema,
                                    absl::Duration retention, int batch = 1000);

}  // namespace crm::events
