// What every domain RPC needs from its call before touching data: the
// tenant (required), the request id (accepted or minted, echoed back), and
// the effective deadline (the caller's, or a default when it set none).
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/transaction.h"
#include "common/server/executor.h"

namespace crm::server {

inline constexpr char kTenantHeader[] = "x-crm-tenant";
inline constexpr char kRequestIdHeader[] = "x-request-id";
inline constexpr char kActorHeader[] = "x-crm-actor";
// A service following another's feed for every tenant sets this ("1")
// instead of x-crm-tenant on Subscribe (or on another method that allows
// it, CallOptions::allow_all_tenants); its scope's tenant is then
// kAllTenants. The gateway never forwards a client's x-crm-* headers, so
// only callers inside the suite's network can ask.
inline constexpr char kAllTenantsHeader[] = "x-crm-all-tenants";
inline constexpr char kAllTenants[] = "*";

struct CallScope {
  std::string tenant;
  std::string request_id;
  std::string actor;  // API key or service that made the call, if known
  absl::Time deadline = absl::InfiniteFuture();
};

struct CallOptions {
  bool require_tenant = true;
  // Accepts kAllTenantsHeader in place of a tenant (scope.tenant is then
  // kAllTenants): methods the suite's own services call for every tenant.
  bool allow_all_tenants = false;
  absl::Duration default_deadline = absl::Seconds(10);
};

// Tenant ids: 1 to 63 characters of [a-z0-9-], starting alphanumeric.
bool IsValidTenant(absl::string_view tenant);
// Request ids we accept from callers: 1 to 128 of [A-Za-z0-9_.:-].
bool IsValidRequestId(absl::string_view id);
// The `request_id` field of an idempotent request: OK when empty or valid,
// INVALID_ARGUMENT naming the field otherwise.
absl::Status CheckRequestIdField(absl::string_view request_id);

// Transaction options of a call: its tenant (row-level security) and its
// deadline (statement timeout). ReadTxFor adds READ ONLY.
db::TxOptions TxFor(const CallScope& scope);
db::TxOptions ReadTxFor(const CallScope& scope);

// Reads metadata and builds the scope; echoes x-request-id in the initial
// metadata. UNAUTHENTICATED when the tenant is missing or malformed.
absl::StatusOr<CallScope> MakeCallScope(grpc::CallbackServerContext* ctx,
                                        const CallOptions& options);

// Runs `work` on `executor` and finishes the call with its status. A full
// executor answers RESOURCE_EXHAUSTED at once; a call cancelled while queued
// is not run.
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* ctx, Executor& executor,
                                   const CallOptions& options,
                                   std::function<absl::Status(const CallScope&)> work);

// A context for calling another service of the suite on behalf of `scope`:
// the same tenant, request id and deadline, and `caller` (e.g.
// "services/ticketing") as the actor.
std::unique_ptr<grpc::ClientContext> CallOnBehalf(const CallScope& scope, absl::string_view caller);

// Finishes a call started by RunRead, exactly once, from any thread.
using Finish = std::function<void(absl::Status)>;

// A streaming reactor of type `Reactor` (e.g. grpc::ServerWriteReactor<R>)
// that only finishes its call with `status`: a stream refused before it
// starts.
template <typename Reactor>
Reactor* RejectStream(grpc::Status status) {
  class Rejected final : public Reactor {
   public:
    explicit Rejected(grpc::Status s) { this->Finish(std::move(s)); }
    void OnDone() override { delete this; }
  };
  return new Rejected(std::move(status));
}

// Runs `start` on the gRPC thread for work that does not block: it hands a
// read to db::Reader, whose callback fills the response and calls `finish`.
// No worker thread is taken while the database answers.
grpc::ServerUnaryReactor* RunRead(grpc::CallbackServerContext* ctx, const CallOptions& options,
                                  const std::function<void(const CallScope&, Finish)>& start);

}  // namespace crm::server
