// RFM: the quintile tie rule, every one of the 125 (R, F, M) cells against
// the documented map, and a hand-scored fixture.
#include "services/analytics/rfm.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace crm::analytics {

TEST_CASE("quintile scores: fifths without ties, ties share the lower score", "[unit][analytics]") {
  CHECK(QuintileScores({10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, true) ==
        std::vector<int>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  // Lower is better for recency: the most recent get 5.
  CHECK(QuintileScores({1, 2, 3, 4, 5}, false) == std::vector<int>{5, 4, 3, 2, 1});
  // Six customers with one order: all score 1; the rest by rank above them.
  CHECK(QuintileScores({1, 1, 1, 1, 1, 1, 2, 3, 5, 9}, true) ==
        std::vector<int>{1, 1, 1, 1, 1, 1, 4, 4, 5, 5});
  CHECK(QuintileScores({7, 7, 7}, true) == std::vector<int>{1, 1, 1});
  CHECK(QuintileScores({42}, true) == std::vector<int>{1});
  CHECK(QuintileScores({}, true).empty());
  // Order of input does not matter.
  CHECK(QuintileScores({90, 10, 50, 30, 70}, true) == std::vector<int>{5, 1, 3, 2, 4});
}

TEST_CASE("every RFM cell maps to its documented segment", "[unit][analytics]") {
  // docs/analytics.md: rows R = 5..1, columns FM = 1..5.
  const char* kTable[5][5] = {
      {"New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"},
      {"Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"},
      {"About to Sleep", "Need Attention", "Need Attention", "Loyal", "Loyal"},
      {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
      {"Lost", "Lost", "Hibernating", "At Risk", "Can't Lose Them"},
  };
  std::set<std::string> seen;
  int cells = 0;
  for (int r = 1; r <= 5; ++r) {
    for (int f = 1; f <= 5; ++f) {
      for (int m = 1; m <= 5; ++m) {
        const int fm = FmScore(f, m);
        REQUIRE(fm >= 1);
        REQUIRE(fm <= 5);
        CHECK(fm == (f + m + 1) / 2);
        const std::string name(RfmSegmentName(RfmSegmentOf(r, f, m)));
        INFO("R " << r << " F " << f << " M " << m);
        CHECK(name == kTable[5 - r][fm - 1]);
        seen.insert(name);
        ++cells;
      }
    }
  }
  CHECK(cells == 125);
  CHECK(seen.size() == static_cast<size_t>(kRfmSegments));
  std::set<std::string> names;
  for (int s = 0; s < kRfmSegments; ++s) {
    names.insert(std::string(RfmSegmentName(static_cast<RfmSegment>(s))));
  }
  CHECK(names == seen);
}

TEST_CASE("RFM of a hand-scored fixture", "[unit][analytics]") {
  // Five customers: recency (days), orders, spent (pence).
  const std::vector<RfmScore> s = ScoreRfm({
      {3, 12, 250000},  // recent, frequent, big: R5 F5 M5
      {10, 1, 2000},    // recent, once, small: R4 F1 M2, FM 2
      {40, 4, 60000},   // R3 F3 M3
      {200, 8, 90000},  // long ago, was good: R2 F4 M4
      {400, 1, 1500},   // gone: R1 F1 M1
  });
  REQUIRE(s.size() == 5);
  CHECK((s[0].r == 5 && s[0].f == 5 && s[0].m == 5));
  CHECK(RfmSegmentName(s[0].segment) == "Champions");
  // Two customers with one order share F1 (the tie rule).
  CHECK((s[1].r == 4 && s[1].f == 1 && s[1].m == 2));
  CHECK(RfmSegmentName(s[1].segment) == "Potential Loyalist");
  CHECK((s[2].r == 3 && s[2].f == 3 && s[2].m == 3));
  CHECK(RfmSegmentName(s[2].segment) == "Need Attention");
  CHECK((s[3].r == 2 && s[3].f == 4 && s[3].m == 4));
  CHECK(RfmSegmentName(s[3].segment) == "At Risk");
  CHECK((s[4].r == 1 && s[4].f == 1 && s[4].m == 1));
  CHECK(RfmSegmentName(s[4].segment) == "Lost");
}

}  // namespace crm::analytics

namespace crm::analytics {

TEST_CASE("quintile cuts score any member exactly as the whole population does",
          "[unit][analytics]") {
  uint64_t state = 42;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + next() % 60;
    const int64_t spread = 1 + static_cast<int64_t>(next() % 12);  // small: many ties
    std::vector<int64_t> values(n);
    for (auto& v : values) v = static_cast<int64_t>(next() % static_cast<uint64_t>(spread));
    for (bool larger : {true, false}) {
      const std::vector<int> scores = QuintileScores(values, larger);
      const std::vector<int64_t> cuts = QuintileCuts(values, larger);
      REQUIRE(cuts.size() == 4);
      for (size_t i = 0; i < n; ++i) {
        INFO("n " << n << " value " << values[i] << " larger " << larger);
        CHECK(QuintileScoreOf(values[i], cuts, larger) == scores[i]);
      }
    }
  }
  // A value outside the population: above every cut is a 5, below all a 1.
  const std::vector<int64_t> cuts = QuintileCuts({10, 20, 30, 40, 50}, true);
  CHECK(QuintileScoreOf(1000, cuts, true) == 5);
  CHECK(QuintileScoreOf(0, cuts, true) == 1);
  CHECK(QuintileScoreOf(25, cuts, true) == 3);
  const RfmCuts rfm = CutsOf({{1, 5, 500}, {30, 1, 100}, {90, 2, 50}});
  const RfmScore best = ScoreAgainst({0, 9, 900}, rfm);
  CHECK(best.segment == RfmSegment::kChampions);
}

}  // namespace crm::analytics
