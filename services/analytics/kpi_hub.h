// KpiService.StreamKpis: one process-wide hub pushes dashboard snapshots to
// every open stream. The feeds' effects notify kKpiChannel in their
// transactions (ActivityStore::Changed), so the hub's db::Listener hears of
// a tenant's change exactly when it commits; one thread then computes one
// snapshot per tenant and time zone and hands it to each of its streams.
// Streams hold no thread: writes use gRPC's callback API, and a stream
// still writing keeps only the latest snapshot.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/db/listener.h"
#include "crm/analytics/v1/kpi_service.grpc.pb.h"
#include "services/analytics/activity_store.h"

namespace crm::analytics {

class KpiStream;

class KpiHub {
 public:
  // `listen_url`: the service's database (for LISTEN). `refresh`: how often
  // every stream gets a snapshot without a change.
  KpiHub(ActivityStore& activity, std::string listen_url,
         absl::Duration refresh = absl::Minutes(1));
  ~KpiHub();

  void Start();
  // Ends every stream with UNAVAILABLE and stops. Idempotent.
  void Stop();

  grpc::ServerWriteReactor<v1::KpiSnapshot>* Open(grpc::CallbackServerContext* ctx,
                                                  const v1::StreamKpisRequest* request);
  // For KpiStream::OnDone.
  void Forget(KpiStream* stream);

 private:
  void Loop();
  // The snapshot of `tenant` for today in `zone`.
  absl::StatusOr<v1::KpiSnapshot> Compute(const std::string& tenant, const absl::TimeZone& zone);

  ActivityStore& activity_;
  const absl::Duration refresh_;
  db::Listener listener_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::set<KpiStream*> streams_;
  std::set<std::string> dirty_;   // tenants changed since their last push
  std::set<KpiStream*> waiting_;  // opened, without a first snapshot
  bool everyone_ = false;         // after the listener (re)connected
  std::thread thread_;
};

class KpiServiceImpl final : public v1::KpiService::CallbackService {
 public:
  explicit KpiServiceImpl(KpiHub& hub) : hub_(hub) {}
  grpc::ServerWriteReactor<v1::KpiSnapshot>* StreamKpis(
      grpc::CallbackServerContext* ctx, const v1::StreamKpisRequest* request) override {
    return hub_.Open(ctx, request);
  }

 private:
  KpiHub& hub_;
};

}  // namespace crm::analytics
