#include "common/events/consumer.h"

#include <grpcpp/client_context.h>

#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/server/call.h"

namespace crm::events {

FeedConsumer::FeedConsumer(SubscribeFn feed, db::Pool& pool, ConsumerOptions options, ApplyFn apply)
    : feed_(std::move(feed)), pool_(pool), options_(std::move(options)), apply_(std::move(apply)) {}

absl::StatusOr<std::string> FeedConsumer::StoredCursor() {
  std::string cursor;
  db::TxOptions tx_options;
  tx_options.tenant = options_.tenant;
  tx_options.deadline = absl::Now() + absl::Seconds(10);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, tx_options, [&](db::Tx& tx) {
    auto rows = tx.exec_params(absl::StrCat("SELECT cursor FROM ", options_.schema,
                                            ".consumer_cursors WHERE tenant_id = $1 AND "
                                            "consumer = $2"),
                               options_.tenant, options_.consumer);
    cursor = rows.empty() ? "" : rows[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  return cursor;
}

void StoreCursor(db::Tx& tx, const std::string& schema, const std::string& tenant,
                 const std::string& consumer, const std::string& cursor) {
  tx.exec_params(absl::StrCat("INSERT INTO ", schema,
                              ".consumer_cursors (tenant_id, consumer, cursor) VALUES ($1, $2, $3) "
                              "ON CONFLICT (tenant_id, consumer) DO UPDATE SET cursor = "
                              "excluded.cursor, update_time = now()"),
                 tenant, consumer, cursor);
}

absl::Status FeedConsumer::Rebuild(absl::string_view why) {
  log::Info("event consumer rebuilding from a snapshot",
            {{"consumer", options_.consumer}, {"reason", std::string(why)}});
  const absl::Time start = absl::Now();
  CRM_RETURN_IF_ERROR(options_.rebuild());
  log::Info("event consumer rebuilt",
            {{"consumer", options_.consumer},
             {"ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - start))}});
  return absl::OkStatus();
}

absl::StatusOr<bool> FeedConsumer::ApplyOne(const crm::events::v1::Event& event) {
  CRM_ASSIGN_OR_RETURN(Cursor incoming, ParseCursor(event.cursor()));
  bool applied = false;
  db::TxOptions tx_options;
  tx_options.tenant = options_.tenant;
  tx_options.deadline = absl::Now() + absl::Seconds(30);
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, tx_options, [&](db::Tx& tx) {
    applied = false;
    const bool all = options_.tenant == server::kAllTenants;
    // Following every tenant: the cursor row is the '*' tenant's, the
    // effect runs as the event's tenant (row-level security holds it there).
    const auto as_tenant = [&tx](const std::string& tenant) {
      tx.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
    };
    if (all && !server::IsValidTenant(event.tenant())) {
      return absl::InternalError(absl::StrCat("event ", event.cursor(), " has no valid tenant"));
    }
    // Lock the cursor row so two consumers of the same name never both apply.
    tx.exec_params(absl::StrCat("INSERT INTO ", options_.schema,
                                ".consumer_cursors (tenant_id, consumer, cursor) VALUES ($1, "
                                "$2, '') ON CONFLICT (tenant_id, consumer) DO NOTHING"),
                   options_.tenant, options_.consumer);
    auto rows = tx.exec_params(absl::StrCat("SELECT cursor FROM ", options_.schema,
                                            ".consumer_cursors WHERE tenant_id = $1 AND "
                                            "consumer = $2 FOR UPDATE"),
                               options_.tenant, options_.consumer);
    CRM_ASSIGN_OR_RETURN(Cursor stored, ParseCursor(rows[0][0].as<std::string>()));
    if (incoming <= stored) return absl::OkStatus();  // already applied
    if (all) as_tenant(event.tenant());
    CRM_RETURN_IF_ERROR(apply_(tx, event));
    if (all) as_tenant(options_.tenant);
    tx.exec_params(absl::StrCat("UPDATE ", options_.schema,
                                ".consumer_cursors SET cursor = $3, update_time = now() "
                                "WHERE tenant_id = $1 AND consumer = $2"),
                   options_.tenant, options_.consumer, event.cursor());
    applied = true;
    return absl::OkStatus();
  }));
  return applied;
}

absl::StatusOr<int> FeedConsumer::RunOnce(int max_events, absl::Duration max_time,
                                          const std::atomic<bool>* stop) {
  CRM_ASSIGN_OR_RETURN(std::string cursor, StoredCursor());
  if (cursor.empty() && options_.rebuild) {
    CRM_RETURN_IF_ERROR(Rebuild("no cursor yet"));
    CRM_ASSIGN_OR_RETURN(cursor, StoredCursor());
  }
  grpc::ClientContext ctx;
  if (options_.tenant == server::kAllTenants) {
    ctx.AddMetadata(server::kAllTenantsHeader, "1");
  } else {
    ctx.AddMetadata(server::kTenantHeader, options_.tenant);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return 0;
    active_ = &ctx;
  }
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + max_time));
  crm::events::v1::SubscribeRequest request;
  request.set_after_cursor(cursor);
  for (const auto& t : options_.types) request.add_types(t);
  auto reader = feed_(&ctx, request);
  crm::events::v1::SubscribeResponse response;
  int applied = 0;
  absl::Status failure;
  bool ended = false;  // by the server: Finish gives its status
  while (applied < max_events) {
    if (!reader->Read(&response)) {
      ended = true;
      break;
    }
    auto one = ApplyOne(response.event());
    if (!one.ok()) {
      failure = one.status();
      break;
    }
    if (*one) ++applied;
    if (stop != nullptr && stop->load()) break;
  }
  if (!ended) ctx.TryCancel();
  grpc::Status finish = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  if (!failure.ok()) return failure;
  if (applied >= max_events || finish.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
      finish.error_code() == grpc::StatusCode::CANCELLED) {
    return applied;
  }
  if (finish.error_code() == grpc::StatusCode::OUT_OF_RANGE && options_.rebuild) {
    CRM_RETURN_IF_ERROR(Rebuild(finish.error_message()));
    return applied;
  }
  if (!finish.ok()) return FromGrpcStatus(finish);
  return applied;
}

void FeedConsumer::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (active_ != nullptr) active_->TryCancel();
}

void FeedConsumer::Run(const std::atomic<bool>& stop) {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop.load()) {
    auto result = RunOnce(1 << 30, absl::Minutes(5), &stop);
    if (result.ok()) {
      backoff = absl::Milliseconds(100);
      continue;
    }
    log::Warning(
        "event consumer reconnecting",
        {{"consumer", options_.consumer}, {"error", std::string(result.status().message())}});
    for (absl::Time until = absl::Now() + backoff; absl::Now() < until && !stop.load();) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
}

}  // namespace crm::events
