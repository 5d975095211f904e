// crmctl orders import: order lines from CSV over parallel ImportOrders streams.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/base/env.h"
#include "common/server/health_client.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/gateway/v1/api_key_service.grpc.pb.h"
#include "tools/crmctl/cli.h"
#include "tools/crmctl/csv_import.h"

namespace crm::crmctl {

using crm::customer::v1::Customer;
using crm::customer::v1::CustomerService;

namespace {

// One ImportOrders stream fed by its own thread from a bounded queue.
class OrderLane {
 public:
  explicit OrderLane(CustomerService::Stub& stub) {
    PrepareStream(&ctx_);
    writer_ = stub.ImportOrders(&ctx_, &summary_);
    thread_ = std::thread([this] { Run(); });
  }

  // Queues an order first seen on CSV line `line`; sends full chunks.
  void Add(crm::customer::v1::Order order, int64_t line) {
    lines_.push_back(line);
    chunk_bytes_ += order.ByteSizeLong();
    *chunk_.add_orders() = std::move(order);
    if (chunk_.orders_size() == 1000 || chunk_bytes_ > (1 << 20)) Flush();
  }

  // Sends what is left and waits for the summary; errors carry CSV lines.
  grpc::Status Finish(crm::customer::v1::ImportOrdersResponse* summary) {
    Flush();
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    thread_.join();
    writer_->WritesDone();
    grpc::Status status = writer_->Finish();
    *summary = summary_;
    for (auto& e : *summary->mutable_errors()) {
      e.set_row(e.row() >= 0 && e.row() < static_cast<int64_t>(lines_.size()) ? lines_[e.row()]
                                                                              : -1);
    }
    return status;
  }

 private:
  void Flush() {
    if (chunk_.orders_size() == 0) return;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return queue_.size() < 4; });  // bounded: the file is not read ahead
    queue_.push_back(std::move(chunk_));
    chunk_.Clear();
    chunk_bytes_ = 0;
    cv_.notify_all();
  }

  void Run() {
    bool ok = true;
    for (;;) {
      crm::customer::v1::ImportOrdersRequest next;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        next = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      }
      if (ok) ok = writer_->Write(next);  // after a failure, Finish reports why
    }
  }

  grpc::ClientContext ctx_;
  crm::customer::v1::ImportOrdersResponse summary_;
  std::unique_ptr<grpc::ClientWriter<crm::customer::v1::ImportOrdersRequest>> writer_;
  std::vector<int64_t> lines_;
  crm::customer::v1::ImportOrdersRequest chunk_;
  size_t chunk_bytes_ = 0;  // of the orders in chunk_, near enough its size
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<crm::customer::v1::ImportOrdersRequest> queue_;
  bool closed_ = false;
  std::thread thread_;
};

// Streams order lines (csv_import.h has the columns) to ImportOrders, one
// order per run of lines with the same order_id, in chunks of up to 1000
// orders or 1 MiB, over --parallel streams; all orders of one customer go
// through the same stream, so they are applied in file order.
int OrdersImport(CustomerService::Stub& stub) {
  auto csv = OpenCsv();
  if (csv == nullptr) return 2;
  const int parallel = std::max(1, std::min(16, absl::GetFlag(FLAGS_parallel)));
  crm::crmctl::ProgressBar progress("orders", csv->total_bytes());
  std::vector<std::unique_ptr<OrderLane>> lanes;
  for (int i = 0; i < parallel; ++i) lanes.push_back(std::make_unique<OrderLane>(stub));
  crm::crmctl::OrderAssembler assembler;
  int64_t local_failures = 0;
  auto send = [&](std::optional<crm::customer::v1::Order> order) {
    if (!order) return;
    const std::string& key =
        order->customer().empty() ? order->customer_external_id() : order->customer();
    lanes[std::hash<std::string>()(key) % lanes.size()]->Add(std::move(*order),
                                                             assembler.first_line_of_done());
    progress.Update(csv->bytes_read(), csv->line());
  };
  std::vector<std::string> f;
  while (csv->Next(&f)) {
    std::optional<crm::customer::v1::Order> done;
    absl::Status s = assembler.Add(f, csv->line(), &done);
    if (!s.ok()) {
      ++local_failures;
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    }
    send(std::move(done));
  }
  send(assembler.Flush());
  crm::customer::v1::ImportOrdersResponse total;
  grpc::Status status;
  for (auto& lane : lanes) {
    crm::customer::v1::ImportOrdersResponse part;
    grpc::Status s = lane->Finish(&part);
    if (!s.ok() && status.ok()) status = s;
    total.set_received(total.received() + part.received());
    total.set_created(total.created() + part.created());
    total.set_updated(total.updated() + part.updated());
    total.set_unchanged(total.unchanged() + part.unchanged());
    total.set_failed(total.failed() + part.failed());
    for (const auto& e : part.errors()) *total.add_errors() = e;
  }
  progress.Finish();
  std::sort(total.mutable_errors()->begin(), total.mutable_errors()->end(),
            [](const auto& a, const auto& b) { return a.row() < b.row(); });
  const int code = ReportImport(status, total, "orders", [](int64_t line) { return line; });
  if (status.ok()) {
    std::fprintf(stderr, "%lld unchanged; %lld malformed lines not sent\n",
                 static_cast<long long>(total.unchanged()), static_cast<long long>(local_failures));
  }
  return code != 0 ? code : (local_failures == 0 ? 0 : 1);
}

}  // namespace

int Orders(const std::vector<char*>& args) {
  if (args.size() < 3 || std::string(args[2]) != "import") {
    std::fprintf(stderr, "usage: crmctl orders import --csv FILE\n");
    return 2;
  }
  auto stub = CustomerService::NewStub(Channel());
  return OrdersImport(*stub);
}

}  // namespace crm::crmctl
