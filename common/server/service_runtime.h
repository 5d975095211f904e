// A service process, assembled the same way for every service: connection
// pool, the schema's migrations, the executor for blocking work, page-token
// codec, the server runner (health follows the database and the migrations),
// the service's handlers, and, when it has one, its event feed. A service
// describes itself in a ServiceDefinition; ServiceMain (service_main.h) runs
// it from flags, tests start it in-process with ServiceRuntime::Start.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/api/page_token.h"
#include "common/db/migrator.h"
#include "common/db/pool.h"
#include "common/db/reader.h"
#include "common/events/consumer.h"
#include "common/events/event_feed.h"
#include "common/server/executor.h"
#include "common/server/runner.h"

namespace crm::server {

// Settings every service process has; ServiceMain fills them from the shared
// flags, tests set the fields they need.
struct RuntimeConfig {
  std::string db_url;
  int db_pool_size = 8;         // also the number of worker threads
  int queue_capacity = 256;     // requests waiting for a worker (and reads in flight)
  int db_read_connections = 2;  // db::Reader's own, for reads from gRPC callbacks
  bool migrate = true;          // apply migrations at start
  // HMAC secret of page tokens, the same on every replica (>= 16 bytes);
  // empty: a per-process random secret (tokens do not survive a restart).
  std::string page_token_secret;
  // Housekeeping: how often expired idempotency keys and events older than
  // `outbox_retention` are pruned (zero interval: never).
  absl::Duration housekeeping_interval = absl::Minutes(5);
  absl::Duration outbox_retention = absl::Hours(24 * 7);
  // The suite's other services this one may call, by name (the first column
  // of deploy/services.tsv) → gRPC target, e.g. customer → 127.0.0.1:50061
  // or dns:///customer:8080.
  std::map<std::string, std::string> services;
  ServerOptions server;
};

// What a service owns beyond the runtime (stores, handlers): kept alive
// until the runtime has drained.
class Component {
 public:
  virtual ~Component() = default;
};

class ServiceRuntime;

struct ServiceDefinition {
  std::string name;    // "customer": logs, metrics labels
  std::string schema;  // the service's own Postgres schema
  // Defaults of the shared flags for this service.
  int grpc_port = 0;
  int metrics_port = -1;
  int db_pool_size = 8;
  int queue_capacity = 256;
  // Serve gRPC's reflection of the process's own services.
  bool reflection = true;
  // Services this one calls: each must be in RuntimeConfig::services, or
  // Start fails naming it.
  std::vector<std::string> needs;
  // Services this one works with when they are deployed: each that is in
  // RuntimeConfig::services gets a channel like a need; the features that
  // use an absent one are off (see ServiceRuntime::Has).
  std::vector<std::string> uses;
  std::vector<db::MigrationFile> migrations;
  // Builds the stores and handlers and registers the handlers with
  // runtime.runner() (and the feed with runtime.ServeEventFeed<>()).
  std::function<absl::StatusOr<std::unique_ptr<Component>>(ServiceRuntime&)> wire;
  // Optional one-shot command selected by the service's own flags (e.g. the
  // gateway's --create_api_key): returns the exit code to end with instead
  // of serving, or nullopt to serve.
  std::function<std::optional<int>(const RuntimeConfig&)> command;
};

class ServiceRuntime {
 public:
  // Connects, migrates (unless config.migrate is false), wires the service,
  // starts serving and starts the event feed.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Start(const RuntimeConfig& config,
                                                               const ServiceDefinition& service);
  ~ServiceRuntime();

  const std::string& name() const { return name_; }
  const std::string& schema() const { return schema_; }
  db::Pool& pool() { return *pool_; }
  db::Reader& reader() { return *reader_; }
  Executor& executor() { return *executor_; }
  ServerRunner& runner() { return *runner_; }
  // A channel to `service`, one of ServiceDefinition::needs (shared; opens
  // lazily).
  std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& service);
  // Whether `service` (a need, or a use that is configured) can be called.
  bool Has(const std::string& service) const { return service_addresses_.count(service) > 0; }
  const api::PageTokenCodec& page_tokens() const { return *page_tokens_; }
  // The service's database, for a db::Listener of its own.
  const std::string& db_url() const { return db_url_; }
  // Runs `end` when the service stops, before the server drains, as the
  // event feed's streams are ended: for the service's own long-lived
  // streams (call from `wire`).
  void AddStreamEnder(std::function<void()> end) { stream_enders_.push_back(std::move(end)); }
  int port() const { return runner_->port(); }
  int metrics_port() const { return runner_->metrics_port(); }

  // Serves this service's outbox as its generated feed service `Svc`
  // (crm.<svc>.v1.EventFeedService). Call from `wire`.
  template <typename Svc>
  void ServeEventFeed() {
    auto service = std::make_unique<events::FeedService<Svc>>(EnableFeed());
    runner_->AddService(service.get());
    feed_service_ = std::move(service);
  }

  // Adds the service's own periodic work to housekeeping (call from
  // `wire`): it runs after the kit's, every housekeeping interval and on
  // Housekeep(), and returns how many rows it changed, for the log.
  void AddHousekeeping(std::function<absl::StatusOr<int64_t>()> job) {
    service_housekeeping_.push_back(std::move(job));
  }

  // Runs `step` over and over on its own thread while the service serves
  // (call from `wire`; e.g. a scheduler): `step` returns how long to wait
  // before its next run; an error is logged and retried after a second.
  // Shutdown stops it before the server drains.
  void AddLoop(std::string name, std::function<absl::StatusOr<absl::Duration>()> step) {
    loops_.push_back({std::move(name), std::move(step)});
  }

  // Follows the feed of `service` (one of ServiceDefinition::needs; `Feed`
  // its generated feed service, e.g. crm::customer::v1::EventFeedService)
  // for every tenant, applying each event of `types` with `apply` in a
  // transaction of the event's tenant, exactly once (the kit's
  // FeedConsumer, cursor `consumer` in this service's schema). Call from
  // `wire`; it runs on its own thread from start until Shutdown.
  // FAILED_PRECONDITION when `service` is not one the service needs.
  // `rebuild`, when given, rebuilds from the producer's snapshot (see
  // events::ConsumerOptions::rebuild).
  template <typename Feed>
  absl::Status Follow(const std::string& service, std::string consumer,
                      std::vector<std::string> types, events::ApplyFn apply,
                      std::function<absl::Status()> rebuild = nullptr) {
    auto address = service_addresses_.find(service);
    if (address == service_addresses_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("following ", service, ": not in the service's needs"));
    }
    std::shared_ptr<grpc::Channel> channel = ServiceChannelTo(address->second, true);
    AddFollower(events::FeedOf<Feed>(std::move(channel)), std::move(consumer), std::move(types),
                std::move(apply), std::move(rebuild));
    return absl::OkStatus();
  }

  // One round of housekeeping now (what the housekeeping thread runs every
  // interval): prunes expired idempotency keys and events past retention,
  // then runs the service's own (AddHousekeeping).
  absl::Status Housekeep();

  // Ends the event streams, drains the server, then the executor. Idempotent.
  void Shutdown();
  // Waits for SIGTERM/SIGINT, then Shutdown().
  void RunUntilSignal();

  // The Kubernetes migration Job's path: apply and return how many ran.
  static absl::StatusOr<int> MigrateOnly(const std::string& db_url,
                                         const ServiceDefinition& service);

 private:
  ServiceRuntime() = default;
  events::EventFeed& EnableFeed();
  static std::shared_ptr<grpc::Channel> ServiceChannelTo(const std::string& address,
                                                         bool own_connections);
  void EndStreams();
  void AddFollower(events::SubscribeFn feed, std::string consumer, std::vector<std::string> types,
                   events::ApplyFn apply, std::function<absl::Status()> rebuild);
  static std::vector<std::unique_ptr<db::Migrator>> Migrators(db::Pool& pool,
                                                              const ServiceDefinition& service);

  std::string name_;
  std::string schema_;
  std::string db_url_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::Reader> reader_;
  std::vector<std::unique_ptr<db::Migrator>> migrators_;  // the service's, then the kit's
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<api::PageTokenCodec> page_tokens_;
  std::unique_ptr<ServerRunner> runner_;
  std::unique_ptr<events::EventFeed> feed_;
  std::unique_ptr<grpc::Service> feed_service_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> service_channels_;
  std::map<std::string, std::string> service_addresses_;
  std::unique_ptr<Component> component_;
  std::vector<std::function<absl::StatusOr<int64_t>()>> service_housekeeping_;
  absl::Duration housekeeping_interval_;
  absl::Duration outbox_retention_;
  struct Loop {
    std::string name;
    std::function<absl::StatusOr<absl::Duration>()> step;
  };
  std::vector<Loop> loops_;
  std::vector<std::function<void()>> stream_enders_;
  std::vector<std::unique_ptr<events::FeedConsumer>> followers_;
  std::atomic<bool> stop_followers_{false};
  std::vector<std::thread> loop_threads_;
  std::thread housekeeper_;
  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stop_housekeeping_ = false;  // and the loops
  bool shut_down_ = false;
};

}  // namespace crm::server
