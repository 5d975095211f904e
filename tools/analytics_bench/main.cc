// analytics_bench: the analytics service's figures against their goals.
//
//   analytics_bench --mode reports --addr 127.0.0.1:50091 --tenant ucibench --repeat 5
//     times GetRfmSummary (the RFM of every customer), FitValueModel
//     (BG/NBD + Gamma-Gamma), GetCohortReport, GetSalesForecast and
//     GetPricingReport, one call at a time (--only fit,rfm: some of them).
//   analytics_bench --mode latency --addr ... --customer_addr 127.0.0.1:50061 --samples 200
//     per sample: a new customer and an order through the customer
//     service, then GetCustomerValue every 2 ms until it shows the order;
//     the delay from RecordOrder's answer to the first answer that has it.
//   analytics_bench --mode kpis --addr ... --customer_addr ... --streams 1000 --rounds 20
//     --streams StreamKpis subscribers (gRPC's callback API, no thread per
//     stream); per round one order through the customer service, and the
//     delay from RecordOrder's answer to each stream's first snapshot that
//     counts it.
//
// With --markdown it prints table rows (| figure | value | goal |).
// Calls go only to the addresses given (use loopback addresses).
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/kpi_service.grpc.pb.h"
#include "crm/analytics/v1/report_service.grpc.pb.h"
#include "crm/analytics/v1/value_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "tools/bench_stats.h"

ABSL_FLAG(std::string, mode, "reports", "reports | latency | kpis");
ABSL_FLAG(std::string, addr, "127.0.0.1:50091", "The analytics service (loopback)");
ABSL_FLAG(std::string, customer_addr, "127.0.0.1:50061", "The customer service (loopback)");
ABSL_FLAG(std::string, tenant, "bench", "x-crm-tenant");
ABSL_FLAG(std::string, currency, "GBP", "The orders' currency");
ABSL_FLAG(int, repeat, 3, "reports: calls of each");
ABSL_FLAG(std::string, only, "",
          "reports: a comma-separated subset of rfm, fit, cohorts, forecast, pricing");
ABSL_FLAG(int, samples, 200, "latency: orders measured");
ABSL_FLAG(int, streams, 1000, "kpis: subscribers");
ABSL_FLAG(int, channels, 8, "kpis: connections the streams are spread over");
ABSL_FLAG(int, rounds, 20, "kpis: orders, one at a time");
ABSL_FLAG(std::string, label, "", "A prefix for the rows' figures");
ABSL_FLAG(bool, markdown, false, "Print markdown table rows");

namespace {

namespace av1 = crm::analytics::v1;
namespace cv1 = crm::customer::v1;

std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration deadline = absl::Minutes(20)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return ctx;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& addr) {
  return grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
}

void Row(const std::string& figure, const std::string& value, const std::string& goal) {
  const std::string label = absl::GetFlag(FLAGS_label);
  if (absl::GetFlag(FLAGS_markdown)) {
    std::printf("| %s%s | %s | %s |\n", label.c_str(), figure.c_str(), value.c_str(), goal.c_str());
  } else {
    std::printf("%s%s: %s (goal %s)\n", label.c_str(), figure.c_str(), value.c_str(), goal.c_str());
  }
  std::fflush(stdout);
}

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f ms", ms);
  return buf;
}

// Times `call` --repeat times; a failure is printed and ends the figure.
void Time(const std::string& figure, const std::string& goal,
          const std::function<grpc::Status()>& call) {
  std::vector<double> ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_repeat); ++i) {
    const absl::Time t0 = absl::Now();
    grpc::Status s = call();
    if (!s.ok()) {
      Row(figure, absl::StrCat("failed: ", s.error_message()), goal);
      return;
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  std::vector<double> sorted = ms;
  const double median = crm::tools::Percentile(sorted, 0.5);
  const double most = crm::tools::Percentile(sorted, 1.0);
  Row(figure, absl::StrCat("median ", Ms(median), ", max ", Ms(most), " (", ms.size(), " calls)"),
      goal);
}

// Whether --only leaves `report` in.
bool Wanted(const std::string& report) {
  const std::string only = absl::GetFlag(FLAGS_only);
  if (only.empty()) return true;
  for (absl::string_view one : absl::StrSplit(only, ',')) {
    if (one == report) return true;
  }
  return false;
}

int Reports() {
  auto value = av1::ValueService::NewStub(Channel(absl::GetFlag(FLAGS_addr)));
  auto reports = av1::ReportService::NewStub(Channel(absl::GetFlag(FLAGS_addr)));
  const std::string currency = absl::GetFlag(FLAGS_currency);
  int64_t customers = 0;
  if (Wanted("rfm")) {
    Time("GetRfmSummary (RFM of every customer)", "< 1 s UCI, < 10 s at 1M", [&] {
      av1::GetRfmSummaryRequest req;
      req.set_currency_code(currency);
      av1::RfmSummary out;
      grpc::Status s = value->GetRfmSummary(Ctx().get(), req, &out);
      customers = out.customers();
      return s;
    });
  }
  if (Wanted("rfm")) std::fprintf(stderr, "%lld customers\n", static_cast<long long>(customers));
  if (Wanted("fit")) {
    Time("FitValueModel (BG/NBD + Gamma-Gamma, holdout check)", "< 1 s UCI, < 30 s at 1M", [&] {
      av1::FitValueModelRequest req;
      req.set_currency_code(currency);
      av1::ValueModel out;
      return value->FitValueModel(Ctx().get(), req, &out);
    });
  }
  if (Wanted("cohorts")) {
    Time("GetCohortReport (12 cohorts)", "< 1 s UCI", [&] {
      av1::GetCohortReportRequest req;
      req.set_currency_code(currency);
      av1::CohortReport out;
      return reports->GetCohortReport(Ctx().get(), req, &out);
    });
  }
  if (Wanted("forecast")) {
    Time("GetSalesForecast (28 days, backtest)", "-", [&] {
      av1::GetSalesForecastRequest req;
      req.set_currency_code(currency);
      av1::SalesForecast out;
      return reports->GetSalesForecast(Ctx().get(), req, &out);
    });
  }
  if (Wanted("pricing")) {
    Time("GetPricingReport", "-", [&] {
      av1::GetPricingReportRequest req;
      req.set_currency_code(currency);
      av1::PricingReport out;
      return reports->GetPricingReport(Ctx().get(), req, &out);
    });
  }
  return 0;
}

// A new customer with one order through the customer service; the time
// RecordOrder answered.
absl::StatusOr<std::pair<std::string, absl::Time>> NewCustomerOrder(cv1::CustomerService::Stub& c,
                                                                    int i) {
  const std::string tag = absl::StrCat(absl::ToUnixMicros(absl::Now()), "-", i);
  cv1::CreateCustomerRequest create;
  create.mutable_customer()->set_email(absl::StrCat("bench-", tag, "@example.com"));
  cv1::Customer customer;
  grpc::Status s = c.CreateCustomer(Ctx().get(), create, &customer);
  if (!s.ok()) return absl::InternalError(s.error_message());
  cv1::RecordOrderRequest order;
  order.mutable_order()->set_customer(customer.name());
  order.mutable_order()->set_order_id(absl::StrCat("bench-", tag));
  order.mutable_order()->set_status(cv1::ORDER_STATUS_PAID);
  order.mutable_order()->set_currency_code(absl::GetFlag(FLAGS_currency));
  order.mutable_order()->set_total_minor(2500);
  cv1::Order out;
  s = c.RecordOrder(Ctx().get(), order, &out);
  if (!s.ok()) return absl::InternalError(s.error_message());
  return std::make_pair(customer.name(), absl::Now());
}

int Latency() {
  auto customers = cv1::CustomerService::NewStub(Channel(absl::GetFlag(FLAGS_customer_addr)));
  auto value = av1::ValueService::NewStub(Channel(absl::GetFlag(FLAGS_addr)));
  std::vector<double> ms;
  int lost = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_samples); ++i) {
    auto placed = NewCustomerOrder(*customers, i);
    if (!placed.ok()) {
      std::fprintf(stderr, "order: %s\n", std::string(placed.status().message()).c_str());
      return 1;
    }
    const absl::Time deadline = placed->second + absl::Seconds(30);
    bool seen = false;
    while (!seen && absl::Now() < deadline) {
      av1::GetCustomerValueRequest req;
      req.set_customer(placed->first);
      req.set_currency_code(absl::GetFlag(FLAGS_currency));
      av1::CustomerValue out;
      seen = value->GetCustomerValue(Ctx(absl::Seconds(10)).get(), req, &out).ok() &&
             out.rfm().frequency() == 1;
      if (!seen) absl::SleepFor(absl::Milliseconds(2));
    }
    if (!seen) {
      ++lost;
      continue;
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - placed->second));
  }
  std::vector<double> sorted = ms;
  const double p50 = crm::tools::Percentile(sorted, 0.5);
  const double p99 = crm::tools::Percentile(sorted, 0.99);
  const double most = crm::tools::Percentile(sorted, 1.0);
  Row("order -> GetCustomerValue shows it",
      absl::StrCat("p50 ", Ms(p50), ", p99 ", Ms(p99), ", max ", Ms(most), " (", ms.size(),
                   " orders", lost > 0 ? absl::StrCat(", ", lost, " not seen in 30 s") : "", ")"),
      "p99 < 1 s");
  return lost > 0 ? 1 : 0;
}

int64_t OrdersToday(const av1::KpiSnapshot& k) {
  int64_t n = 0;
  for (const auto& s : k.sales_today()) n += s.orders();
  return n;
}

// One StreamKpis subscriber: notes when it first sees `want` orders today.
class Subscriber final : public grpc::ClientReadReactor<av1::KpiSnapshot> {
 public:
  Subscriber(av1::KpiService::Stub* stub, std::atomic<int>* ready) : ready_(ready) {
    ctx_.AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
    stub->async()->StreamKpis(&ctx_, &request_, this);
    StartRead(&in_);
    StartCall();
  }
  // Expect `orders` orders today from `from` on.
  void Expect(int64_t orders) {
    std::lock_guard<std::mutex> lock(mu_);
    want_ = orders;
    seen_at_ = absl::InfinitePast();
    if (last_ >= want_) seen_at_ = absl::Now();
  }
  absl::Time seen_at() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_at_;
  }
  int64_t last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  void Cancel() { ctx_.TryCancel(); }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const bool first = last_ < 0;
      last_ = OrdersToday(in_);
      if (first) ready_->fetch_add(1);
      if (want_ >= 0 && last_ >= want_ && seen_at_ == absl::InfinitePast()) {
        seen_at_ = absl::Now();
      }
    }
    StartRead(&in_);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  grpc::ClientContext ctx_;
  av1::StreamKpisRequest request_;
  av1::KpiSnapshot in_;
  std::atomic<int>* ready_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  int64_t last_ = -1;
  int64_t want_ = -1;
  absl::Time seen_at_ = absl::InfinitePast();
};

int Kpis() {
  const int n = absl::GetFlag(FLAGS_streams);
  std::vector<std::unique_ptr<av1::KpiService::Stub>> stubs;
  for (int c = 0; c < absl::GetFlag(FLAGS_channels); ++c) {
    grpc::ChannelArguments args;
    args.SetInt("crm.bench.channel", c);  // a connection of its own
    stubs.push_back(av1::KpiService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_addr), grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<int> ready{0};
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < n; ++i) {
    subscribers.push_back(std::make_unique<Subscriber>(stubs[i % stubs.size()].get(), &ready));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (ready.load() < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  if (ready.load() < n) {
    std::fprintf(stderr, "only %d of %d streams got their first snapshot\n", ready.load(), n);
    return 1;
  }
  auto customers = cv1::CustomerService::NewStub(Channel(absl::GetFlag(FLAGS_customer_addr)));
  std::vector<double> ms;
  int missed = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    int64_t now_orders = 0;
    for (auto& s : subscribers) now_orders = std::max(now_orders, s->last());
    for (auto& s : subscribers) s->Expect(now_orders + 1);
    auto placed = NewCustomerOrder(*customers, round);
    if (!placed.ok()) {
      std::fprintf(stderr, "order: %s\n", std::string(placed.status().message()).c_str());
      return 1;
    }
    const absl::Time until = placed->second + absl::Seconds(10);
    for (auto& s : subscribers) {
      while (s->seen_at() == absl::InfinitePast() && absl::Now() < until) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      if (s->seen_at() == absl::InfinitePast()) {
        ++missed;
        continue;
      }
      ms.push_back(std::max(0.0, absl::ToDoubleMilliseconds(s->seen_at() - placed->second)));
    }
  }
  for (auto& s : subscribers) s->Cancel();
  for (auto& s : subscribers) s->Wait();
  std::vector<double> sorted = ms;
  Row(absl::StrCat("StreamKpis fan-out to ", n, " subscribers: order -> pushed snapshot"),
      absl::StrCat("p50 ", Ms(crm::tools::Percentile(sorted, 0.5)), ", p99 ",
                   Ms(crm::tools::Percentile(sorted, 0.99)), ", max ",
                   Ms(crm::tools::Percentile(sorted, 1.0)), " (", ms.size(), " deliveries",
                   missed > 0 ? absl::StrCat(", ", missed, " missed in 10 s") : "", ")"),
      "within 1 s");
  return missed > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "reports") return Reports();
  if (mode == "latency") return Latency();
  if (mode == "kpis") return Kpis();
  std::fprintf(stderr, "--mode: reports, latency or kpis\n");
  return 2;
}
