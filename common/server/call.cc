#include "common/server/call.h"

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/status.h"

namespace crm::server {
namespace {

std::string Header(grpc::CallbackServerContext* ctx, absl::string_view key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

bool IsValidTenant(absl::string_view tenant) {
  if (tenant.empty() || tenant.size() > 63) return false;
  if (!absl::ascii_isalnum(tenant[0])) return false;
  return std::all_of(tenant.begin(), tenant.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

bool IsValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
  });
}

db::TxOptions TxFor(const CallScope& scope) {
  db::TxOptions options;
  options.tenant = scope.tenant;
  options.deadline = scope.deadline;
  return options;
}

db::TxOptions ReadTxFor(const CallScope& scope) {
  db::TxOptions options = TxFor(scope);
  options.read_only = true;
  return options;
}

absl::StatusOr<CallScope> MakeCallScope(grpc::CallbackServerContext* ctx,
                                        const CallOptions& options) {
  CallScope scope;
  scope.request_id = Header(ctx, kRequestIdHeader);
  if (!IsValidRequestId(scope.request_id)) scope.request_id = crypto::NewUuid();
  ctx->AddInitialMetadata(kRequestIdHeader, scope.request_id);
  scope.actor = Header(ctx, kActorHeader);
  const absl::Time caller_deadline = absl::FromChrono(ctx->deadline());
  const absl::Time fallback = absl::Now() + options.default_deadline;
  // gRPC reports "no deadline" as a time far in the future.
  if (caller_deadline < absl::InfiniteFuture() &&
      caller_deadline - absl::Now() < absl::Hours(24 * 365)) {
    scope.deadline = caller_deadline;
  } else {
    scope.deadline = fallback;
  }
  scope.tenant = Header(ctx, kTenantHeader);
  if (options.allow_all_tenants && scope.tenant.empty() && Header(ctx, kAllTenantsHeader) == "1") {
    scope.tenant = kAllTenants;
    return scope;
  }
  if (options.require_tenant) {
    if (scope.tenant.empty()) {
      return absl::UnauthenticatedError("missing x-crm-tenant metadata");
    }
    if (!IsValidTenant(scope.tenant)) {
      return absl::UnauthenticatedError("malformed x-crm-tenant metadata");
    }
  }
  return scope;
}

absl::Status CheckRequestIdField(absl::string_view request_id) {
  if (request_id.empty() || IsValidRequestId(request_id)) return absl::OkStatus();
  return absl::InvalidArgumentError("request_id: must be 1 to 128 characters of [A-Za-z0-9_.:-]");
}

std::unique_ptr<grpc::ClientContext> CallOnBehalf(const CallScope& scope,
                                                  absl::string_view caller) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!scope.tenant.empty()) ctx->AddMetadata(kTenantHeader, scope.tenant);
  if (!scope.request_id.empty()) ctx->AddMetadata(kRequestIdHeader, scope.request_id);
  ctx->AddMetadata(kActorHeader, std::string(caller));
  if (scope.deadline != absl::InfiniteFuture())
    ctx->set_deadline(absl::ToChronoTime(scope.deadline));
  return ctx;
}

namespace {

void FinishCall(grpc::ServerUnaryReactor* reactor, const CallScope& scope,
                const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInternal) {
    log::Error("rpc failed", {{"request_id", scope.request_id},
                              {"tenant", scope.tenant},
                              {"error", std::string(status.message())}});
  }
  reactor->Finish(ToGrpcStatus(status));
}

// The call's scope, shared by its continuations; nullptr once the call is
// finished because the scope is missing or malformed.
std::shared_ptr<const CallScope> BeginCall(grpc::CallbackServerContext* ctx,
                                           const CallOptions& options,
                                           grpc::ServerUnaryReactor* reactor) {
  absl::StatusOr<CallScope> scope = MakeCallScope(ctx, options);
  if (!scope.ok()) {
    reactor->Finish(ToGrpcStatus(scope.status()));
    return nullptr;
  }
  return std::make_shared<const CallScope>(std::move(scope).value());
}

}  // namespace

grpc::ServerUnaryReactor* RunRead(grpc::CallbackServerContext* ctx, const CallOptions& options,
                                  const std::function<void(const CallScope&, Finish)>& start) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto shared_scope = BeginCall(ctx, options, reactor);
  if (shared_scope == nullptr) return reactor;
  start(*shared_scope, [reactor, shared_scope](const absl::Status& status) {
    FinishCall(reactor, *shared_scope, status);
  });
  return reactor;
}

grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, Executor& executor,
                                   const CallOptions& options,
                                   std::function<absl::Status(const CallScope&)> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto shared_scope = BeginCall(ctx, options, reactor);
  if (shared_scope == nullptr) return reactor;
  bool queued = executor.TrySubmit([ctx, reactor, shared_scope, work = std::move(work)] {
    if (ctx->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"));
      return;
    }
    absl::Status status;
    if (absl::Now() >= shared_scope->deadline) {
      status = absl::DeadlineExceededError("deadline exceeded while queued");
    } else {
      status = work(*shared_scope);
    }
    FinishCall(reactor, *shared_scope, status);
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server busy: work queue full; retry with backoff"));
  }
  return reactor;
}

}  // namespace crm::server
