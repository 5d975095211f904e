// RFM: each customer with an order scored 1 to 5 on recency, frequency and
// monetary value against the tenant's other customers, and named by a
// fixed map of (R, FM) cells to eleven segments (docs/analytics.md has the
// table).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace crm::analytics {

enum class RfmSegment {
  kChampions,
  kLoyal,
  kPotentialLoyalist,
  kNew,
  kPromising,
  kNeedAttention,
  kAboutToSleep,
  kAtRisk,
  kCantLoseThem,
  kHibernating,
  kLost,
};
inline constexpr int kRfmSegments = 11;

// "Champions", "Loyal", "Potential Loyalist", "New", "Promising",
// "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them",
// "Hibernating", "Lost".
std::string_view RfmSegmentName(RfmSegment segment);

struct RfmInput {
  int64_t recency_days = 0;    // since the last order; lower is better
  int64_t frequency = 0;       // orders; higher is better
  int64_t monetary_minor = 0;  // spent, in one currency's minor units; higher is better
};

struct RfmScore {
  int r = 0;
  int f = 0;
  int m = 0;
  RfmSegment segment = RfmSegment::kLost;
};

// Quintile score of each of `values` (1 to 5, 5 the best), where "better"
// is larger when `larger_is_better`: 1 + floor(5 * worse / n), `worse` the
// number of values strictly worse. Equal values always share a score (the
// tie rule), and without ties each score holds a fifth of the values.
std::vector<int> QuintileScores(const std::vector<int64_t>& values, bool larger_is_better);

// The four cut values of QuintileScores for scores 2..5 over `values`, so
// that a single value can be scored against the population without it:
// score >= s when the value beats cut s (is larger than it when
// `larger_is_better`, smaller otherwise). A score every value reaches has
// the cut INT64_MIN (larger is better) or INT64_MAX. For a value of the
// population, QuintileScoreOf gives exactly its QuintileScores score.
std::vector<int64_t> QuintileCuts(std::vector<int64_t> values, bool larger_is_better);
int QuintileScoreOf(int64_t value, const std::vector<int64_t>& cuts, bool larger_is_better);

// The cuts of recency, frequency and monetary value, and the segment of a
// customer by them.
struct RfmCuts {
  std::vector<int64_t> recency, frequency, monetary;
};
RfmCuts CutsOf(const std::vector<RfmInput>& customers);
RfmScore ScoreAgainst(const RfmInput& customer, const RfmCuts& cuts);

// F and M in one score: their mean rounded half up, (F + M + 1) / 2.
int FmScore(int f, int m);
// The segment of a cell: rows R 5..1, columns FM 1..5 (docs/analytics.md).
RfmSegment RfmSegmentOf(int r, int f, int m);

// Scores and segments of `customers`, in their order.
std::vector<RfmScore> ScoreRfm(const std::vector<RfmInput>& customers);

}  // namespace crm::analytics
