// The consumer side of an event feed: subscribes from the cursor stored in
// the consumer's own schema and applies each event in one transaction with
// the cursor update, so a redelivered event is never applied twice. The
// cursors live in <schema>.consumer_cursors, which the kit's migrations
// create in every service's schema (common/db/kit_migrations).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "crm/events/v1/event_feed.pb.h"

namespace crm::events {

struct ConsumerOptions {
  std::string schema;    // the consumer's own schema (holds consumer_cursors)
  std::string consumer;  // stable name, e.g. "campaign.customer-projection"
  // One tenant's events, or server::kAllTenants for every tenant's (one
  // cursor; each event is applied with app.tenant_id set to its tenant).
  std::string tenant;
  std::vector<std::string> types;  // empty: all
  // Snapshot-then-stream: when set, called before the first event (no
  // stored cursor) and whenever the feed answers OUT_OF_RANGE (retention
  // removed events the consumer had not read). It replaces what the
  // consumer built with a snapshot of the producer's state (an export RPC
  // that returns the feed cursor it is consistent with) and, in the same
  // transaction, stores that cursor with StoreCursor; the feed then goes on
  // from there.
  std::function<absl::Status()> rebuild;
};

// Stores `cursor` as the consumer's, in `tx` (locks the row as ApplyOne
// does, so an event being applied meanwhile waits and is then seen as
// applied or not by the new cursor).
void StoreCursor(db::Tx& tx, const std::string& schema, const std::string& tenant,
                 const std::string& consumer, const std::string& cursor);

using ApplyFn = std::function<absl::Status(db::Tx&, const crm::events::v1::Event&)>;

// Opens a Subscribe stream on one producer's feed.
using SubscribeFn =
    std::function<std::unique_ptr<grpc::ClientReaderInterface<crm::events::v1::SubscribeResponse>>(
        grpc::ClientContext*, const crm::events::v1::SubscribeRequest&)>;

// The feed of the producer whose generated feed service is `Feed` (e.g.
// crm::customer::v1::EventFeedService), reached over `channel`.
template <typename Feed>
SubscribeFn FeedOf(std::shared_ptr<grpc::Channel> channel) {
  std::shared_ptr<typename Feed::Stub> stub = Feed::NewStub(std::move(channel));
  return [stub](grpc::ClientContext* ctx, const crm::events::v1::SubscribeRequest& request)
             -> std::unique_ptr<grpc::ClientReaderInterface<crm::events::v1::SubscribeResponse>> {
    return stub->Subscribe(ctx, request);
  };
}

class FeedConsumer {
 public:
  FeedConsumer(SubscribeFn feed, db::Pool& pool, ConsumerOptions options, ApplyFn apply);

  // The stored cursor ("" before the first event).
  absl::StatusOr<std::string> StoredCursor();

  // Connects once from the stored cursor and applies events until
  // `max_events` were applied, `max_time` passed, `stop` became true, or
  // the stream broke. Returns how many events this call applied.
  absl::StatusOr<int> RunOnce(int max_events, absl::Duration max_time,
                              const std::atomic<bool>* stop = nullptr);

  // RunOnce in a loop with backoff until `stop` becomes true (set it, then
  // Cancel() to end a wait for the next event).
  void Run(const std::atomic<bool>& stop);
  // Ends the stream RunOnce is reading, if any.
  void Cancel();

 private:
  absl::Status Rebuild(absl::string_view why);
  // Applies one event and stores its cursor; false if it was a duplicate.
  absl::StatusOr<bool> ApplyOne(const crm::events::v1::Event& event);

  SubscribeFn feed_;
  db::Pool& pool_;
  ConsumerOptions options_;
  ApplyFn apply_;
  std::mutex mu_;
  grpc::ClientContext* active_ = nullptr;  // RunOnce's stream, under mu_
  bool cancelled_ = false;
};

}  // namespace crm::events
