// Per-API-key token buckets: `rate` calls per second sustained, `burst` at
// once. Pure logic with the clock passed in, so it is tested directly.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/time/time.h"

namespace crm::gateway {

class RateLimiter {
 public:
  // rate <= 0 disables limiting.
  RateLimiter(double rate, double burst);

  // Takes one token for `key` at time `now`. When none is left, returns
  // false and sets `retry_after` to when the next token will be there.
  bool Allow(const std::string& key, absl::Time now, absl::Duration* retry_after);

  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens;
    absl::Time last;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace crm::gateway
