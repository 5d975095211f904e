// loadgen: a fixed-concurrency, fixed-duration gRPC load generator for the
// suite. Prints calls, errors, QPS and latency percentiles.
//
//   loadgen --addr 127.0.0.1:50051 --key KEY --rpc get_customer --concurrency 16 --duration_s 10
//   loadgen --addr 127.0.0.1:50061 --tenant bench --rpc get_customer ...   (direct to a service)
//   loadgen --addr 127.0.0.1:50061 --rpc health ...                        (no-database baseline)
//   loadgen --addr 127.0.0.1:50051 --key KEY --rpc create_ticket ...        (tickets for sampled
//           customers; create_customer, list_tickets --filter F likewise)
//   loadgen --addr 127.0.0.1:50051 --key KEY --rpc receive_message --senders 1000
//           (inbound SMS from a pool of senders, each a new external id)
//   loadgen --addr 127.0.0.1:50051 --key KEY --rpc list_timeline --customers 200000
//           (first timeline page of customers/00000000-0000-4000-8000-<n>, n round-robin)
//   loadgen --addr 127.0.0.1:50051 --key KEY --rpc send_message
//           (a transactional e-mail to sampled customers, queued for delivery)
//   loadgen --addr 127.0.0.1:50061 --tenant bench --rpc import_orders --csv orders.csv
//           --concurrency 2                        (ImportOrders throughput over 2 streams)
//
// import_orders reads the whole CSV (crmctl's order format) into requests of
// 1000 orders before the clock starts, so it measures the RPC, not the CSV
// parser; crmctl's customer-to-stream split keeps a customer's orders in order.
//
// Calls go only to the address given (use loopback addresses).
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "tools/bench_stats.h"
#include "tools/crmctl/csv_import.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:50051", "Target address (loopback)");
ABSL_FLAG(std::string, key, "", "API key (through the gateway)");
ABSL_FLAG(std::string, tenant, "", "x-crm-tenant (direct to a service)");
ABSL_FLAG(std::string, rpc, "get_customer",
          "get_customer | list_customers | search_customers | create_customer | create_ticket | "
          "list_tickets | health | import_orders | receive_message | list_timeline | "
          "send_message");
ABSL_FLAG(int, senders, 1000, "receive_message: distinct sender numbers");
ABSL_FLAG(int, customers, 1000,
          "list_timeline: customers/00000000-0000-4000-8000-<n> for n below this");
ABSL_FLAG(std::string, query, "Morgan", "Query for search_customers");
ABSL_FLAG(std::string, csv, "", "Orders CSV for import_orders");
ABSL_FLAG(std::string, filter, "country = \"FR\"", "Filter for list_customers / list_tickets");
ABSL_FLAG(int, page_size, 50, "Page size for list_customers / list_tickets");
ABSL_FLAG(int, concurrency, 16, "Calls in flight");
ABSL_FLAG(int, channels, 4, "gRPC channels shared round-robin by the threads");
ABSL_FLAG(double, duration_s, 10, "Measured duration");
ABSL_FLAG(double, warmup_s, 2, "Unmeasured warm-up");
ABSL_FLAG(int64_t, max_calls, 0, "Stop after this many calls in all (0: run for the duration)");
ABSL_FLAG(std::string, label, "", "Label printed in the markdown row");
ABSL_FLAG(bool, markdown, false, "Print one markdown table row instead of prose");

namespace {

using crm::customer::v1::CustomerService;

void Stamp(grpc::ClientContext* ctx) {
  if (!absl::GetFlag(FLAGS_key).empty()) {
    ctx->AddMetadata("authorization", "Bearer " + absl::GetFlag(FLAGS_key));
  }
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
}

// Names of up to 1000 customers to read, round-robin.
std::vector<std::string> SampleNames(CustomerService::Stub& stub) {
  std::vector<std::string> names;
  crm::customer::v1::ListCustomersRequest request;
  request.set_page_size(1000);
  crm::customer::v1::ListCustomersResponse response;
  grpc::ClientContext ctx;
  Stamp(&ctx);
  grpc::Status s = stub.ListCustomers(&ctx, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot list customers: %s\n", s.error_message().c_str());
    return names;
  }
  for (const auto& c : response.customers()) names.push_back(c.name());
  return names;
}

// Streams the orders of --csv over --concurrency ImportOrders streams, all
// requests built beforehand; prints orders/s from the first write to the
// last summary.
int ImportOrders(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  using crm::customer::v1::ImportOrdersRequest;
  using crm::customer::v1::ImportOrdersResponse;
  auto csv = crm::crmctl::CsvSource::Open(absl::GetFlag(FLAGS_csv));
  if (!csv.ok()) {
    std::fprintf(stderr, "%s\n", std::string(csv.status().message()).c_str());
    return 2;
  }
  const size_t streams = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_concurrency)));
  std::vector<std::vector<ImportOrdersRequest>> lanes(streams);
  crm::crmctl::OrderAssembler assembler;
  int64_t orders = 0;
  auto add = [&](std::optional<crm::customer::v1::Order> order) {
    if (!order) return;
    auto& lane = lanes[std::hash<std::string>()(order->customer_external_id()) % streams];
    if (lane.empty() || lane.back().orders_size() == 1000) lane.emplace_back();
    *lane.back().add_orders() = std::move(*order);
    ++orders;
  };
  std::vector<std::string> fields;
  (*csv)->Next(&fields);  // the header
  while ((*csv)->Next(&fields)) {
    std::optional<crm::customer::v1::Order> done;
    absl::Status s = assembler.Add(fields, (*csv)->line(), &done);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 2;
    }
    add(std::move(done));
  }
  add(assembler.Flush());

  std::vector<ImportOrdersResponse> summaries(streams);
  std::vector<grpc::Status> statuses(streams);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (size_t t = 0; t < streams; ++t) {
    threads.emplace_back([&, t] {
      auto stub = CustomerService::NewStub(channels[t % channels.size()]);
      grpc::ClientContext ctx;
      Stamp(&ctx);
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(1)));
      auto writer = stub->ImportOrders(&ctx, &summaries[t]);
      for (const auto& request : lanes[t]) {
        if (!writer->Write(request)) break;  // Finish says why
      }
      writer->WritesDone();
      statuses[t] = writer->Finish();
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t created = 0, updated = 0, failed = 0;
  for (size_t t = 0; t < streams; ++t) {
    if (!statuses[t].ok()) {
      std::fprintf(stderr, "stream %zu: %s\n", t, statuses[t].error_message().c_str());
      return 1;
    }
    created += summaries[t].created();
    updated += summaries[t].updated();
    failed += summaries[t].failed();
  }
  std::printf(
      "import_orders: %lld orders over %zu streams in %.3f s: %.0f orders/s "
      "(created %lld, updated %lld, failed %lld)\n",
      static_cast<long long>(orders), streams, seconds, static_cast<double>(orders) / seconds,
      static_cast<long long>(created), static_cast<long long>(updated),
      static_cast<long long>(failed));
  return failed == 0 ? 0 : 1;
}

// Counts lanes still running; Wait() returns when all have stopped.
class LaneSet {
 public:
  explicit LaneSet(int lanes) : running_(lanes) {}
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int running_;
};

// One call in flight at a time, issued again from the completion of the
// last (callback API: no client thread per lane, so the load generator
// takes as little of the shared CPU as it can).
class Lane {
 public:
  Lane(std::string rpc, std::shared_ptr<grpc::Channel> channel,
       const std::vector<std::string>* names, size_t first, absl::Time measure_from,
       absl::Time until, LaneSet* set)
      : rpc_(std::move(rpc)),
        channel_(channel),
        stub_(CustomerService::NewStub(channel)),
        tickets_(crm::ticketing::v1::TicketService::NewStub(channel)),
        conversations_(crm::interaction::v1::ConversationService::NewStub(channel)),
        generic_(channel),
        names_(names),
        next_name_(first),
        measure_from_(measure_from),
        until_(until),
        set_(set) {
    grpc::Slice empty("");
    health_request_ = grpc::ByteBuffer(&empty, 1);
  }

  void Next() {
    begin_ = absl::Now();
    static std::atomic<int64_t> issued{0};
    const int64_t max_calls = absl::GetFlag(FLAGS_max_calls);
    if (begin_ >= until_ || (max_calls > 0 && issued.fetch_add(1) >= max_calls)) {
      set_->Done();
      return;
    }
    ctx_ = std::make_unique<grpc::ClientContext>();
    Stamp(ctx_.get());
    auto done = [this](grpc::Status s) { Completed(s.ok()); };
    if (rpc_ == "health") {
      generic_.UnaryCall(ctx_.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                         &health_request_, &health_response_, done);
    } else if (rpc_ == "get_customer") {
      get_.set_name((*names_)[next_name_++ % names_->size()]);
      stub_->async()->GetCustomer(ctx_.get(), &get_, &customer_, done);
    } else if (rpc_ == "create_customer") {
      create_customer_.mutable_customer()->set_email(
          absl::StrCat("load-", next_name_++, "@example.com"));
      stub_->async()->CreateCustomer(ctx_.get(), &create_customer_, &customer_, done);
    } else if (rpc_ == "create_ticket") {
      auto* t = create_ticket_.mutable_ticket();
      t->set_requester((*names_)[next_name_++ % names_->size()]);
      t->set_subject("Where is my order?");
      t->set_channel(crm::ticketing::v1::CHANNEL_EMAIL);
      tickets_->async()->CreateTicket(ctx_.get(), &create_ticket_, &ticket_, done);
    } else if (rpc_ == "list_tickets") {
      list_tickets_.set_filter(absl::GetFlag(FLAGS_filter));
      list_tickets_.set_page_size(absl::GetFlag(FLAGS_page_size));
      tickets_->async()->ListTickets(ctx_.get(), &list_tickets_, &list_tickets_response_, done);
    } else if (rpc_ == "receive_message") {
      const size_t n = next_name_++;
      receive_.set_channel(crm::interaction::v1::CHANNEL_SMS);
      receive_.set_from(absl::StrFormat(
          "+4477009%05d", n % static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_senders)))));
      receive_.set_external_id(absl::StrCat("SMload", run_, "-", n));
      receive_.set_text("Where is my parcel? It was due yesterday.");
      conversations_->async()->ReceiveMessage(ctx_.get(), &receive_, &receive_response_, done);
    } else if (rpc_ == "send_message") {
      send_.set_customer((*names_)[next_name_++ % names_->size()]);
      send_.set_channel(crm::interaction::v1::CHANNEL_EMAIL);
      send_.set_purpose(crm::interaction::v1::PURPOSE_TRANSACTIONAL);
      send_.set_author_kind(crm::interaction::v1::AUTHOR_KIND_SYSTEM);
      send_.set_subject("Your order has shipped");
      send_.set_text("Hello,\n\nyour order is on its way and should arrive within 3 days.\n");
      conversations_->async()->SendMessage(ctx_.get(), &send_, &send_response_, done);
    } else if (rpc_ == "list_timeline") {
      const size_t n =
          next_name_++ % static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_customers)));
      timeline_.set_customer(absl::StrFormat("customers/00000000-0000-4000-8000-%012d", n));
      timeline_.set_page_size(absl::GetFlag(FLAGS_page_size));
      conversations_->async()->ListTimeline(ctx_.get(), &timeline_, &timeline_response_, done);
    } else if (rpc_ == "search_customers") {
      search_.set_query(absl::GetFlag(FLAGS_query));
      search_.set_page_size(absl::GetFlag(FLAGS_page_size));
      stub_->async()->SearchCustomers(ctx_.get(), &search_, &search_response_, done);
    } else {
      list_.set_filter(absl::GetFlag(FLAGS_filter));
      list_.set_page_size(absl::GetFlag(FLAGS_page_size));
      stub_->async()->ListCustomers(ctx_.get(), &list_, &list_response_, done);
    }
  }

  std::vector<double>& latencies() { return latencies_; }
  int64_t errors() const { return errors_; }

 private:
  void Completed(bool ok) {
    const absl::Time end = absl::Now();
    if (begin_ >= measure_from_) {
      if (ok) {
        latencies_.push_back(absl::ToDoubleMilliseconds(end - begin_));
      } else {
        ++errors_;
      }
    }
    Next();
  }

  const std::string rpc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<CustomerService::Stub> stub_;
  std::unique_ptr<crm::ticketing::v1::TicketService::Stub> tickets_;
  std::unique_ptr<crm::interaction::v1::ConversationService::Stub> conversations_;
  // Distinguishes this run's external ids from an earlier run's.
  const int64_t run_ = absl::ToUnixMicros(absl::Now());
  grpc::GenericStub generic_;
  const std::vector<std::string>* names_;
  size_t next_name_;
  const absl::Time measure_from_;
  const absl::Time until_;
  LaneSet* set_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  absl::Time begin_;
  grpc::ByteBuffer health_request_;
  grpc::ByteBuffer health_response_;
  crm::customer::v1::GetCustomerRequest get_;
  crm::customer::v1::Customer customer_;
  crm::customer::v1::SearchCustomersRequest search_;
  crm::customer::v1::SearchCustomersResponse search_response_;
  crm::customer::v1::ListCustomersRequest list_;
  crm::customer::v1::ListCustomersResponse list_response_;
  crm::customer::v1::CreateCustomerRequest create_customer_;
  crm::ticketing::v1::CreateTicketRequest create_ticket_;
  crm::ticketing::v1::Ticket ticket_;
  crm::ticketing::v1::ListTicketsRequest list_tickets_;
  crm::ticketing::v1::ListTicketsResponse list_tickets_response_;
  crm::interaction::v1::ReceiveMessageRequest receive_;
  crm::interaction::v1::ReceiveMessageResponse receive_response_;
  crm::interaction::v1::SendMessageRequest send_;
  crm::interaction::v1::SendMessageResponse send_response_;
  crm::interaction::v1::ListTimelineRequest timeline_;
  crm::interaction::v1::ListTimelineResponse timeline_response_;
  std::vector<double> latencies_;
  int64_t errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  const std::vector<std::string> known = {"get_customer",    "list_customers", "search_customers",
                                          "create_customer", "create_ticket",  "list_tickets",
                                          "health",          "import_orders",  "receive_message",
                                          "list_timeline",   "send_message"};
  if (std::find(known.begin(), known.end(), rpc) == known.end()) {
    std::fprintf(stderr, "unknown --rpc %s\n", rpc.c_str());
    return 2;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_channels)); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct args → distinct connections
    channels.push_back(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_addr),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  if (rpc == "import_orders") return ImportOrders(channels);
  auto probe = CustomerService::NewStub(channels[0]);
  std::vector<std::string> names;
  if (rpc == "get_customer" || rpc == "create_ticket" || rpc == "send_message") {
    names = SampleNames(*probe);
    if (names.empty()) return 1;
  }

  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::Seconds(absl::GetFlag(FLAGS_warmup_s));
  const absl::Time until = measure_from + absl::Seconds(absl::GetFlag(FLAGS_duration_s));
  std::vector<std::unique_ptr<Lane>> lanes;
  LaneSet set(concurrency);
  for (int t = 0; t < concurrency; ++t) {
    lanes.push_back(std::make_unique<Lane>(rpc, channels[t % channels.size()], &names,
                                           static_cast<size_t>(t) * 7919, measure_from, until,
                                           &set));
  }
  for (auto& lane : lanes) lane->Next();
  set.Wait();
  std::vector<std::vector<double>> latencies;
  std::vector<int64_t> errors;
  for (auto& lane : lanes) {
    latencies.push_back(std::move(lane->latencies()));
    errors.push_back(lane->errors());
  }
  std::vector<double> all;
  int64_t error_count = 0;
  for (int t = 0; t < concurrency; ++t) {
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
    error_count += errors[t];
  }
  const double seconds = absl::GetFlag(FLAGS_duration_s);
  const double qps = static_cast<double>(all.size()) / seconds;
  const double p50 = crm::tools::Percentile(all, 0.50), p90 = crm::tools::Percentile(all, 0.90),
               p99 = crm::tools::Percentile(all, 0.99);
  if (absl::GetFlag(FLAGS_markdown)) {
    std::printf("| %s | %d | %.0f | %zu | %lld | %.0f | %.2f | %.2f | %.2f |\n",
                absl::GetFlag(FLAGS_label).c_str(), concurrency, seconds, all.size(),
                static_cast<long long>(error_count), qps, p50, p90, p99);
  } else {
    std::printf(
        "%s: %zu ok, %lld errors in %.1f s at concurrency %d: %.0f QPS, "
        "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n",
        rpc.c_str(), all.size(), static_cast<long long>(error_count), seconds, concurrency, qps,
        p50, p90, p99);
  }
  return error_count == 0 ? 0 : 1;
}
