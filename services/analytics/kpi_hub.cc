#include "services/analytics/kpi_hub.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/timestamp.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/server/call.h"

namespace crm::analytics {
namespace {

using Snapshot = std::shared_ptr<const v1::KpiSnapshot>;

}  // namespace

// One StreamKpis call. Deleted in OnDone, after the hub forgot it. Locks:
// hub, then stream.
class KpiStream final : public grpc::ServerWriteReactor<v1::KpiSnapshot> {
 public:
  KpiStream(KpiHub* hub, std::string tenant, absl::TimeZone zone)
      : hub_(hub), tenant_(std::move(tenant)), zone_(zone) {}

  const std::string& tenant() const { return tenant_; }
  const absl::TimeZone& zone() const { return zone_; }

  // Writes `snapshot` now, or after the write in flight (replacing any
  // snapshot that was waiting for it).
  void Push(Snapshot snapshot) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    if (writing_) {
      next_ = std::move(snapshot);
      return;
    }
    WriteLocked(std::move(snapshot));
  }

  void End(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(std::move(status));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    current_.reset();
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
      return;
    }
    if (next_ != nullptr && !finishing_) WriteLocked(std::move(next_));
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
  }

  void OnDone() override {
    hub_->Forget(this);
    delete this;
  }

 private:
  void WriteLocked(Snapshot snapshot) {
    current_ = std::move(snapshot);
    next_.reset();
    writing_ = true;
    StartWrite(current_.get());
  }

  void FinishLocked(grpc::Status status) {
    if (finishing_) return;
    finishing_ = true;
    Finish(std::move(status));
  }

  KpiHub* const hub_;
  const std::string tenant_;
  const absl::TimeZone zone_;
  std::mutex mu_;
  bool writing_ = false;
  bool finishing_ = false;
  Snapshot current_;  // being written
  Snapshot next_;     // the latest, waiting for the write in flight
};

KpiHub::KpiHub(ActivityStore& activity, std::string listen_url, absl::Duration refresh)
    : activity_(activity),
      refresh_(refresh),
      listener_(std::move(listen_url), kKpiChannel, absl::Seconds(1),
                db::ListenerCallbacks{[this](const std::string& tenant) {
                                        std::lock_guard<std::mutex> lock(mu_);
                                        dirty_.insert(tenant);
                                        wake_.notify_one();
                                      },
                                      [this] {  // notifications may have been lost meanwhile
                                        std::lock_guard<std::mutex> lock(mu_);
                                        everyone_ = true;
                                        wake_.notify_one();
                                      },
                                      nullptr}) {}

KpiHub::~KpiHub() { Stop(); }

void KpiHub::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  listener_.Start();
  thread_ = std::thread([this] { Loop(); });
}

void KpiHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (KpiStream* s : streams_) {
      s->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down; reconnect"));
    }
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  listener_.Stop();
}

grpc::ServerWriteReactor<v1::KpiSnapshot>* KpiHub::Open(grpc::CallbackServerContext* ctx,
                                                        const v1::StreamKpisRequest* request) {
  using Reactor = grpc::ServerWriteReactor<v1::KpiSnapshot>;
  auto scope = server::MakeCallScope(ctx, server::CallOptions{});
  if (!scope.ok()) return server::RejectStream<Reactor>(ToGrpcStatus(scope.status()));
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!request->time_zone().empty() && !absl::LoadTimeZone(request->time_zone(), &zone)) {
    return server::RejectStream<Reactor>(grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("time_zone: \"", request->time_zone(), "\" is not an IANA time zone")));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return server::RejectStream<Reactor>(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
  auto* stream = new KpiStream(this, scope->tenant, zone);
  streams_.insert(stream);
  waiting_.insert(stream);
  wake_.notify_one();
  return stream;
}

void KpiHub::Forget(KpiStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
  waiting_.erase(stream);
}

absl::StatusOr<v1::KpiSnapshot> KpiHub::Compute(const std::string& tenant,
                                                const absl::TimeZone& zone) {
  const absl::Time now = absl::Now();
  const absl::Time day_start = absl::FromCivil(absl::ToCivilDay(now, zone), zone);
  CRM_ASSIGN_OR_RETURN(KpiCounts counts, activity_.Kpis(tenant, day_start));
  v1::KpiSnapshot out;
  *out.mutable_day_start_time() = api::ToTimestamp(day_start);
  for (const KpiCounts::Sales& s : counts.revenue) {
    v1::CurrencySales* sales = out.add_sales_today();
    sales->set_currency_code(s.currency_code);
    sales->set_orders(s.orders);
    sales->set_revenue_minor(s.revenue_minor);
  }
  out.set_new_customers_today(counts.new_customers);
  out.set_open_tickets(counts.open_tickets);
  out.set_sla_breaches_today(counts.sla_breaches);
  out.set_messages_today(counts.messages);
  *out.mutable_compute_time() = api::ToTimestamp(now);
  *out.mutable_freshness() = std::move(counts.freshness);
  return out;
}

void KpiHub::Loop() {
  absl::Time next_refresh = absl::Now() + refresh_;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // With a predicate: a change heard while the last snapshots were being
    // computed is already recorded, and its notify_one found no one
    // waiting (waiting without one lost it until the next change or the
    // refresh: the dashboard missed an order whose customer.created had
    // just woken the hub).
    wake_.wait_for(
        lock,
        absl::ToChronoMilliseconds(std::max(absl::ZeroDuration(), next_refresh - absl::Now())),
        [&] {
          return stopping_ || everyone_ || !dirty_.empty() || !waiting_.empty() ||
                 absl::Now() >= next_refresh;
        });
    if (stopping_) break;
    const bool refresh = absl::Now() >= next_refresh || everyone_;
    if (refresh) next_refresh = absl::Now() + refresh_;
    everyone_ = false;
    // The streams due a snapshot, by tenant and time zone.
    std::map<std::pair<std::string, std::string>, absl::TimeZone> due;
    for (KpiStream* s : streams_) {
      if (refresh || dirty_.count(s->tenant()) > 0 || waiting_.count(s) > 0) {
        due.emplace(std::make_pair(s->tenant(), s->zone().name()), s->zone());
      }
    }
    dirty_.clear();
    waiting_.clear();
    if (due.empty()) continue;
    lock.unlock();
    std::map<std::pair<std::string, std::string>, Snapshot> snapshots;
    for (const auto& [key, zone] : due) {
      auto snapshot = Compute(key.first, zone);
      if (!snapshot.ok()) {
        log::Warning("kpi snapshot failed",
                     {{"tenant", key.first}, {"error", snapshot.status().ToString()}});
        std::lock_guard<std::mutex> relock(mu_);
        dirty_.insert(key.first);  // try again on the next wake
        continue;
      }
      snapshots[key] = std::make_shared<const v1::KpiSnapshot>(*std::move(snapshot));
    }
    lock.lock();
    // Streams that ended meanwhile are no longer in streams_.
    for (KpiStream* s : streams_) {
      auto it = snapshots.find(std::make_pair(s->tenant(), s->zone().name()));
      if (it != snapshots.end()) s->Push(it->second);
    }
  }
}

}  // namespace crm::analytics
