// A server stream whose messages are produced by blocking work (a
// transaction paging through a snapshot, a report being made): `produce`
// runs on the executor and hands each message to `emit`, which returns once
// gRPC has taken it (so at most one message is in memory besides the one
// being made) and false once the client is gone; `produce`'s status ends
// the call. One executor thread is taken for the stream's life, so callers
// keep these streams few (exports, not per-request reads).
#pragma once

#include <grpcpp/support/server_callback.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "common/base/status.h"
#include "common/server/executor.h"

namespace crm::server {

template <typename Response>
class ProducerStream final : public grpc::ServerWriteReactor<Response> {
 public:
  using Emit = std::function<bool(const Response&)>;
  using Produce = std::function<absl::Status(const Emit&)>;

  ProducerStream(Executor& executor, Produce produce) {
    std::lock_guard<std::mutex> lock(mu_);
    producing_ = true;
    if (!executor.TrySubmit([this, produce = std::move(produce)] { Run(produce); })) {
      producing_ = false;
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server busy; retry"));
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) gone_ = true;
    cv_.notify_all();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    gone_ = true;
    cv_.notify_all();
  }

  void OnDone() override {
    bool del;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      gone_ = true;
      cv_.notify_all();
      del = !producing_;
    }
    if (del) delete this;
  }

 private:
  void Run(const Produce& produce) {
    const Emit emit = [this](const Response& message) {
      std::unique_lock<std::mutex> lock(mu_);
      if (gone_ || finishing_) return false;
      message_ = message;
      writing_ = true;
      this->StartWrite(&message_);
      cv_.wait(lock, [this] { return !writing_ || done_; });
      return !gone_;
    };
    const absl::Status status = produce(emit);
    std::unique_lock<std::mutex> lock(mu_);
    producing_ = false;
    if (done_) {
      lock.unlock();
      delete this;
      return;
    }
    FinishLocked(gone_ && status.ok() ? grpc::Status(grpc::StatusCode::CANCELLED, "stream closed")
                                      : ToGrpcStatus(status));
  }

  void FinishLocked(grpc::Status status) {
    if (finishing_) return;
    finishing_ = true;
    this->Finish(std::move(status));
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool producing_ = false;
  bool writing_ = false;
  bool gone_ = false;  // cancelled, a write failed, or done
  bool done_ = false;
  bool finishing_ = false;
  Response message_;
};

}  // namespace crm::server
