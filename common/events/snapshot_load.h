// Snapshot-then-stream on the consumer's side (ConsumerOptions::rebuild):
// reads a producer's snapshot export for every tenant (server/
// snapshot_export.h) into what the consumer builds from that producer's
// feed, in one transaction that also moves the consumer's cursor to the
// snapshot's. What the consumer built stays visible until it commits; on
// any error nothing changes and the consumer tries again.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/consumer.h"
#include "common/server/call.h"

namespace crm::events {

// `Response` has `feed_cursor` and `tenant` string fields.
template <typename Response>
struct SnapshotLoad {
  std::string schema;    // the consumer's schema (its consumer_cursors)
  std::string consumer;  // the all-tenants consumer whose cursor moves
  std::string actor;     // x-crm-actor of the export call
  // Opens the export (every tenant: the call carries the all-tenants
  // header).
  std::function<std::unique_ptr<grpc::ClientReaderInterface<Response>>(grpc::ClientContext*)> open;
  // Before the first record: empties what is rebuilt, for every tenant.
  std::function<void(db::Tx&)> clear;
  // One message's records (all of one tenant, named by the message).
  std::function<absl::Status(db::Tx&, const Response&)> load;
  // After the last message, before the cursor is stored (may be empty).
  std::function<void(db::Tx&)> finish;
  // The whole load, the export included.
  absl::Duration within = absl::Hours(1);
};

// Runs `load`; returns how many messages it read.
template <typename Response>
absl::StatusOr<int64_t> LoadSnapshot(db::Pool& pool, const SnapshotLoad<Response>& load) {
  grpc::ClientContext ctx;
  ctx.AddMetadata(server::kAllTenantsHeader, "1");
  ctx.AddMetadata(server::kActorHeader, load.actor);
  const absl::Time deadline = absl::Now() + load.within;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  auto reader = load.open(&ctx);
  int64_t messages = 0;
  bool finished = false;
  db::TxOptions options = db::HousekeepingTx(deadline - absl::Now());
  options.max_attempts = 1;  // the stream cannot be read twice
  const absl::Status loaded = db::RunInTransaction(pool, options, [&](db::Tx& tx) {
    Response message;
    if (!reader->Read(&message)) {
      finished = true;
      const grpc::Status status = reader->Finish();
      return status.ok() ? absl::UnavailableError("the export ended without a message")
                         : FromGrpcStatus(status);
    }
    const std::string cursor = message.feed_cursor();
    if (cursor.empty()) {
      return absl::InternalError("the export's first message has no feed_cursor");
    }
    load.clear(tx);
    do {
      ++messages;
      if (message.tenant().empty()) {
        // Only the first message may be the cursor alone.
        if (messages > 1) return absl::InternalError("an export message names no tenant");
      } else if (!server::IsValidTenant(message.tenant())) {
        return absl::InternalError(
            absl::StrCat("an export message names tenant ", message.tenant(), ", not a valid one"));
      } else {
        CRM_RETURN_IF_ERROR(load.load(tx, message));
      }
      message.Clear();
    } while (reader->Read(&message));
    finished = true;
    CRM_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
    if (load.finish) load.finish(tx);
    // The consumer's row is the all-tenants one.
    tx.exec_params("SELECT set_config('app.tenant_id', $1, true)",
                   std::string(server::kAllTenants));
    StoreCursor(tx, load.schema, server::kAllTenants, load.consumer, cursor);
    return absl::OkStatus();
  });
  if (!loaded.ok()) {
    if (!finished) {
      ctx.TryCancel();
      reader->Finish();
    }
    return loaded;
  }
  return messages;
}

}  // namespace crm::events
