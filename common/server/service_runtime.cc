#include "common/server/service_runtime.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/idempotency.h"
#include "common/events/outbox.h"

namespace crm::server {

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Start(
    const RuntimeConfig& config, const ServiceDefinition& service) {
  std::string secret = config.page_token_secret;
  if (secret.empty()) {
    log::Warning(
        "no --page_token_secret_file: using a per-process secret; page tokens will not "
        "survive a restart or cross replicas");
    secret = crypto::RandomToken(32);
  } else if (secret.size() < 16) {
    return absl::InvalidArgumentError("page token secret must be at least 16 bytes");
  }
  for (const std::string& need : service.needs) {
    if (config.services.count(need) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--services: ", service.name, " calls ", need,
                                                     "; add ", need, "=<address>"));
    }
  }
  std::unique_ptr<ServiceRuntime> rt(new ServiceRuntime());
  for (const std::string& need : service.needs) {
    rt->service_addresses_[need] = config.services.at(need);
    rt->service_channels_[need] = ServiceChannelTo(config.services.at(need), false);
  }
  for (const std::string& use : service.uses) {
    const auto it = config.services.find(use);
    if (it == config.services.end()) continue;
    rt->service_addresses_[use] = it->second;
    rt->service_channels_[use] = ServiceChannelTo(it->second, false);
  }
  rt->name_ = service.name;
  rt->schema_ = service.schema;
  rt->db_url_ = config.db_url;
  rt->pool_ =
      std::make_unique<db::Pool>(db::PoolOptions{config.db_url, config.db_pool_size, service.name});
  rt->migrators_ = Migrators(*rt->pool_, service);
  if (config.migrate) {
    int applied = 0;
    for (auto& m : rt->migrators_) {
      CRM_ASSIGN_OR_RETURN(int n, m->Migrate());
      applied += n;
    }
    log::Info("migrations current",
              {{"schema", service.schema}, {"applied_now", absl::StrCat(applied)}});
  }
  rt->executor_ = std::make_unique<Executor>(config.db_pool_size, config.queue_capacity);
  rt->reader_ = std::make_unique<db::Reader>(
      *rt->pool_, db::ReaderOptions{config.db_read_connections, config.queue_capacity});
  rt->page_tokens_ = std::make_unique<api::PageTokenCodec>(std::move(secret));
  ServerOptions server = config.server;
  server.reflection = service.reflection;
  rt->runner_ = std::make_unique<ServerRunner>(server);
  ServiceRuntime* self = rt.get();
  rt->runner_->SetReadinessCheck([self]() -> absl::Status {
    for (auto& m : self->migrators_) {
      CRM_ASSIGN_OR_RETURN(bool current, m->IsCurrent());
      if (!current) return absl::FailedPreconditionError("migrations not current");
    }
    return absl::OkStatus();
  });
  if (service.wire) {
    CRM_ASSIGN_OR_RETURN(rt->component_, service.wire(*rt));
  }
  CRM_RETURN_IF_ERROR(rt->runner_->Start());
  if (rt->feed_ != nullptr) rt->feed_->Start();
  for (auto& follower : rt->followers_) {
    events::FeedConsumer* consumer = follower.get();
    rt->loop_threads_.emplace_back([self, consumer] { consumer->Run(self->stop_followers_); });
  }
  for (const Loop& loop : rt->loops_) {
    rt->loop_threads_.emplace_back([self, &loop] {
      std::unique_lock<std::mutex> lock(self->housekeeping_mu_);
      while (!self->stop_housekeeping_) {
        lock.unlock();
        absl::StatusOr<absl::Duration> wait = loop.step();
        if (!wait.ok()) {
          log::Warning("loop failed",
                       {{"loop", loop.name}, {"error", std::string(wait.status().message())}});
          wait = absl::Seconds(1);
        }
        lock.lock();
        if (self->stop_housekeeping_) break;
        const absl::Duration bounded = std::clamp(*wait, absl::ZeroDuration(), absl::Minutes(1));
        self->housekeeping_cv_.wait_for(lock, absl::ToChronoMicroseconds(bounded));
      }
    });
  }
  rt->housekeeping_interval_ = config.housekeeping_interval;
  rt->outbox_retention_ = config.outbox_retention;
  if (config.housekeeping_interval > absl::ZeroDuration()) {
    rt->housekeeper_ = std::thread([self] {
      std::unique_lock<std::mutex> lock(self->housekeeping_mu_);
      while (!self->stop_housekeeping_) {
        self->housekeeping_cv_.wait_for(lock,
                                        absl::ToChronoMilliseconds(self->housekeeping_interval_));
        if (self->stop_housekeeping_) break;
        lock.unlock();
        absl::Status status = self->Housekeep();
        if (!status.ok()) {
          log::Warning("housekeeping failed", {{"error", std::string(status.message())}});
        }
        lock.lock();
      }
    });
  }
  return rt;
}

ServiceRuntime::~ServiceRuntime() { Shutdown(); }

std::shared_ptr<grpc::Channel> ServiceRuntime::ServiceChannelTo(const std::string& address,
                                                                bool own_connections) {
  grpc::ChannelArguments args;
  // With a headless Service (dns:///), spread calls over every pod.
  args.SetLoadBalancingPolicyName("round_robin");
  // A restarted peer is reached again within a second, not after gRPC's
  // default backoff of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A follower's long stream, and its retries while the peer is not up
  // yet, do not share connections (or their backoff) with calls.
  if (own_connections) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::shared_ptr<grpc::Channel> ServiceRuntime::ServiceChannel(const std::string& service) {
  auto it = service_channels_.find(service);
  return it == service_channels_.end() ? nullptr : it->second;
}

void ServiceRuntime::AddFollower(events::SubscribeFn feed, std::string consumer,
                                 std::vector<std::string> types, events::ApplyFn apply,
                                 std::function<absl::Status()> rebuild) {
  events::ConsumerOptions options;
  options.schema = schema_;
  options.consumer = std::move(consumer);
  options.tenant = kAllTenants;
  options.types = std::move(types);
  options.rebuild = std::move(rebuild);
  followers_.push_back(std::make_unique<events::FeedConsumer>(
      std::move(feed), *pool_, std::move(options), std::move(apply)));
}

events::EventFeed& ServiceRuntime::EnableFeed() {
  if (feed_ == nullptr) {
    feed_ = std::make_unique<events::EventFeed>(*pool_, *executor_, schema_, db_url_);
  }
  return *feed_;
}

absl::Status ServiceRuntime::Housekeep() {
  CRM_ASSIGN_OR_RETURN(int64_t keys,
                       db::PruneIdempotencyKeys(*pool_, schema_, db::kIdempotencyWindow));
  CRM_ASSIGN_OR_RETURN(int64_t events, events::PruneOutbox(*pool_, schema_, outbox_retention_));
  int64_t own = 0;
  for (const auto& job : service_housekeeping_) {
    CRM_ASSIGN_OR_RETURN(int64_t changed, job());
    own += changed;
  }
  if (keys > 0 || events > 0 || own > 0) {
    log::Info("housekeeping", {{"idempotency_keys_pruned", absl::StrCat(keys)},
                               {"events_pruned", absl::StrCat(events)},
                               {"service_rows_changed", absl::StrCat(own)}});
  }
  return absl::OkStatus();
}

void ServiceRuntime::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    std::lock_guard<std::mutex> lock(housekeeping_mu_);
    stop_housekeeping_ = true;
  }
  housekeeping_cv_.notify_all();
  stop_followers_ = true;
  for (auto& follower : followers_) follower->Cancel();  // ends a wait for the next event
  if (housekeeper_.joinable()) housekeeper_.join();
  for (std::thread& t : loop_threads_) t.join();
  // Open streams end first, so the drain is not held up by them.
  EndStreams();
  // A runtime whose migrations failed never got a server or an executor.
  if (runner_ != nullptr) runner_->Shutdown();
  if (executor_ != nullptr) executor_->Shutdown();
}

void ServiceRuntime::RunUntilSignal() {
  runner_->RunUntilSignal([this] { EndStreams(); });
  Shutdown();
}

void ServiceRuntime::EndStreams() {
  if (feed_ != nullptr) feed_->Stop();
  for (const auto& end : stream_enders_) end();
}

absl::StatusOr<int> ServiceRuntime::MigrateOnly(const std::string& db_url,
                                                const ServiceDefinition& service) {
  db::Pool pool(db::PoolOptions{db_url, 1, service.name + "-migrate"});
  int applied = 0;
  for (auto& m : Migrators(pool, service)) {
    CRM_ASSIGN_OR_RETURN(int n, m->Migrate());
    applied += n;
  }
  return applied;
}

std::vector<std::unique_ptr<db::Migrator>> ServiceRuntime::Migrators(
    db::Pool& pool, const ServiceDefinition& service) {
  // The service's own first: services older than the kit created some of
  // the kit's tables in theirs (db/kit_migrations uses IF NOT EXISTS).
  std::vector<std::unique_ptr<db::Migrator>> migrators;
  migrators.push_back(std::make_unique<db::Migrator>(pool, service.schema, service.migrations));
  migrators.push_back(
      std::make_unique<db::Migrator>(pool, service.schema, db::KitMigrations(), "kit"));
  return migrators;
}

}  // namespace crm::server
