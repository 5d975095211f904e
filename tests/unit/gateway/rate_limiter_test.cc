#include "services/gateway/rate_limiter.h"

#include <catch2/catch.hpp>

namespace crm::gateway {
namespace {

TEST_CASE("token bucket: burst, refill, per key", "[gateway][rate]") {
  RateLimiter limiter(10, 3);  // 10/s, burst 3
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  absl::Duration retry;
  CHECK(limiter.Allow("a", t0, &retry));
  CHECK(limiter.Allow("a", t0, &retry));
  CHECK(limiter.Allow("a", t0, &retry));
  CHECK_FALSE(limiter.Allow("a", t0, &retry));
  CHECK(retry > absl::ZeroDuration());
  CHECK(retry <= absl::Milliseconds(100));
  CHECK(limiter.Allow("b", t0, &retry));  // other keys have their own bucket
  CHECK(limiter.Allow("a", t0 + absl::Milliseconds(100), &retry));
  CHECK_FALSE(limiter.Allow("a", t0 + absl::Milliseconds(100), &retry));
  // A long pause refills only up to the burst.
  const absl::Time later = t0 + absl::Seconds(60);
  CHECK(limiter.Allow("a", later, &retry));
  CHECK(limiter.Allow("a", later, &retry));
  CHECK(limiter.Allow("a", later, &retry));
  CHECK_FALSE(limiter.Allow("a", later, &retry));
}

TEST_CASE("a zero rate disables limiting", "[gateway][rate]") {
  RateLimiter limiter(0, 0);
  CHECK_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) CHECK(limiter.Allow("a", absl::UnixEpoch(), nullptr));
}

}  // namespace
}  // namespace crm::gateway
