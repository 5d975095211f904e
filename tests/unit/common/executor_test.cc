#include "common/server/executor.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/server/call.h"

namespace crm::server {
namespace {

TEST_CASE("a full executor refuses at once instead of queueing", "[executor]") {
  Executor executor(1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  auto blocker = [&] {
    started = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    ++ran;
  };
  REQUIRE(executor.TrySubmit(blocker));  // occupies the only thread
  while (!started) std::this_thread::yield();
  // The queue holds 2; the rest are refused without waiting.
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += executor.TrySubmit([&] { ++ran; }) ? 1 : 0;
  CHECK(accepted == 2);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  executor.Shutdown();
  CHECK(ran.load() == accepted + 1);
  CHECK_FALSE(executor.TrySubmit([] {}));
}

TEST_CASE("tenant and request id syntax", "[call]") {
  CHECK(IsValidTenant("demo"));
  CHECK(IsValidTenant("shop-42"));
  CHECK_FALSE(IsValidTenant(""));
  CHECK_FALSE(IsValidTenant("-x"));
  CHECK_FALSE(IsValidTenant("Demo"));
  CHECK_FALSE(IsValidTenant("a b"));
  CHECK_FALSE(IsValidTenant(std::string(64, 'a')));
  CHECK(IsValidRequestId("req-1:a.b_c"));
  CHECK_FALSE(IsValidRequestId(""));
  CHECK_FALSE(IsValidRequestId("a b"));
  CHECK_FALSE(IsValidRequestId(std::string(129, 'a')));
}

}  // namespace
}  // namespace crm::server
