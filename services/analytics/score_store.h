// Each customer's kept scores (RFM and churn band) per tenant and currency,
// and the scorer that keeps them current: the effects that change a
// tenant's orders or model queue it (FactStore), and ScoreNext rescores
// the tenant and currency longest due in one transaction with the
// `analytics.scores_changed` events of the customers whose segment or band
// changed. Every tenant and currency is also rescored daily, since recency
// moves with time alone.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/page_token.h"
#include "common/db/pool.h"
#include "common/server/call.h"
#include "crm/analytics/v1/value_service.pb.h"
#include "services/analytics/fact_store.h"
#include "services/analytics/rfm.h"

namespace crm::analytics {

struct ScoreRun {
  bool scored = false;    // false: another replica was scoring it
  bool gave_way = false;  // stopped for a fit (ScoreStore::Fitting); still queued
  int64_t customers = 0;
  int64_t changed = 0;  // rows written or removed
  int64_t events = 0;   // analytics.scores_changed
};

class ScoreStore {
 public:
  ScoreStore(db::Pool& pool, FactStore& facts, const api::PageTokenCodec& tokens);

  // Scores the tenant and currency longest due: queued at least `settle`
  // ago, or last scored over a day ago. False when none is due.
  absl::StatusOr<bool> ScoreNext(absl::Duration settle);
  // Scores one tenant and currency now.
  absl::StatusOr<ScoreRun> Score(const std::string& tenant, const std::string& currency);

  // While the returned guard lives, this replica's scorer leaves `tenant`'s
  // `currency` alone, and a run of it under way stops at its next batch and
  // stays queued: a fit in progress (FitValueModel holds one) changes every
  // churn risk and queues the tenant again, so a run now would be redone at
  // once, and on the service's two cores it would slow the fit down.
  class FitGuard {
   public:
    FitGuard(ScoreStore& store, std::string key);
    FitGuard(const FitGuard&) = delete;
    FitGuard& operator=(const FitGuard&) = delete;
    ~FitGuard();

   private:
    ScoreStore& store_;
    const std::string key_;
  };
  std::unique_ptr<FitGuard> Fitting(const std::string& tenant, const std::string& currency);

  // The quintile cuts of the last run; nullopt before the first.
  absl::StatusOr<std::optional<RfmCuts>> Cuts(const server::CallScope& scope,
                                              const std::string& currency);

  absl::StatusOr<v1::ListCustomerScoresResponse> List(const server::CallScope& scope,
                                                      const std::string& currency,
                                                      const v1::ListCustomerScoresRequest& request);

 private:
  bool IsFitting(const std::string& tenant, const std::string& currency) const;
  std::vector<std::string> FittingKeys() const;

  db::Pool& pool_;
  FactStore& facts_;
  const api::PageTokenCodec& tokens_;
  mutable std::mutex mu_;
  std::multiset<std::string> fitting_;  // "tenant/currency"
};

}  // namespace crm::analytics
