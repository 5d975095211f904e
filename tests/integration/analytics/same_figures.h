// What the rebuild tests share: polls two analytics services until they
// give a tenant the same figures.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {

// A tenant's figures as text; "" when a call failed.
using FiguresFn = std::function<std::string(ServiceHarness&, const std::string& tenant)>;

// Polls until `analytics` gives `tenant` the figures `reference` gives it
// and `ready` holds of them (60 s at most); returns them.
inline std::string AwaitSameFigures(const FiguresFn& figures, ServiceHarness& analytics,
                                    ServiceHarness& reference, const std::string& tenant,
                                    const std::function<bool(const std::string&)>& ready) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::string mine, theirs;
  while (absl::Now() < deadline) {
    mine = figures(analytics, tenant);
    theirs = figures(reference, tenant);
    if (!mine.empty() && mine == theirs && ready(theirs)) return mine;
    absl::SleepFor(absl::Milliseconds(100));
  }
  FAIL("the figures did not agree for " << tenant << ":\n" << mine << "\nagainst\n" << theirs);
  return mine;
}

}  // namespace crm::testing
