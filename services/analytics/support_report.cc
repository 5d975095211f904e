#include "services/analytics/support_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "absl/time/civil_time.h"
#include "common/api/timestamp.h"
#include "services/analytics/fact_store.h"

namespace crm::analytics {
namespace {

constexpr const char* kMetrics[] = {"FIRST_REPLY", "NEXT_REPLY", "PERIODIC_UPDATE", "RESOLUTION"};

// What one slice (total, a group, an agent) collects before summarising.
struct Slice {
  int64_t created = 0;
  int64_t solved = 0;
  std::vector<double> first_reply, first_reply_business, resolution, resolution_business;
  std::map<std::string, std::pair<int64_t, int64_t>> sla;  // metric: met, missed
  int64_t ratings = 0;
  int64_t satisfied = 0;
};

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

bool In(absl::Time t, absl::Time start, absl::Time end) { return t >= start && t < end; }

void Add(const TicketFact& t, absl::Time start, absl::Time end, Slice* s) {
  if (In(t.create, start, end)) ++s->created;
  if (t.first_response && In(*t.first_response, start, end)) {
    s->first_reply.push_back(Seconds(*t.first_response - t.create));
    if (t.first_reply_business_seconds) {
      s->first_reply_business.push_back(static_cast<double>(*t.first_reply_business_seconds));
    }
  }
  if (t.solve && In(*t.solve, start, end)) {
    ++s->solved;
    s->resolution.push_back(Seconds(*t.solve - t.create));
    if (t.resolution_business_seconds) {
      s->resolution_business.push_back(static_cast<double>(*t.resolution_business_seconds));
    }
  }
  if (t.csat_satisfied && t.csat_time && In(*t.csat_time, start, end)) {
    ++s->ratings;
    if (*t.csat_satisfied) ++s->satisfied;
  }
}

v1::SupportFigures Summarize(const std::string& key, Slice s) {
  v1::SupportFigures f;
  f.set_key(key);
  f.set_created(s.created);
  f.set_solved(s.solved);
  *f.mutable_first_reply() = SummarizeDurations(std::move(s.first_reply));
  *f.mutable_first_reply_business() = SummarizeDurations(std::move(s.first_reply_business));
  *f.mutable_resolution() = SummarizeDurations(std::move(s.resolution));
  *f.mutable_resolution_business() = SummarizeDurations(std::move(s.resolution_business));
  for (const char* metric : kMetrics) {
    const auto it = s.sla.find(metric);
    if (it == s.sla.end()) continue;
    v1::SlaCompliance* c = f.add_sla();
    c->set_metric(metric);
    c->set_met(it->second.first);
    c->set_missed(it->second.second);
    const int64_t all = it->second.first + it->second.second;
    c->set_compliance(all == 0 ? 0.0 : static_cast<double>(it->second.first) / all);
  }
  f.mutable_csat()->set_ratings(s.ratings);
  f.mutable_csat()->set_satisfied(s.satisfied);
  f.mutable_csat()->set_score(s.ratings == 0 ? 0.0 : static_cast<double>(s.satisfied) / s.ratings);
  return f;
}

// The slices as figures, busiest (most created, then solved) first.
std::vector<v1::SupportFigures> Ranked(std::map<std::string, Slice> slices) {
  std::vector<v1::SupportFigures> out;
  for (auto& [key, slice] : slices) out.push_back(Summarize(key, std::move(slice)));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.created() != b.created()) return a.created() > b.created();
    return a.solved() > b.solved();
  });
  return out;
}

}  // namespace

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

v1::DurationSummary SummarizeDurations(std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  v1::DurationSummary out;
  out.set_count(static_cast<int64_t>(seconds.size()));
  out.set_median_seconds(Quantile(seconds, 0.5));
  out.set_p90_seconds(Quantile(seconds, 0.9));
  return out;
}

v1::SupportReport BuildSupportReport(const ActivityStore::SupportFacts& facts, absl::Time start,
                                     absl::Time end) {
  Slice total;
  std::map<std::string, Slice> groups, agents;
  for (const TicketFact& t : facts.tickets) {
    Add(t, start, end, &total);
    Add(t, start, end, &groups[t.group]);
    Add(t, start, end, &agents[t.assignee]);
  }
  for (const SlaOutcomeFact& o : facts.outcomes) {
    for (Slice* s : {&total, &groups[o.group], &agents[o.assignee]}) {
      auto& counts = s->sla[o.metric];
      (o.breached ? counts.second : counts.first) += 1;
    }
  }
  v1::SupportReport report;
  *report.mutable_start_time() = api::ToTimestamp(start);
  *report.mutable_end_time() = api::ToTimestamp(end);
  *report.mutable_total() = Summarize("", std::move(total));
  for (auto& f : Ranked(std::move(groups))) *report.add_groups() = std::move(f);
  for (auto& f : Ranked(std::move(agents))) *report.add_agents() = std::move(f);
  // The backlog at the end of each UTC day of the period (the last one
  // at `end` when the period ends within a day).
  for (absl::CivilDay day = UtcDay(start);; ++day) {
    const absl::Time day_start = absl::FromCivil(day, absl::UTCTimeZone());
    if (day_start >= end) break;
    const absl::Time at = std::min(end, absl::FromCivil(day + 1, absl::UTCTimeZone()));
    int64_t open = 0;
    for (const TicketFact& t : facts.tickets) {
      if (t.create < at && (!t.done || *t.done >= at)) ++open;
    }
    v1::BacklogPoint* p = report.add_backlog();
    *p->mutable_day_time() = api::ToTimestamp(day_start);
    p->set_open_tickets(open);
  }
  report.set_sla_breaches(facts.breaches);
  return report;
}

}  // namespace crm::analytics
