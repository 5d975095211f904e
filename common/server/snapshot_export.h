// Snapshot exports (CustomerService.ExportOrders, TicketService.ExportTickets,
// ConversationService.ExportMessages): the first half of snapshot-then-stream.
// A consumer that has to rebuild what it derives from a service's feed reads
// the service's records as of one REPEATABLE READ snapshot, then follows the
// feed from the cursor the snapshot is consistent with, so a rebuild never
// depends on how long the feed keeps its events.
//
// Every export has the same shape: `batch_size` (1 to 5000, 0 for 1000),
// the caller's tenant or, for the suite's own services, every tenant (the
// kit's all-tenants header, read through the tables' housekeeping_read
// policies); messages of one kind of record and one tenant, in tenant and
// id order; the first message carries `feed_cursor`, alone when there is
// nothing to export.
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/status.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/server/call.h"
#include "common/server/executor.h"
#include "common/server/producer_stream.h"

namespace crm::server {

// Where each page of an export statement continues. Export statements take
// $1 a tenant or '*' (every tenant), ($2, $3) the tenant and id after which
// to go on, $4 the page size; kExportAfter is their WHERE clause's end for a
// table keyed by (tenant_id, id uuid).
inline constexpr char kExportAfter[] =
    "($1 = '*' OR tenant_id = $1) AND (tenant_id, id) > ($2, $3::uuid) ORDER BY tenant_id, id "
    "LIMIT $4";

// Builds an export's messages inside its snapshot transaction.
// `Response` has `feed_cursor` and `tenant` string fields.
template <typename Response>
class SnapshotPager {
 public:
  using Emit = std::function<bool(const Response&)>;
  using Add = std::function<void(const pqxx::row&, Response&)>;

  SnapshotPager(db::Tx& tx, std::string tenant, int batch, Emit emit)
      : tx_(tx), tenant_(std::move(tenant)), batch_(batch), emit_(std::move(emit)) {
    message_.set_feed_cursor(events::FormatCursor(events::SnapshotCursor(tx)));
  }

  // Pages through `statement` (see kExportAfter); `add` adds one row to the
  // message being made. Does nothing once the client is gone.
  void PageThrough(const std::string& statement, const Add& add, int tenant_column, int id_column) {
    std::string tenant, id = "00000000-0000-0000-0000-000000000000";
    while (open_) {
      const pqxx::result rows = db::Exec(tx_, statement, tenant_, tenant, id, batch_);
      for (const pqxx::row& row : rows) {
        const std::string row_tenant = row[tenant_column].as<std::string>();
        if (row_tenant != message_.tenant() && !message_.tenant().empty() && !Send()) return;
        message_.set_tenant(row_tenant);
        add(row, message_);
      }
      if (!message_.tenant().empty() && !Send()) return;
      if (rows.size() < static_cast<size_t>(batch_)) return;
      tenant = rows[rows.size() - 1][tenant_column].as<std::string>();
      id = rows[rows.size() - 1][id_column].as<std::string>();
    }
  }

  // After the last PageThrough: the cursor alone when nothing went out.
  void Finish() {
    if (open_ && !message_.feed_cursor().empty()) Send();
  }

 private:
  bool Send() {
    if (open_) open_ = emit_(message_);
    message_.Clear();
    return open_;
  }

  db::Tx& tx_;
  const std::string tenant_;
  const int batch_;
  const Emit emit_;
  Response message_;
  bool open_ = true;
};

// Runs an export in one read-only REPEATABLE READ transaction of the call's
// tenant (or, for kAllTenants, across tenants): `fill` pages through the
// export's statements with the pager; the stores call it.
template <typename Response>
absl::Status ExportSnapshot(db::Pool& pool, const CallScope& scope, int batch,
                            const typename SnapshotPager<Response>::Emit& emit,
                            const std::function<void(SnapshotPager<Response>&)>& fill) {
  db::TxOptions options = ReadTxFor(scope);
  options.isolation = db::Isolation::kRepeatableRead;
  options.max_attempts = 1;  // messages already sent cannot be taken back
  const bool all = scope.tenant == kAllTenants;
  if (all) {
    options.tenant.clear();
    options.housekeeping = true;
  }
  return db::RunInTransaction(pool, options, [&](db::Tx& tx) {
    SnapshotPager<Response> pager(tx, scope.tenant, batch, emit);
    fill(pager);
    pager.Finish();
    return absl::OkStatus();
  });
}

// Serves an export: validates `batch_size`, admits the all-tenants header,
// gives the call an hour unless the caller set a deadline, and runs
// `produce` (which calls ExportSnapshot) on the executor.
template <typename Response>
grpc::ServerWriteReactor<Response>* ServeSnapshotExport(
    grpc::CallbackServerContext* ctx, CallOptions options, Executor& executor, int batch_size,
    std::function<absl::Status(const CallScope&, int batch,
                               const typename SnapshotPager<Response>::Emit&)>
        produce) {
  using Stream = ProducerStream<Response>;
  if (batch_size < 0 || batch_size > 5000) {
    return RejectStream<grpc::ServerWriteReactor<Response>>(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "batch_size: 1 to 5000, or 0 for 1000"));
  }
  options.allow_all_tenants = true;
  options.default_deadline = absl::Hours(1);
  auto scope = MakeCallScope(ctx, options);
  if (!scope.ok()) {
    return RejectStream<grpc::ServerWriteReactor<Response>>(ToGrpcStatus(scope.status()));
  }
  const int batch = batch_size == 0 ? 1000 : batch_size;
  return new Stream(executor,
                    [scope = *std::move(scope), batch, produce = std::move(produce)](
                        const typename Stream::Emit& emit) { return produce(scope, batch, emit); });
}

}  // namespace crm::server
