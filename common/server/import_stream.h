// A client-streaming RPC that applies each message (a chunk of rows) on the
// executor before reading the next, so a fast client can never queue
// unbounded work, and finishes with a summary when the client half-closes.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <functional>
#include <memory>

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
    if (!ok) {  // the client half-closed: every chunk is applied
      this->Finish(ToGrpcStatus(done_(*scope_)));
      return;
    }
    bool queued = executor_.TrySubmit([this] {
      CallScope chunk_scope = *scope_;
      // Each chunk gets its own time budget inside the caller's deadline.
      chunk_scope.deadline = std::min(scope_->deadline, absl::Now() + absl::Seconds(60));
      absl::Status status = chunk_(chunk_scope, request_);
      if (!status.ok()) {
        this->Finish(ToGrpcStatus(status));
      } else {
        request_.Clear();
        this->StartRead(&request_);
      }
    });
    if (!queued) {
      this->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "server busy: work queue full; resume the import later"));
    }
  }

  void OnDone() override { delete this; }

 private:
  ImportStream(Executor& executor, absl::StatusOr<CallScope> scope, ChunkFn chunk, DoneFn done)
      : executor_(executor), chunk_(std::move(chunk)), done_(std::move(done)) {
    if (!scope.ok()) {
      this->Finish(ToGrpcStatus(scope.status()));
      return;
    }
    scope_ = std::make_unique<CallScope>(*std::move(scope));
    this->StartRead(&request_);
  }

  Executor& executor_;
  ChunkFn chunk_;
  DoneFn done_;
  std::unique_ptr<CallScope> scope_;
  Request request_;
};

}  // namespace crm::server
