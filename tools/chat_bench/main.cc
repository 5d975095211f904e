// chat_bench: many live chat streams at once against one interaction
// process, and the latency of a message from its sender's write to the
// other participant's read.
//
//   chat_bench --addr 127.0.0.1:50081 --tenant bench --streams 10000 --rate 250 --duration_s 20
//
// It takes --streams/2 LIVE_CHAT conversations of the tenant (ListConversations),
// joins each as its customer and as an agent (at most --join_concurrency
// joins in flight), then the agents send --rate messages per second in
// total, round-robin over the conversations, for --duration_s after
// --warmup_s. Each message's text carries its send time; the customer's
// stream measures the delay on receipt. The client uses gRPC's callback API
// (no thread per stream) over --channels connections.
//
// Calls go only to the address given (use loopback addresses).
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crm/interaction/v1/chat_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "tools/bench_stats.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:50081", "The interaction service (loopback)");
ABSL_FLAG(std::string, key, "", "API key (through the gateway)");
ABSL_FLAG(std::string, tenant, "", "x-crm-tenant (direct to the service)");
ABSL_FLAG(int, streams, 10000, "Streams to hold open (two per conversation)");
ABSL_FLAG(int, channels, 32, "Connections the streams are spread over");
ABSL_FLAG(int, join_concurrency, 64, "Joins in flight while connecting");
ABSL_FLAG(double, rate, 250, "Messages per second, in total");
ABSL_FLAG(double, duration_s, 20, "Measured duration");
ABSL_FLAG(double, warmup_s, 3, "Unmeasured warm-up");
ABSL_FLAG(bool, markdown, false, "Print one markdown table row instead of prose");

namespace {

namespace v1 = crm::interaction::v1;

constexpr char kAgent[] = "agents/00000000-0000-4000-8000-00000000a9e7";

void Stamp(grpc::ClientContext* ctx) {
  if (!absl::GetFlag(FLAGS_key).empty()) {
    ctx->AddMetadata("authorization", "Bearer " + absl::GetFlag(FLAGS_key));
  }
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// Counts down to zero; Wait() returns when it gets there or at `deadline`.
class Countdown {
 public:
  explicit Countdown(int n) : n_(n) {}
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--n_ <= 0) cv_.notify_all();
  }
  bool Wait(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return n_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
};

struct Shared {
  std::atomic<int64_t> measure_from{0};  // unix micros; 0: not yet
  std::atomic<int64_t> measure_until{0};
  std::atomic<int> joined{0};
  std::atomic<int> failed{0};
  std::atomic<int> in_flight_joins{0};
  std::mutex mu;
  std::condition_variable cv;  // a join finished
};

// One participant's stream.
class Participant final
    : public grpc::ClientBidiReactor<v1::ChatSessionRequest, v1::ChatSessionResponse> {
 public:
  Participant(v1::ChatService::Stub* stub, std::string conversation, bool agent, Shared* shared,
              Countdown* ended)
      : agent_(agent), shared_(shared), ended_(ended) {
    Stamp(&ctx_);
    auto* j = join_.mutable_join();
    j->set_conversation(std::move(conversation));
    j->set_role(agent ? v1::CHAT_ROLE_AGENT : v1::CHAT_ROLE_CUSTOMER);
    if (agent) j->set_agent(kAgent);
    stub->async()->ChatSession(&ctx_, this);
  }

  void Start() {
    StartRead(&in_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = true;
    }
    StartWrite(&join_);
    StartCall();
  }

  // Sends a message stamped with now and returns the stamp; 0 when a write
  // is still in flight.
  int64_t Send(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || !joined_ || done_) return 0;
    writing_ = true;
    const int64_t stamp = NowMicros();
    send_.mutable_send()->set_client_message_id(absl::StrCat("b", n));
    send_.mutable_send()->set_text(absl::StrCat("t=", stamp));
    StartWrite(&send_);
    return stamp;
  }

  void Cancel() { ctx_.TryCancel(); }

  void OnWriteDone(bool /*ok*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now = NowMicros();
    if (in_.has_joined()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        joined_ = true;
      }
      shared_->joined.fetch_add(1);
      JoinFinished();
    } else if (in_.has_message() && !agent_) {
      int64_t sent = 0;
      const std::string& text = in_.message().text();
      if (text.rfind("t=", 0) == 0 && absl::SimpleAtoi(text.substr(2), &sent)) {
        const int64_t from = shared_->measure_from.load();
        const int64_t until = shared_->measure_until.load();
        if (from != 0 && sent >= from && sent < until) {
          latencies_ms_.push_back(static_cast<double>(now - sent) / 1000.0);
        }
      }
    }
    StartRead(&in_);
  }

  void OnDone(const grpc::Status& status) override {
    bool counted_join;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      counted_join = joined_;
    }
    if (!counted_join) {
      if (status.error_code() != grpc::StatusCode::CANCELLED) {
        std::fprintf(stderr, "join failed: %s\n", status.error_message().c_str());
      }
      shared_->failed.fetch_add(1);
      JoinFinished();
    }
    ended_->Done();
  }

  const std::vector<double>& latencies() const { return latencies_ms_; }

 private:
  void JoinFinished() {
    if (join_counted_.exchange(true)) return;
    shared_->in_flight_joins.fetch_sub(1);
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->cv.notify_all();
  }

  const bool agent_;
  Shared* const shared_;
  Countdown* const ended_;
  grpc::ClientContext ctx_;
  v1::ChatSessionRequest join_;
  v1::ChatSessionRequest send_;
  v1::ChatSessionResponse in_;
  std::mutex mu_;
  bool writing_ = false;
  bool joined_ = false;
  bool done_ = false;
  std::atomic<bool> join_counted_{false};
  std::vector<double> latencies_ms_;  // OnReadDone only: one at a time
};

std::vector<std::string> LiveChats(v1::ConversationService::Stub& stub, size_t want) {
  std::vector<std::string> names;
  v1::ListConversationsRequest request;
  request.set_filter("channel = \"LIVE_CHAT\"");
  request.set_page_size(100);
  while (names.size() < want) {
    grpc::ClientContext ctx;
    Stamp(&ctx);
    v1::ListConversationsResponse response;
    const grpc::Status s = stub.ListConversations(&ctx, request, &response);
    if (!s.ok()) {
      std::fprintf(stderr, "ListConversations: %s\n", s.error_message().c_str());
      break;
    }
    for (const auto& c : response.conversations()) names.push_back(c.name());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (names.size() > want) names.resize(want);
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::ChatService::Stub>> stubs;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_channels)); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct args → distinct connections
    channels.push_back(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_addr),
                                                 grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::ChatService::NewStub(channels.back()));
  }
  auto conversations = v1::ConversationService::NewStub(channels[0]);
  const size_t pairs = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_streams) / 2));
  const std::vector<std::string> chats = LiveChats(*conversations, pairs);
  if (chats.size() < pairs) {
    std::fprintf(stderr, "only %zu LIVE_CHAT conversations for %zu pairs\n", chats.size(), pairs);
    return 1;
  }

  Shared shared;
  Countdown ended(static_cast<int>(2 * pairs));
  std::vector<std::unique_ptr<Participant>> customers, agents;
  const absl::Time join_start = absl::Now();
  const int max_joins = std::max(1, absl::GetFlag(FLAGS_join_concurrency));
  for (size_t i = 0; i < 2 * pairs; ++i) {
    {
      std::unique_lock<std::mutex> lock(shared.mu);
      shared.cv.wait(lock, [&] { return shared.in_flight_joins.load() < max_joins; });
    }
    shared.in_flight_joins.fetch_add(1);
    const size_t c = i / 2;
    auto* stub = stubs[i % stubs.size()].get();
    if (i % 2 == 0) {
      customers.push_back(std::make_unique<Participant>(stub, chats[c], false, &shared, &ended));
      customers.back()->Start();
    } else {
      agents.push_back(std::make_unique<Participant>(stub, chats[c], true, &shared, &ended));
      agents.back()->Start();
    }
  }
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    shared.cv.wait(lock, [&] { return shared.in_flight_joins.load() == 0; });
  }
  const double join_s = absl::ToDoubleSeconds(absl::Now() - join_start);
  const int joined = shared.joined.load();
  std::fprintf(stderr, "%d of %zu streams joined in %.1f s (%d failed)\n", joined, 2 * pairs,
               join_s, shared.failed.load());

  // The agents send, round-robin, at --rate.
  const double rate = std::max(1.0, absl::GetFlag(FLAGS_rate));
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::Seconds(absl::GetFlag(FLAGS_warmup_s));
  const absl::Time until = measure_from + absl::Seconds(absl::GetFlag(FLAGS_duration_s));
  shared.measure_from.store(absl::ToUnixMicros(measure_from));
  shared.measure_until.store(absl::ToUnixMicros(until));
  int64_t sent = 0, measured_sent = 0, skipped = 0;
  for (int64_t n = 0;; ++n) {
    const absl::Time due = start + absl::Seconds(static_cast<double>(n) / rate);
    if (due >= until) break;
    const absl::Time now = absl::Now();
    if (due > now) absl::SleepFor(due - now);
    // Measured as the receivers measure: by the stamp in the text.
    if (const int64_t stamp = agents[static_cast<size_t>(n) % agents.size()]->Send(n)) {
      ++sent;
      if (stamp >= shared.measure_from.load() && stamp < shared.measure_until.load()) {
        ++measured_sent;
      }
    } else {
      ++skipped;
    }
  }
  absl::SleepFor(absl::Seconds(2));  // the last messages arrive
  for (auto& p : customers) p->Cancel();
  for (auto& p : agents) p->Cancel();
  ended.Wait(absl::Now() + absl::Seconds(30));

  std::vector<double> all;
  for (auto& p : customers) all.insert(all.end(), p->latencies().begin(), p->latencies().end());
  const double seconds = absl::GetFlag(FLAGS_duration_s);
  const size_t received = all.size();
  const double p50 = crm::tools::Percentile(all, 0.50), p99 = crm::tools::Percentile(all, 0.99),
               max = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  if (absl::GetFlag(FLAGS_markdown)) {
    std::printf("| %d | %.1f | %.0f | %lld | %zu | %.2f | %.2f | %.2f |\n", joined, join_s,
                static_cast<double>(measured_sent) / seconds, static_cast<long long>(measured_sent),
                received, p50, p99, max);
  } else {
    std::printf(
        "%d streams joined in %.1f s; %lld messages sent in the measured %.0f s (%lld skipped: "
        "previous write in flight), %zu received: latency p50 %.2f ms, p99 %.2f ms, max %.2f "
        "ms\n",
        joined, join_s, static_cast<long long>(measured_sent), seconds,
        static_cast<long long>(skipped), received, p50, p99, max);
  }
  (void)sent;
  return joined == static_cast<int>(2 * pairs) && received == static_cast<size_t>(measured_sent)
             ? 0
             : 1;
}
