#include "services/analytics/score_store.h"

#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <deque>
#include <map>
#include <pqxx/pqxx>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/api/enum_text.h"
#include "common/api/timestamp.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/arrays.h"
#include "common/db/page.h"
#include "common/events/outbox.h"
#include "services/analytics/value_reports.h"

namespace crm::analytics {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kBatch = 5000;

// What a run returns from its transaction when a fit of its tenant and
// currency began (ScoreStore::Fitting).
constexpr char kGaveWay[] = "the scores run gave way to a fit";
absl::Status GaveWay() { return absl::AbortedError(kGaveWay); }
bool IsGaveWay(const absl::Status& s) { return absl::IsAborted(s) && s.message() == kGaveWay; }
constexpr char kScoresChanged[] = "analytics.scores_changed";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      // Across tenants ($1 the settle time in ms): the queued, then the
      // ones last scored over a day ago.
      // $2 the "tenant/currency" keys being fitted (left alone).
      {"analytics_find_due_scoring",
       "SELECT tenant_id, currency_code FROM (SELECT tenant_id, currency_code, queued_time AS due "
       "FROM analytics.score_queue WHERE queued_time <= now() - $1::bigint * interval '1 "
       "millisecond' UNION ALL SELECT tenant_id, currency_code, score_time + interval '1 day' "
       "FROM analytics.score_runs WHERE score_time < now() - interval '1 day') d WHERE NOT "
       "(tenant_id || '/' || currency_code = ANY($2::text[])) ORDER BY due LIMIT 1"},
      {"analytics_lock_scoring",
       "SELECT pg_try_advisory_xact_lock(hashtext('analytics.scores/' || $1 || '/' || $2))"},
      {"analytics_get_score_queue",
       "SELECT version FROM analytics.score_queue WHERE tenant_id = $1 AND currency_code = $2"},
      // Done, unless queued again meanwhile: then due again once as long as
      // this run took ($4, milliseconds) has passed, and a settle, so that a
      // large tenant's runs take at most about half of a scorer's time.
      {"analytics_finish_score_queue",
       "WITH gone AS (DELETE FROM analytics.score_queue WHERE tenant_id = $1 AND currency_code = "
       "$2 AND version = $3 RETURNING 1) UPDATE analytics.score_queue SET queued_time = now() + "
       "$4::bigint * interval '1 millisecond' WHERE tenant_id = $1 AND currency_code = $2 AND "
       "NOT EXISTS (SELECT 1 FROM gone)"},
      {"analytics_postpone_score_queue",
       "UPDATE analytics.score_queue SET queued_time = now() WHERE tenant_id = $1 AND "
       "currency_code = $2"},
      // $5..$7 the cuts (text arrays of numbers).
      {"analytics_record_score_run",
       "INSERT INTO analytics.score_runs (tenant_id, currency_code, score_time, customers, "
       "changed, recency_cuts, frequency_cuts, monetary_cuts) VALUES ($1, $2, now(), $3, $4, "
       "$5::bigint[], $6::bigint[], $7::bigint[]) ON CONFLICT (tenant_id, currency_code) DO "
       "UPDATE SET score_time = excluded.score_time, customers = excluded.customers, changed = "
       "excluded.changed, recency_cuts = excluded.recency_cuts, frequency_cuts = "
       "excluded.frequency_cuts, monetary_cuts = excluded.monetary_cuts"},
      {"analytics_get_score_cuts",
       "SELECT array_to_string(recency_cuts, ','), array_to_string(frequency_cuts, ','), "
       "array_to_string(monetary_cuts, ',') FROM analytics.score_runs WHERE tenant_id = $1 AND "
       "currency_code = $2 AND recency_cuts IS NOT NULL"},
      {"analytics_list_kept_scores",
       "SELECT customer, recency_days, frequency, monetary_minor, r, f, m, segment, "
       "COALESCE(churn_risk, -1), churn_band FROM analytics.customer_scores WHERE tenant_id = $1 "
       "AND currency_code = $2"},
      // Arrays, one element per customer; churn risk -1 for none.
      {"analytics_upsert_scores",
       "INSERT INTO analytics.customer_scores (tenant_id, currency_code, customer, recency_days, "
       "frequency, monetary_minor, r, f, m, segment, churn_risk, churn_band, score_time) SELECT "
       "$1, $2, c, rd, fr, mo, r, f, m, s, NULLIF(risk, -1), band, now() FROM "
       "unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::smallint[], "
       "$8::smallint[], $9::smallint[], $10::text[], $11::float8[], $12::text[]) AS u(c, rd, fr, "
       "mo, r, f, m, s, risk, band) ON CONFLICT (tenant_id, currency_code, customer) DO UPDATE "
       "SET recency_days = excluded.recency_days, frequency = excluded.frequency, monetary_minor "
       "= excluded.monetary_minor, r = excluded.r, f = excluded.f, m = excluded.m, segment = "
       "excluded.segment, churn_risk = excluded.churn_risk, churn_band = excluded.churn_band, "
       "score_time = excluded.score_time"},
      {"analytics_delete_scores",
       "DELETE FROM analytics.customer_scores WHERE tenant_id = $1 AND currency_code = $2 AND "
       "customer = ANY($3::text[])"},
      // $3 segment or '', $4 band or '', $5 after this customer, $6 limit.
      {"analytics_list_customer_scores",
       "SELECT customer, recency_days, frequency, monetary_minor, r, f, m, segment, "
       "COALESCE(churn_risk, -1), churn_band, (EXTRACT(EPOCH FROM score_time) * "
       "1000000)::bigint FROM analytics.customer_scores WHERE tenant_id = $1 AND currency_code = "
       "$2 AND ($3 = '' OR segment = $3) AND ($4 = '' OR churn_band = $4) AND customer > $5 "
       "ORDER BY customer LIMIT $6"},
  };
  return *statements;
}

// One customer's scores as kept.
struct Kept {
  v1::RfmScores rfm;
  double churn_risk = -1;  // -1: none
  v1::ChurnBand band = v1::CHURN_BAND_UNSPECIFIED;
};

bool Same(const Kept& a, const Kept& b) {
  return a.rfm.recency_days() == b.rfm.recency_days() && a.rfm.frequency() == b.rfm.frequency() &&
         a.rfm.monetary_minor() == b.rfm.monetary_minor() && a.rfm.r() == b.rfm.r() &&
         a.rfm.f() == b.rfm.f() && a.rfm.m() == b.rfm.m() && a.rfm.segment() == b.rfm.segment() &&
         a.band == b.band && std::abs(a.churn_risk - b.churn_risk) < 1e-9;
}

template <typename Row>
Kept KeptOf(const Row& row) {
  Kept k;
  k.rfm.set_recency_days(row[1].template as<int64_t>());
  k.rfm.set_frequency(row[2].template as<int64_t>());
  k.rfm.set_monetary_minor(row[3].template as<int64_t>());
  k.rfm.set_r(row[4].template as<int>());
  k.rfm.set_f(row[5].template as<int>());
  k.rfm.set_m(row[6].template as<int>());
  k.rfm.set_segment(api::EnumOf<v1::RfmSegment>(row[7].c_str()));
  k.churn_risk = row[8].template as<double>();
  k.band = api::EnumOf<v1::ChurnBand>(row[9].c_str());
  return k;
}

// Rows waiting to be written, as the upsert's arrays.
struct Batch {
  std::vector<std::string> customer, recency, frequency, monetary, r, f, m, segment, risk, band;
  size_t size() const { return customer.size(); }
  void Add(const std::string& name, const Kept& k) {
    customer.push_back(name);
    recency.push_back(absl::StrCat(k.rfm.recency_days()));
    frequency.push_back(absl::StrCat(k.rfm.frequency()));
    monetary.push_back(absl::StrCat(k.rfm.monetary_minor()));
    r.push_back(absl::StrCat(k.rfm.r()));
    f.push_back(absl::StrCat(k.rfm.f()));
    m.push_back(absl::StrCat(k.rfm.m()));
    segment.push_back(api::EnumText(k.rfm.segment()));
    risk.push_back(absl::StrFormat("%.17g", k.churn_risk));  // exact round trip
    band.push_back(k.band == v1::CHURN_BAND_UNSPECIFIED ? "" : api::EnumText(k.band));
  }
  void Write(db::Tx& tx, const std::string& tenant, const std::string& currency) {
    if (customer.empty()) return;
    db::Exec(tx, "analytics_upsert_scores", tenant, currency, db::TextArray(customer),
             db::TextArray(recency), db::TextArray(frequency), db::TextArray(monetary),
             db::TextArray(r), db::TextArray(f), db::TextArray(m), db::TextArray(segment),
             db::TextArray(risk), db::TextArray(band));
    *this = Batch();
  }
};

}  // namespace

ScoreStore::ScoreStore(db::Pool& pool, FactStore& facts, const api::PageTokenCodec& tokens)
    : pool_(pool), facts_(facts), tokens_(tokens) {
  pool_.Prepare(Statements());
}

absl::StatusOr<bool> ScoreStore::ScoreNext(absl::Duration settle) {
  std::string tenant, currency;
  CRM_RETURN_IF_ERROR(
      db::RunInTransaction(pool_, db::HousekeepingTx(absl::Seconds(10)), [&](db::Tx& tx) {
        const auto rows = db::Exec(tx, "analytics_find_due_scoring",
                                   absl::ToInt64Milliseconds(settle), db::TextArray(FittingKeys()));
        if (rows.empty()) return absl::OkStatus();
        tenant = rows[0][0].as<std::string>();
        currency = rows[0][1].as<std::string>();
        return absl::OkStatus();
      }));
  if (tenant.empty()) return false;
  auto run = Score(tenant, currency);
  if (!run.ok()) {
    // Behind the others, so one tenant's failure does not hold them up.
    db::TxOptions options;
    options.tenant = tenant;
    options.deadline = absl::Now() + absl::Seconds(10);
    (void)db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
      db::Exec(tx, "analytics_postpone_score_queue", tenant, currency);
      return absl::OkStatus();
    });
    return run.status();
  }
  return true;
}

absl::StatusOr<ScoreRun> ScoreStore::Score(const std::string& tenant, const std::string& currency) {
  ScoreRun run;
  const absl::Time started = absl::Now();
  // Read and computed in one read-only snapshot, which holds the replicas'
  // lock but no transaction id; written in short transactions of a batch
  // each. A transaction that writes for the whole run would hold back every
  // event feed in the database for as long (feeds release only events
  // older than the oldest running writer), and a run over a million
  // customers takes most of a minute. A run cut short leaves written
  // batches with their events; the next run finds them unchanged.
  db::TxOptions options;
  options.tenant = tenant;
  options.deadline = absl::Now() + absl::Minutes(10);
  options.read_only = true;
  options.isolation = db::Isolation::kRepeatableRead;
  options.max_attempts = 1;
  db::TxOptions write_options;
  write_options.tenant = tenant;
  write_options.deadline = options.deadline;
  const absl::Status done = db::RunInTransaction(pool_, options, [&](db::Tx& tx) {
    run = ScoreRun();
    if (!db::Exec(tx, "analytics_lock_scoring", tenant, currency)[0][0].as<bool>()) {
      return absl::OkStatus();  // another replica is at it
    }
    run.scored = true;
    const auto queued = db::Exec(tx, "analytics_get_score_queue", tenant, currency);
    const int64_t version = queued.empty() ? 0 : queued[0][0].as<int64_t>();

    if (IsFitting(tenant, currency)) return GaveWay();
    const std::vector<CustomerOrders> customers = facts_.CustomersIn(tx, tenant, currency);
    const absl::Time as_of = RfmAsOf(customers, nullptr);
    const std::vector<v1::RfmScores> rfm = ScoreCustomers(customers, as_of);
    std::unordered_map<std::string, double> risks;
    CRM_ASSIGN_OR_RETURN(std::optional<v1::ValueModel> model, facts_.Model(tx, tenant, currency));
    if (model) {
      for (auto& [name, risk] : ChurnRisks(*model, customers)) {
        risks.emplace(std::move(name), risk);
      }
    }
    std::unordered_map<std::string, Kept> kept;
    for (const auto& row : db::Exec(tx, "analytics_list_kept_scores", tenant, currency)) {
      kept.emplace(row[0].as<std::string>(), KeptOf(row));
    }

    const google::protobuf::Timestamp now = api::ToTimestamp(absl::Now());
    std::deque<v1::ScoresChanged> changes;
    const auto announce = [&](const std::string& name, const Kept* now_kept, const Kept* before) {
      v1::ScoresChanged& c = changes.emplace_back();
      v1::CustomerScores* s = c.mutable_scores();
      s->set_customer(name);
      s->set_currency_code(currency);
      if (now_kept != nullptr) {
        *s->mutable_rfm() = now_kept->rfm;
        s->set_churn_risk(std::max(0.0, now_kept->churn_risk));
        s->set_churn_band(now_kept->band);
      }
      *s->mutable_score_time() = now;
      if (before != nullptr) {
        c.set_previous_segment(before->rfm.segment());
        c.set_previous_churn_band(before->band);
      }
    };
    Batch batch;
    std::vector<std::string> gone;
    // Writes the batch, the scores gone and the events announced so far.
    const auto flush = [&]() -> absl::Status {
      if (IsFitting(tenant, currency)) return GaveWay();
      std::vector<events::PendingEvent> pending;
      for (const v1::ScoresChanged& c : changes) {
        pending.push_back({kScoresChanged, c.scores().customer(), &c});
      }
      CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, write_options, [&](db::Tx& write) {
        batch.Write(write, tenant, currency);
        if (!gone.empty()) {
          db::Exec(write, "analytics_delete_scores", tenant, currency, db::TextArray(gone));
        }
        events::AppendEvents(write, kSchema, tenant, pending);
        return absl::OkStatus();
      }));
      run.changed += static_cast<int64_t>(gone.size());
      run.events += static_cast<int64_t>(changes.size());
      batch = Batch();
      gone.clear();
      changes.clear();
      return absl::OkStatus();
    };
    run.customers = static_cast<int64_t>(customers.size());
    for (size_t i = 0; i < customers.size(); ++i) {
      Kept k;
      k.rfm = rfm[i];
      const auto risk = risks.find(customers[i].customer);
      if (risk != risks.end()) {
        k.churn_risk = risk->second;
        k.band = ChurnBandOf(risk->second);
      }
      const auto old = kept.find(customers[i].customer);
      const Kept* before = old == kept.end() ? nullptr : &old->second;
      if (before == nullptr || !Same(*before, k)) {
        batch.Add(customers[i].customer, k);
        ++run.changed;
        if (before == nullptr || before->rfm.segment() != k.rfm.segment() ||
            before->band != k.band) {
          announce(customers[i].customer, &k, before);
        }
      }
      if (before != nullptr) kept.erase(old);
      if (batch.size() >= kBatch) CRM_RETURN_IF_ERROR(flush());
    }
    // Those left in `kept` no longer have orders that count.
    for (const auto& [name, before] : kept) {
      gone.push_back(name);
      announce(name, nullptr, &before);
      if (gone.size() >= kBatch) CRM_RETURN_IF_ERROR(flush());
    }
    CRM_RETURN_IF_ERROR(flush());
    std::vector<RfmInput> inputs;
    inputs.reserve(rfm.size());
    for (const v1::RfmScores& r : rfm) {
      inputs.push_back({r.recency_days(), r.frequency(), r.monetary_minor()});
    }
    const RfmCuts cuts = CutsOf(inputs);
    const auto text = [](const std::vector<int64_t>& v) {
      std::vector<std::string> out;
      for (int64_t x : v) out.push_back(absl::StrCat(x));
      return db::TextArray(out);
    };
    return db::RunInTransaction(pool_, write_options, [&](db::Tx& write) {
      db::Exec(write, "analytics_finish_score_queue", tenant, currency, version,
               absl::ToInt64Milliseconds(absl::Now() - started));
      db::Exec(write, "analytics_record_score_run", tenant, currency, run.customers, run.changed,
               text(cuts.recency), text(cuts.frequency), text(cuts.monetary));
      return absl::OkStatus();
    });
  });
  if (IsGaveWay(done)) {
    run.gave_way = true;
    log::Info("scores run gave way to a fit",
              {{"tenant", tenant}, {"currency", currency}, {"changed", absl::StrCat(run.changed)}});
    return run;
  }
  CRM_RETURN_IF_ERROR(done);
  if (run.scored) {
    log::Info("scores kept",
              {{"tenant", tenant},
               {"currency", currency},
               {"customers", absl::StrCat(run.customers)},
               {"changed", absl::StrCat(run.changed)},
               {"events", absl::StrCat(run.events)},
               {"ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - started))}});
  }
  return run;
}

absl::StatusOr<v1::ListCustomerScoresResponse> ScoreStore::List(
    const server::CallScope& scope, const std::string& currency,
    const v1::ListCustomerScoresRequest& request) {
  CRM_ASSIGN_OR_RETURN(int page_size, api::EffectivePageSize(request.page_size(), 100, 1000));
  const std::string segment =
      request.segment() == v1::RFM_SEGMENT_UNSPECIFIED ? "" : api::EnumText(request.segment());
  const std::string band =
      request.churn_band() == v1::CHURN_BAND_UNSPECIFIED ? "" : api::EnumText(request.churn_band());
  const std::string query = absl::StrCat(currency, "|", segment, "|", band);
  std::string after;
  if (!request.page_token().empty()) {
    auto key = tokens_.Decode(request.page_token(), query);
    if (!key.ok() || key->size() != 1) {
      return absl::InvalidArgumentError(
          "page_token: not from a previous call with the same filters");
    }
    after = (*key)[0];
  }
  v1::ListCustomerScoresResponse out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.Clear();
    const auto rows = db::Exec(tx, "analytics_list_customer_scores", scope.tenant, currency,
                               segment, band, after, db::PageLimit(page_size));
    out.set_next_page_token(db::FillPage(
        rows, page_size, tokens_, query,
        [&](const pqxx::row& row) {
          const Kept k = KeptOf(row);
          v1::CustomerScores* s = out.add_scores();
          s->set_customer(row[0].as<std::string>());
          s->set_currency_code(currency);
          *s->mutable_rfm() = k.rfm;
          s->set_churn_risk(std::max(0.0, k.churn_risk));
          s->set_churn_band(k.band);
          *s->mutable_score_time() = TimeUtil::MicrosecondsToTimestamp(row[10].as<int64_t>());
        },
        [](const pqxx::row& row) { return std::vector<std::string>{row[0].as<std::string>()}; }));
    *out.mutable_freshness() = facts_.Freshness(tx, scope.tenant);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<RfmCuts>> ScoreStore::Cuts(const server::CallScope& scope,
                                                        const std::string& currency) {
  std::optional<RfmCuts> out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.reset();
    const auto rows = db::Exec(tx, "analytics_get_score_cuts", scope.tenant, currency);
    if (rows.empty()) return absl::OkStatus();
    const auto numbers = [](const std::string& joined) {
      std::vector<int64_t> v;
      for (const std::string& x : db::SplitJoined(joined)) {
        int64_t n = 0;
        if (absl::SimpleAtoi(x, &n)) v.push_back(n);
      }
      return v;
    };
    RfmCuts cuts{numbers(rows[0][0].as<std::string>()), numbers(rows[0][1].as<std::string>()),
                 numbers(rows[0][2].as<std::string>())};
    if (cuts.recency.size() == 4 && cuts.frequency.size() == 4 && cuts.monetary.size() == 4) {
      out = std::move(cuts);
    }
    return absl::OkStatus();
  }));
  return out;
}

ScoreStore::FitGuard::FitGuard(ScoreStore& store, std::string key)
    : store_(store), key_(std::move(key)) {
  std::lock_guard<std::mutex> lock(store_.mu_);
  store_.fitting_.insert(key_);
}

ScoreStore::FitGuard::~FitGuard() {
  std::lock_guard<std::mutex> lock(store_.mu_);
  store_.fitting_.erase(store_.fitting_.find(key_));
}

std::unique_ptr<ScoreStore::FitGuard> ScoreStore::Fitting(const std::string& tenant,
                                                          const std::string& currency) {
  return std::make_unique<FitGuard>(*this, absl::StrCat(tenant, "/", currency));
}

bool ScoreStore::IsFitting(const std::string& tenant, const std::string& currency) const {
  std::lock_guard<std::mutex> lock(mu_);
  return fitting_.count(absl::StrCat(tenant, "/", currency)) > 0;
}

std::vector<std::string> ScoreStore::FittingKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {fitting_.begin(), fitting_.end()};
}

}  // namespace crm::analytics
