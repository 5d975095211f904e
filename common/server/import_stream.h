// A client-streaming RPC that applies its messages (chunks of rows) one at a
// time, in order, on the executor, and finishes with a summary when the
// client half-closes. While a chunk is applied the next one is read, so the
// network and the message parsing overlap the database work; at most one
// chunk waits, so a fast client can never queue unbounded work.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <functional>
#include <memory>
#include <mutex>

#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/server/call.h"
#include "common/server/executor.h"

namespace crm::server {

template <typename Request>
class ImportStream final : public grpc::ServerReadReactor<Request> {
 public:
  // Applies one chunk (blocking, on the executor). A non-OK status ends the
  // stream with it; per-row problems belong in the summary instead.
  using ChunkFn = std::function<absl::Status(const CallScope&, const Request&)>;
  // Fills the response once every chunk is applied.
  using DoneFn = std::function<absl::Status(const CallScope&)>;

  // Pass CallOptions with a long default deadline: imports run long.
  static grpc::ServerReadReactor<Request>* Start(grpc::CallbackServerContext* ctx,
                                                 Executor& executor, const CallOptions& options,
                                                 ChunkFn chunk, DoneFn done) {
    auto scope = MakeCallScope(ctx, options);
    return new ImportStream(executor, std::move(scope), std::move(chunk), std::move(done));
  }

  void OnReadDone(bool ok) override {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int filled = reading_;
      reading_ = -1;
      if (finished_) return;
      if (!ok) {  // the client half-closed
        half_closed_ = true;
        if (applying_ < 0) action = FinishLocked(done_(*scope_));
      } else if (applying_ >= 0) {
        waiting_ = filled;  // applied after the current chunk; no read until then
      } else {
        action = ApplyLocked(filled, 1 - filled);
      }
    }
    Act(action);
  }

  void OnDone() override { delete this; }

 private:
  // What to do once the lock is released. gRPC may run a reaction (even
  // OnDone) inline, so no call into it holds the lock; and the next read
  // starts before the chunk is handed over, so no chunk can finish the call
  // (and free `this`) under a StartRead still to come.
  struct Action {
    int read = -1;   // buffer to read into
    int apply = -1;  // buffer to apply
    bool finish = false;
    absl::Status status;
  };

  ImportStream(Executor& executor, absl::StatusOr<CallScope> scope, ChunkFn chunk, DoneFn done)
      : executor_(executor), chunk_(std::move(chunk)), done_(std::move(done)) {
    if (!scope.ok()) {
      finished_ = true;
      this->Finish(ToGrpcStatus(scope.status()));
      return;
    }
    scope_ = std::make_unique<CallScope>(*std::move(scope));
    reading_ = 0;
    this->StartRead(&buffers_[0]);
  }

  Action FinishLocked(absl::Status status) {
    finished_ = true;
    Action action;
    action.finish = true;
    action.status = std::move(status);
    return action;
  }

  // Marks buffers_[buffer] as applied next and `then_read` as read next.
  Action ApplyLocked(int buffer, int then_read) {
    applying_ = buffer;
    reading_ = then_read;
    Action action;
    action.apply = buffer;
    action.read = then_read;
    return action;
  }

  // Carries out an action; finishing is the last use of `this`.
  void Act(const Action& action) {
    if (action.finish) {
      this->Finish(ToGrpcStatus(action.status));
      return;
    }
    if (action.read >= 0) this->StartRead(&buffers_[action.read]);
    if (action.apply < 0) return;
    const int buffer = action.apply;
    const bool queued = executor_.TrySubmit([this, buffer] { Apply(buffer); });
    if (!queued) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        applying_ = -1;
        finished_ = true;
      }
      this->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "server busy: work queue full; resume the import later"));
    }
  }

  // On the executor: applies one chunk, then the one that waits, if any.
  void Apply(int buffer) {
    CallScope chunk_scope = *scope_;
    // Each chunk gets its own time budget inside the caller's deadline.
    chunk_scope.deadline = std::min(scope_->deadline, absl::Now() + absl::Seconds(60));
    const absl::Status status = chunk_(chunk_scope, buffers_[buffer]);
    Action action;
    {
      std::lock_guard<std::mutex> lock(mu_);
      buffers_[buffer].Clear();
      applying_ = -1;
      if (!status.ok()) {
        action = FinishLocked(status);
      } else if (waiting_ >= 0) {
        const int next = waiting_;
        waiting_ = -1;
        action = ApplyLocked(next, buffer);
      } else if (half_closed_) {
        action = FinishLocked(done_(*scope_));
      }  // else the next chunk is being read
    }
    Act(action);
  }

  Executor& executor_;
  ChunkFn chunk_;
  DoneFn done_;
  std::unique_ptr<CallScope> scope_;
  std::mutex mu_;  // guards the state below
  Request buffers_[2];
  int reading_ = -1;   // buffer a read is filling
  int applying_ = -1;  // buffer being applied
  int waiting_ = -1;   // buffer read and waiting to be applied
  bool half_closed_ = false;
  bool finished_ = false;
};

}  // namespace crm::server
