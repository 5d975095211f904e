// A bounded pool of threads for blocking work (database calls) so that gRPC
// callback threads never block. When the queue is full, TrySubmit refuses at
// once and the caller answers RESOURCE_EXHAUSTED.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crm::server {

class Executor {
 public:
  Executor(int threads, int queue_capacity);
  ~Executor();  // runs what is queued, then joins
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // False when the queue is full or the executor is shutting down.
  bool TrySubmit(std::function<void()> task);
  // Stops accepting work, finishes queued work, joins the threads.
  void Shutdown();

  int queued() const;

 private:
  void Loop();

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace crm::server
