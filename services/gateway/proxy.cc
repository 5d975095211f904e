#include "services/gateway/proxy.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_callback.h>
#include <prometheus/counter.h>

#include <atomic>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/crypto.h"
#include "common/base/log.h"
#include "common/base/metrics.h"
#include "common/base/status.h"
#include "common/server/call.h"

namespace crm::gateway {
namespace {

std::string Header(const grpc::GenericCallbackServerContext* ctx, absl::string_view key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

// Metadata the gateway owns (all of x-crm-*: tenant, actor, the services'
// own x-crm-all-tenants) or that gRPC itself manages.
bool IsHopHeader(absl::string_view key) {
  return absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") ||
         absl::StartsWith(key, "x-crm-") || key == "authorization" || key == "x-request-id" ||
         key == "user-agent" || key == "content-type" || key == "te" || key == "host";
}

bool IsValidHeaderKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

// What every proxied call checks once its key is known: a route for the
// method, the key's scope, its rate; then the backend call's metadata
// (tenant, actor, request id, the caller's own headers) and deadline: the
// caller's, or for a unary call without one the gateway's default. A
// stream without one lasts until either side ends it (a live chat, a
// dashboard, a feed, a bulk import): the backend sets its own limit.
// Returns the backend's stub.
absl::StatusOr<grpc::GenericStub*> Admit(Proxy* proxy, grpc::GenericCallbackServerContext* ctx,
                                         const KeyInfo& key, const std::string& request_id,
                                         bool unary, grpc::ClientContext* backend) {
  auto method = ParseMethod(ctx->method());
  if (!method.ok()) return absl::UnimplementedError("unknown method");
  grpc::GenericStub* stub = proxy->StubFor(method->package);
  if (stub == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("no route for ", method->package, " on this gateway"));
  }
  const std::string scope = RequiredScope(*method);
  if (!HasScope(key.scopes, scope)) {
    return absl::PermissionDeniedError(absl::StrCat("API key lacks scope ", scope));
  }
  CRM_RETURN_IF_ERROR(proxy->RateLimit(ctx, key));
  for (const auto& [k, v] : ctx->client_metadata()) {
    absl::string_view key_view(k.data(), k.size());
    if (IsHopHeader(key_view) || !IsValidHeaderKey(key_view)) continue;
    backend->AddMetadata(std::string(key_view), std::string(v.data(), v.size()));
  }
  backend->AddMetadata(server::kTenantHeader, key.tenant);
  backend->AddMetadata(server::kActorHeader, absl::StrCat("apiKeys/", key.id));
  backend->AddMetadata(server::kRequestIdHeader, request_id);
  const absl::Time caller = absl::FromChrono(ctx->deadline());
  if (caller - absl::Now() < absl::Hours(24 * 365)) {
    backend->set_deadline(absl::ToChronoTime(caller));
  } else if (unary) {
    backend->set_deadline(absl::ToChronoTime(absl::Now() + proxy->options().default_deadline));
  }
  return stub;
}

// The backend's metadata that goes back to the client (not the hop's own).
void CopyBackendMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& from,
                         bool initial, grpc::GenericCallbackServerContext* to) {
  for (const auto& [k, v] : from) {
    absl::string_view key(k.data(), k.size());
    if (IsHopHeader(key) || (initial && key == server::kRequestIdHeader)) continue;
    if (initial) {
      to->AddInitialMetadata(std::string(key), std::string(v.data(), v.size()));
    } else {
      to->AddTrailingMetadata(std::string(key), std::string(v.data(), v.size()));
    }
  }
}

grpc::Status BackendStatus(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return status;
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("backend unavailable: ", status.error_message()));
}

std::string RequestIdOf(grpc::GenericCallbackServerContext* ctx) {
  std::string id = Header(ctx, server::kRequestIdHeader);
  if (!server::IsValidRequestId(id)) id = crypto::NewUuid();
  ctx->AddInitialMetadata(server::kRequestIdHeader, id);
  return id;
}

// crm_gateway_proxied_calls_total{path}: which proxy path calls took.
prometheus::Counter& PathCounter(const std::string& path) {
  static auto& family = prometheus::BuildCounter()
                            .Name("crm_gateway_proxied_calls_total")
                            .Help("Calls the gateway proxied, by path: unary (short) or stream")
                            .Register(metrics::Registry());
  return family.Add({{"path", path}});
}

// A unary method (the backend's reflection says so): one read, one unary
// call to the backend, one write with the status. Three operations where
// the streaming path below needs about ten.
class UnaryCall final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryCall(Proxy* proxy, grpc::GenericCallbackServerContext* ctx)
      : proxy_(proxy), ctx_(ctx), request_id_(RequestIdOf(ctx)) {
    proxy_->Authenticate(ctx_, [this](absl::StatusOr<KeyInfo> key) {
      absl::StatusOr<grpc::GenericStub*> stub =
          key.ok() ? Admit(proxy_, ctx_, *key, request_id_, true, &client_ctx_) : key.status();
      if (!stub.ok()) {
        Finish(ToGrpcStatus(stub.status()));
        return;
      }
      stub_ = *stub;
      StartRead(&request_);
    });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "no request message"));
      return;
    }
    stub_->UnaryCall(&client_ctx_, ctx_->method(), grpc::StubOptions(), &request_, &response_,
                     [this](grpc::Status status) {
                       CopyBackendMetadata(client_ctx_.GetServerInitialMetadata(), true, ctx_);
                       CopyBackendMetadata(client_ctx_.GetServerTrailingMetadata(), false, ctx_);
                       if (status.ok()) {
                         StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
                       } else {
                         Finish(BackendStatus(status));
                       }
                     });
  }

  void OnCancel() override { client_ctx_.TryCancel(); }
  void OnDone() override { delete this; }

 private:
  Proxy* proxy_;
  grpc::GenericCallbackServerContext* ctx_;
  const std::string request_id_;
  grpc::ClientContext client_ctx_;
  grpc::GenericStub* stub_ = nullptr;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// One proxied call. Both directions alternate one read with one write, so
// each buffer has a single owner at a time. Deleted when the server side
// and (if started) the backend side have both reported done.
class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(Proxy* proxy, grpc::GenericCallbackServerContext* ctx)
      : proxy_(proxy), ctx_(ctx), backend_(this), request_id_(RequestIdOf(ctx)) {
    Authenticate();
  }

  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      backend_.StartWrite(&request_);
    } else {
      backend_.StartWritesDone();  // client half-closed
      ReleaseRequestHold();
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      backend_.StartRead(&response_);
    } else {
      client_ctx_.TryCancel();  // the client went away
      ReleaseResponseHold();
    }
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (backend_started_ && !backend_done_) client_ctx_.TryCancel();
  }

  void OnDone() override { Unref(); }

 private:
  class BackendReactor final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit BackendReactor(ProxyCall* call) : call_(call) {}
    void OnReadInitialMetadataDone(bool ok) override { call_->BackendInitialMetadata(ok); }
    void OnReadDone(bool ok) override { call_->BackendReadDone(ok); }
    void OnWriteDone(bool ok) override { call_->BackendWriteDone(ok); }
    void OnDone(const grpc::Status& status) override { call_->BackendDone(status); }

   private:
    ProxyCall* call_;
  };

  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  // The backend stream object dies as soon as it has no operation pending,
  // possibly before its OnDone runs. Each direction therefore holds the
  // stream while it may still start an operation on it, and lets go once it
  // never will (call with mu_ held).
  void ReleaseRequestHold() {
    if (request_hold_) {
      request_hold_ = false;
      backend_.RemoveHold();
    }
  }
  void ReleaseResponseHold() {
    if (response_hold_) {
      response_hold_ = false;
      backend_.RemoveHold();
    }
  }

  void Fail(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    Finish(ToGrpcStatus(status));
  }

  void Authenticate() {
    proxy_->Authenticate(ctx_, [this](absl::StatusOr<KeyInfo> key) { Authorized(std::move(key)); });
  }

  void Authorized(absl::StatusOr<KeyInfo> key) {
    absl::StatusOr<grpc::GenericStub*> admitted =
        key.ok() ? Admit(proxy_, ctx_, *key, request_id_, false, &client_ctx_) : key.status();
    if (!admitted.ok()) {
      Fail(admitted.status());
      return;
    }
    grpc::GenericStub* stub = *admitted;
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
      return;
    }
    backend_started_ = true;
    refs_.fetch_add(1);
    stub->PrepareBidiStreamingCall(&client_ctx_, ctx_->method(), grpc::StubOptions(), &backend_);
    request_hold_ = response_hold_ = true;
    backend_.AddMultipleHolds(2);
    backend_.StartRead(&response_);
    backend_.StartCall();
    StartRead(&request_);
  }

  void BackendInitialMetadata(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok || initial_metadata_sent_) return;
    CopyBackendMetadata(client_ctx_.GetServerInitialMetadata(), true, ctx_);
  }

  void BackendReadDone(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) {
      ReleaseResponseHold();  // the status follows in BackendDone
      return;
    }
    initial_metadata_sent_ = true;
    StartWrite(&response_);
  }

  void BackendWriteDone(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      StartRead(&request_);
    } else {
      ReleaseRequestHold();  // the backend stopped taking messages
    }
  }

  void BackendDone(const grpc::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      backend_done_ = true;
      CopyBackendMetadata(client_ctx_.GetServerTrailingMetadata(), false, ctx_);
      Finish(BackendStatus(status));
    }
    Unref();
  }

  Proxy* proxy_;
  grpc::GenericCallbackServerContext* ctx_;
  grpc::ClientContext client_ctx_;
  BackendReactor backend_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string request_id_;
  std::mutex mu_;
  bool cancelled_ = false;
  bool backend_started_ = false;
  bool backend_done_ = false;
  bool initial_metadata_sent_ = false;
  bool request_hold_ = false;
  bool response_hold_ = false;
  std::atomic<int> refs_{1};
};

// grpc.reflection.v1alpha for the whole suite (reflection.h): any valid API
// key may describe the API; each request is answered on the executor,
// because answering may ask a backend.
class ReflectionCall final : public grpc::ServerGenericBidiReactor {
 public:
  ReflectionCall(Proxy* proxy, grpc::GenericCallbackServerContext* ctx) : proxy_(proxy), ctx_(ctx) {
    proxy_->Authenticate(ctx_, [this](absl::StatusOr<KeyInfo> key) {
      absl::Status admitted = key.ok() ? proxy_->RateLimit(ctx_, *key) : key.status();
      if (!admitted.ok()) {
        Finish(ToGrpcStatus(admitted));
        return;
      }
      StartRead(&request_);
    });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);  // the client closed its side
      return;
    }
    std::string bytes = BytesOf(request_);
    const absl::Time caller = absl::FromChrono(ctx_->deadline());
    const absl::Time deadline = std::min(caller, absl::Now() + absl::Seconds(10));
    if (!proxy_->executor().TrySubmit([this, bytes = std::move(bytes), deadline] {
          grpc::Slice answer(proxy_->reflection().Answer(bytes, deadline));
          response_ = grpc::ByteBuffer(&answer, 1);
          StartWrite(&response_);
        })) {
      Finish(ToGrpcStatus(absl::ResourceExhaustedError("gateway busy; retry with backoff")));
    }
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      StartRead(&request_);
    } else {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    }
  }

  void OnDone() override { delete this; }

 private:
  Proxy* proxy_;
  grpc::GenericCallbackServerContext* ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

void Proxy::Authenticate(grpc::GenericCallbackServerContext* ctx,
                         std::function<void(absl::StatusOr<KeyInfo>)> done) {
  const std::string auth = Header(ctx, "authorization");
  if (!absl::StartsWithIgnoreCase(auth, "bearer ") || auth.size() <= 7) {
    done(absl::UnauthenticatedError("missing 'authorization: Bearer <api key>'"));
    return;
  }
  std::string secret = auth.substr(7);
  absl::StatusOr<KeyInfo> cached;
  if (keys_.LookupCached(secret, &cached)) {
    done(std::move(cached));
    return;
  }
  // Cache miss: one pipelined read; `done` runs when the database answers.
  const absl::Time caller = absl::FromChrono(ctx->deadline());
  const absl::Time deadline = std::min(caller, absl::Now() + options_.default_deadline);
  keys_.Lookup(secret, deadline, std::move(done));
}

absl::Status Proxy::RateLimit(grpc::GenericCallbackServerContext* ctx, const KeyInfo& key) {
  absl::Duration retry_after;
  if (limiter_.Allow(key.id, absl::Now(), &retry_after)) return absl::OkStatus();
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(retry_after));
  ctx->AddTrailingMetadata("x-crm-retry-after-ms", absl::StrCat(ms));
  return absl::ResourceExhaustedError(
      absl::StrCat("rate limit of this API key exceeded; retry after ", ms, " ms"));
}

Proxy::Proxy(const std::vector<Route>& routes, ApiKeyStore& keys, server::Executor& executor,
             ProxyOptions options, std::vector<std::string> own_services)
    : keys_(keys),
      executor_(executor),
      options_(options),
      limiter_(options.rate_limit_qps, options.rate_limit_burst) {
  std::vector<ReflectionMerger::Backend> reflection_backends;
  for (const auto& r : routes) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
    // With a headless Service (dns:///), spread calls over every backend pod.
    args.SetLoadBalancingPolicyName("round_robin");
    auto channel = grpc::CreateCustomChannel(r.address, grpc::InsecureChannelCredentials(), args);
    backends_[r.package] = Backend{channel, std::make_unique<grpc::GenericStub>(channel)};
    reflection_backends.push_back({r.package, ReflectionOver(channel)});
  }
  reflection_ =
      std::make_unique<ReflectionMerger>(std::move(own_services), std::move(reflection_backends));
  method_kinds_ = std::make_unique<MethodKinds>(*reflection_, executor_);
}

grpc::GenericStub* Proxy::StubFor(const std::string& package) {
  auto it = backends_.find(package);
  return it == backends_.end() ? nullptr : it->second.stub.get();
}

grpc::ServerGenericBidiReactor* Proxy::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  if (ctx->method() == kReflectionMethod) return new ReflectionCall(this, ctx);
  static prometheus::Counter& unary = PathCounter("unary");
  static prometheus::Counter& stream = PathCounter("stream");
  if (method_kinds_->Get(ctx->method()) == MethodKinds::Kind::kUnary) {
    unary.Increment();
    return new UnaryCall(this, ctx);
  }
  stream.Increment();
  return new ProxyCall(this, ctx);
}

}  // namespace crm::gateway
