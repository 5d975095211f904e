// crm.events.v1.EventFeed over a service's outbox. One listener connection
// per process waits on LISTEN/NOTIFY; streams hold no thread while idle:
// a notification wakes the streams of that tenant, which read the outbox on
// the shared executor and write with the callback API.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/db/pool.h"
#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/events/v1/event_feed.grpc.pb.h"

namespace crm::events {

class FeedStream;

class EventFeedService final : public crm::events::v1::EventFeed::CallbackService {
 public:
  // `listen_url` is a connection string for the dedicated LISTEN connection.
  EventFeedService(db::Pool& pool, server::Executor& executor, std::string schema,
                   std::string listen_url);
  ~EventFeedService() override;

  // Starts the listener thread.
  void Start();
  // Ends every open stream with UNAVAILABLE (clients resume from their
  // cursor elsewhere) and stops the listener. Call before server shutdown.
  void Stop();

  grpc::ServerWriteReactor<crm::events::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::events::v1::SubscribeRequest* request) override;

  // For FeedStream.
  void Register(FeedStream* stream);
  void Unregister(FeedStream* stream);
  db::Pool& pool() { return pool_; }
  server::Executor& executor() { return executor_; }
  const std::string& schema() const { return schema_; }

 private:
  void ListenLoop();
  void WakeAll(const std::string* tenant_or_null, bool only_retrying);

  db::Pool& pool_;
  server::Executor& executor_;
  const std::string schema_;
  const std::string listen_url_;
  std::mutex mu_;
  std::set<FeedStream*> streams_;
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

}  // namespace crm::events
