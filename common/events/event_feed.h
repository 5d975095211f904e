// A service's event feed over its outbox, served as
// crm.<svc>.v1.EventFeedService/Subscribe (FeedService<> below adapts it to
// the service's generated feed). One listener connection per process waits
// on LISTEN/NOTIFY; streams hold no thread while idle: a notification wakes
// the streams of that tenant, which read the outbox on the shared executor
// and write with the callback API.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/db/listener.h"
#include "common/db/pool.h"
#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/events/v1/event_feed.pb.h"

namespace crm::events {

class FeedStream;

class EventFeed {
 public:
  // `listen_url` is a connection string for the dedicated LISTEN connection.
  EventFeed(db::Pool& pool, server::Executor& executor, std::string schema, std::string listen_url);
  ~EventFeed();

  // Starts the listener thread.
  void Start();
  // Ends every open stream with UNAVAILABLE (clients resume from their
  // cursor elsewhere) and stops the listener. Call before server shutdown.
  void Stop();

  // The Subscribe handler of every feed service.
  grpc::ServerWriteReactor<crm::events::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const crm::events::v1::SubscribeRequest* request);

  // For FeedStream.
  void Register(FeedStream* stream);
  void Unregister(FeedStream* stream);
  db::Pool& pool() { return pool_; }
  server::Executor& executor() { return executor_; }
  const std::string& schema() const { return schema_; }

 private:
  void WakeAll(const std::string* tenant_or_null, bool only_retrying);

  db::Pool& pool_;
  server::Executor& executor_;
  const std::string schema_;
  const std::string listen_url_;
  std::mutex mu_;
  std::set<FeedStream*> streams_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<db::Listener> listener_;
};

// Serves `feed` as a service's own generated feed service `Svc` (e.g.
// crm::customer::v1::EventFeedService), whose Subscribe takes the
// crm.events.v1 messages.
template <typename Svc>
class FeedService final : public Svc::CallbackService {
 public:
  explicit FeedService(EventFeed& feed) : feed_(feed) {}
  grpc::ServerWriteReactor<crm::events::v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::events::v1::SubscribeRequest* request) override {
    return feed_.Subscribe(context, request);
  }

 private:
  EventFeed& feed_;
};

}  // namespace crm::events
