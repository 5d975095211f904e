#include "services/analytics/rfm.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>

namespace crm::analytics {

std::string_view RfmSegmentName(RfmSegment segment) {
  switch (segment) {
    case RfmSegment::kChampions:
      return "Champions";
    case RfmSegment::kLoyal:
      return "Loyal";
    case RfmSegment::kPotentialLoyalist:
      return "Potential Loyalist";
    case RfmSegment::kNew:
      return "New";
    case RfmSegment::kPromising:
      return "Promising";
    case RfmSegment::kNeedAttention:
      return "Need Attention";
    case RfmSegment::kAboutToSleep:
      return "About to Sleep";
    case RfmSegment::kAtRisk:
      return "At Risk";
    case RfmSegment::kCantLoseThem:
      return "Can't Lose Them";
    case RfmSegment::kHibernating:
      return "Hibernating";
    case RfmSegment::kLost:
      return "Lost";
  }
  return "Lost";
}

std::vector<int> QuintileScores(const std::vector<int64_t>& values, bool larger_is_better) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Worst first.
  std::sort(order.begin(), order.end(), [&](size_t l, size_t r) {
    return larger_is_better ? values[l] < values[r] : values[l] > values[r];
  });
  std::vector<int> scores(n, 1);
  size_t worse = 0;  // values strictly worse than the current group
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && values[order[i]] != values[order[i - 1]]) worse = i;
    scores[order[i]] = 1 + static_cast<int>((5 * worse) / n);
  }
  return scores;
}

std::vector<int64_t> QuintileCuts(std::vector<int64_t> values, bool larger_is_better) {
  // Worst first. A value v has `worse` = how many are strictly worse, and
  // scores >= s when 5 * worse >= (s - 1) * n, that is when it beats the
  // k-th worst value, k = ceil((s - 1) * n / 5).
  if (larger_is_better) {
    std::sort(values.begin(), values.end());
  } else {
    std::sort(values.begin(), values.end(), std::greater<int64_t>());
  }
  const int64_t none = larger_is_better ? INT64_MIN : INT64_MAX;
  const size_t n = values.size();
  std::vector<int64_t> cuts;
  for (size_t s = 2; s <= 5; ++s) {
    const size_t k = ((s - 1) * n + 4) / 5;
    cuts.push_back(k == 0 ? none : values[k - 1]);
  }
  return cuts;
}

int QuintileScoreOf(int64_t value, const std::vector<int64_t>& cuts, bool larger_is_better) {
  int score = 1;
  for (int64_t cut : cuts) {
    const bool beats =
        larger_is_better ? (cut == INT64_MIN || value > cut) : (cut == INT64_MAX || value < cut);
    if (beats) ++score;
  }
  return score;
}

RfmCuts CutsOf(const std::vector<RfmInput>& customers) {
  RfmCuts cuts;
  std::vector<int64_t> recency, frequency, monetary;
  for (const RfmInput& c : customers) {
    recency.push_back(c.recency_days);
    frequency.push_back(c.frequency);
    monetary.push_back(c.monetary_minor);
  }
  cuts.recency = QuintileCuts(std::move(recency), false);
  cuts.frequency = QuintileCuts(std::move(frequency), true);
  cuts.monetary = QuintileCuts(std::move(monetary), true);
  return cuts;
}

RfmScore ScoreAgainst(const RfmInput& c, const RfmCuts& cuts) {
  RfmScore out;
  out.r = QuintileScoreOf(c.recency_days, cuts.recency, false);
  out.f = QuintileScoreOf(c.frequency, cuts.frequency, true);
  out.m = QuintileScoreOf(c.monetary_minor, cuts.monetary, true);
  out.segment = RfmSegmentOf(out.r, out.f, out.m);
  return out;
}

int FmScore(int f, int m) { return (f + m + 1) / 2; }

RfmSegment RfmSegmentOf(int r, int f, int m) {
  using S = RfmSegment;
  // Rows R = 5 (most recent) down to 1, columns FM = 1..5.
  static constexpr S kMap[5][5] = {
      {S::kNew, S::kPotentialLoyalist, S::kPotentialLoyalist, S::kChampions, S::kChampions},
      {S::kPromising, S::kPotentialLoyalist, S::kPotentialLoyalist, S::kLoyal, S::kChampions},
      {S::kAboutToSleep, S::kNeedAttention, S::kNeedAttention, S::kLoyal, S::kLoyal},
      {S::kHibernating, S::kHibernating, S::kAtRisk, S::kAtRisk, S::kCantLoseThem},
      {S::kLost, S::kLost, S::kHibernating, S::kAtRisk, S::kCantLoseThem},
  };
  const int row = 5 - std::clamp(r, 1, 5);
  const int column = std::clamp(FmScore(std::clamp(f, 1, 5), std::clamp(m, 1, 5)), 1, 5) - 1;
  return kMap[row][column];
}

std::vector<RfmScore> ScoreRfm(const std::vector<RfmInput>& customers) {
  std::vector<int64_t> recency, frequency, monetary;
  recency.reserve(customers.size());
  frequency.reserve(customers.size());
  monetary.reserve(customers.size());
  for (const RfmInput& c : customers) {
    recency.push_back(c.recency_days);
    frequency.push_back(c.frequency);
    monetary.push_back(c.monetary_minor);
  }
  const std::vector<int> r = QuintileScores(recency, false);
  const std::vector<int> f = QuintileScores(frequency, true);
  const std::vector<int> m = QuintileScores(monetary, true);
  std::vector<RfmScore> scores(customers.size());
  for (size_t i = 0; i < customers.size(); ++i) {
    scores[i] = {r[i], f[i], m[i], RfmSegmentOf(r[i], f[i], m[i])};
  }
  return scores;
}

}  // namespace crm::analytics
