#include "common/events/event_feed.h"

#include <deque>
#include <exception>
#include <pqxx/pqxx>
#include <pqxx/transaction>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"

namespace crm::events {

using crm::events::v1::Event;
using crm::events::v1::SubscribeResponse;

namespace {
constexpr int kBatch = 500;
}

// One Subscribe stream. Lifetime: deleted when gRPC has called OnDone and no
// read task of ours is queued or running.
class FeedStream final : public grpc::ServerWriteReactor<SubscribeResponse> {
 public:
  FeedStream(EventFeed* service, server::CallScope scope, Cursor after, std::set<std::string> types)
      : service_(service), scope_(std::move(scope)), cursor_(after), types_(std::move(types)) {
    service_->Register(this);
    Wake();
  }

  const std::string& tenant() const { return scope_.tenant; }
  bool wants_retry() const { return retry_.load(); }

  // New events may exist: read unless a read is already under way.
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_ || finishing_) return;
    retry_.store(false);
    if (reading_ || !buffer_.empty() || writing_) {
      wake_pending_ = true;
      return;
    }
    StartReadLocked();
  }

  // Server is stopping: end the stream so the client reconnects elsewhere.
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "server shutting down; resume with the last cursor"));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
      return;
    }
    buffer_.pop_front();
    PumpLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
  }

  void OnDone() override {
    service_->Unregister(this);
    bool del;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      del = tasks_ == 0;
    }
    if (del) delete this;
  }

 private:
  void FinishLocked(grpc::Status status) {
    if (finishing_) return;
    finishing_ = true;
    Finish(std::move(status));
  }

  // Writes the next buffered event, or reads more when the buffer is empty
  // and more is known or suspected to be waiting.
  void PumpLocked() {
    if (finishing_ || writing_) return;
    if (!buffer_.empty()) {
      writing_ = true;
      StartWrite(&buffer_.front());
      return;
    }
    if (more_ || wake_pending_) {
      wake_pending_ = false;
      StartReadLocked();
    }
  }

  void StartReadLocked() {
    if (reading_ || finishing_) return;
    reading_ = true;
    ++tasks_;
    bool queued = service_->executor().TrySubmit([this] { ReadTask(); });
    if (!queued) {
      reading_ = false;
      --tasks_;
      retry_.store(true);  // the listener loop will wake us shortly
    }
  }

  void ReadTask() {
    Cursor from;
    {
      std::lock_guard<std::mutex> lock(mu_);
      from = cursor_;
    }
    ReadResult result;
    db::TxOptions options;
    options.tenant = scope_.tenant;
    options.read_only = true;
    options.deadline = absl::Now() + absl::Seconds(10);
    absl::Status status = db::RunInTransaction(service_->pool(), options, [&](db::Tx& tx) {
      result = ReadEvents(tx, service_->schema(), scope_.tenant, from, kBatch);
      return absl::OkStatus();
    });
    bool del = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = false;
      --tasks_;
      if (!done_ && !finishing_) {
        if (!status.ok()) {
          retry_.store(true);
        } else {
          if (result.pruned) {
            FinishLocked(grpc::Status(
                grpc::StatusCode::OUT_OF_RANGE,
                "after_cursor: events after it were removed by retention; rebuild from the "
                "producer's snapshot export, then subscribe after the cursor it returns"));
          }
          more_ = static_cast<int>(result.events.size()) == kBatch;
          if (result.held_back) retry_.store(true);
          for (auto& e : result.events) {
            auto parsed = ParseCursor(e.cursor());
            if (parsed.ok()) cursor_ = *parsed;
            if (!types_.empty() && types_.count(e.type()) == 0) continue;
            SubscribeResponse r;
            *r.mutable_event() = std::move(e);
            buffer_.push_back(std::move(r));
          }
          PumpLocked();
        }
      }
      del = done_ && tasks_ == 0;
    }
    if (del) delete this;
  }

  EventFeed* service_;
  const server::CallScope scope_;
  std::mutex mu_;
  Cursor cursor_;  // last event read (not necessarily written yet)
  const std::set<std::string> types_;
  std::deque<SubscribeResponse> buffer_;
  bool reading_ = false;
  bool writing_ = false;
  bool more_ = false;
  bool wake_pending_ = false;
  bool finishing_ = false;
  bool done_ = false;
  int tasks_ = 0;
  std::atomic<bool> retry_{false};
};

EventFeed::EventFeed(db::Pool& pool, server::Executor& executor, std::string schema,
                     std::string listen_url)
    : pool_(pool),
      executor_(executor),
      schema_(std::move(schema)),
      listen_url_(std::move(listen_url)) {}

EventFeed::~EventFeed() { Stop(); }

void EventFeed::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* s : streams_) s->End();
  }
  if (listener_ != nullptr) listener_->Stop();
}

grpc::ServerWriteReactor<SubscribeResponse>* EventFeed::Subscribe(
    grpc::CallbackServerContext* context, const crm::events::v1::SubscribeRequest* request) {
  const auto reject = [](grpc::Status status) {
    return server::RejectStream<grpc::ServerWriteReactor<SubscribeResponse>>(std::move(status));
  };
  if (stopping_.load()) {
    return reject(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
  // Another service of the suite may follow every tenant's events.
  server::CallOptions options;
  options.allow_all_tenants = true;
  auto scope = server::MakeCallScope(context, options);
  if (!scope.ok()) return reject(ToGrpcStatus(scope.status()));
  auto cursor = ParseCursor(request->after_cursor());
  if (!cursor.ok()) return reject(ToGrpcStatus(cursor.status()));
  std::set<std::string> types(request->types().begin(), request->types().end());
  return new FeedStream(this, *std::move(scope), *cursor, std::move(types));
}

void EventFeed::Register(FeedStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.insert(stream);
  if (stopping_.load()) stream->End();
}

void EventFeed::Unregister(FeedStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
}

void EventFeed::WakeAll(const std::string* tenant, bool only_retrying) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto* s : streams_) {
    if (tenant != nullptr && s->tenant() != *tenant && s->tenant() != server::kAllTenants) {
      continue;
    }
    if (only_retrying && !s->wants_retry()) continue;
    s->Wake();
  }
}

void EventFeed::Start() {
  listener_ = std::make_unique<db::Listener>(
      listen_url_, NotifyChannel(schema_), absl::Milliseconds(100),
      db::ListenerCallbacks{
          [this](const std::string& tenant) { WakeAll(&tenant, /*only_retrying=*/false); },
          // Anything committed while we were not listening: catch up.
          [this] { WakeAll(nullptr, false); },
          // Streams whose events were held back by an older open
          // transaction or a busy executor read again.
          [this] { WakeAll(nullptr, /*only_retrying=*/true); }});
  listener_->Start();
}

}  // namespace crm::events
