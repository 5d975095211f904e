// The support report's arithmetic over the tickets and SLA outcomes of a
// period (no I/O): medians and 90th percentiles, SLA compliance, CSAT and
// the daily backlog, in total, per group and per agent.
#pragma once

#include <vector>

#include "absl/time/time.h"
#include "crm/analytics/v1/support.pb.h"
#include "services/analytics/activity_store.h"

namespace crm::analytics {

// The q-quantile (0..1) of `sorted` by linear interpolation between the
// closest ranks (PostgreSQL's percentile_cont); 0 for none.
double Quantile(const std::vector<double>& sorted, double q);

// Count, median and p90 of `seconds` (any order).
v1::DurationSummary SummarizeDurations(std::vector<double> seconds);

// The report over [start, end) (`end` after `start`).
v1::SupportReport BuildSupportReport(const ActivityStore::SupportFacts& facts, absl::Time start,
                                     absl::Time end);

}  // namespace crm::analytics
