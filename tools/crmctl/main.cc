// crmctl: call the suite from a shell with nothing else installed.
//
// crmctl [--addr host:port] [--key KEY | CRM_API_KEY] <group> <verb> [args]
//
// customers: create | get NAME | list | update NAME | delete NAME | import --csv FILE |
//   duplicates | merge SURVIVOR --merged NAME [--validate_only] | unmerge merges/ID
//   (import columns: external_id,email,given_name,family_name,country,phone,tags)
// orders: import --csv FILE (columns: order_id,customer_external_id,order_time,
//   status,currency_code,refunded_minor,sales_channel,sku,product_name,category,
//   quantity,unit_price_minor; one line per order line)
// consent: record NAME | check NAME | list NAME [--history]
// apikeys: create | revoke NAME | list (with --admin_token_file)
// health
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
#include "tools/crmctl/csv_import.h"

ABSL_FLAG(std::string, addr, crm::EnvOr("CRM_ADDR", std::string("127.0.0.1:50051")),
          "Gateway (or service) address");
ABSL_FLAG(std::string, key, crm::EnvOr("CRM_API_KEY", std::string("")), "API key (or CRM_API_KEY)");
ABSL_FLAG(std::string, tenant, "",
          "Send x-crm-tenant directly (only when talking to a service, not the gateway)");
ABSL_FLAG(int, timeout_ms, 10000, "Per-call deadline");
ABSL_FLAG(std::string, external_id, "", "customer external_id");
ABSL_FLAG(std::string, email, "", "customer email");
ABSL_FLAG(std::string, phone, "", "customer phone (E.164)");
ABSL_FLAG(std::string, given_name, "", "customer given name");
ABSL_FLAG(std::string, family_name, "", "customer family name");
ABSL_FLAG(std::string, locale, "", "customer locale");
ABSL_FLAG(std::string, country, "", "customer country (ISO-3166 alpha-2)");
ABSL_FLAG(std::string, tags, "", "customer tags, comma-separated");
ABSL_FLAG(std::string, request_id, "", "idempotency key for create");
ABSL_FLAG(std::string, etag, "", "etag for conditional update/delete");
ABSL_FLAG(std::string, filter, "", "list filter expression");
ABSL_FLAG(std::string, order_by, "", "list order: create_time | create_time desc");
ABSL_FLAG(int, page_size, 0, "list page size");
ABSL_FLAG(std::string, page_token, "", "list page token");
ABSL_FLAG(bool, all, false, "list: follow next_page_token to the end (prints one JSON per line)");
ABSL_FLAG(std::string, csv, "", "import: CSV file ('-' for stdin)");
ABSL_FLAG(double, min_score, 0, "duplicates: lowest score listed (default 0.5)");
ABSL_FLAG(std::string, merged, "", "merge: the customer folded into the survivor");
ABSL_FLAG(bool, validate_only, false, "merge: preview only");
ABSL_FLAG(int, parallel, 1,
          "orders import: streams in parallel (a customer's orders stay in one stream)");
ABSL_FLAG(std::string, channel, "", "consent: email | sms | push | phone");
ABSL_FLAG(std::string, purpose, "", "consent: marketing | transactional");
ABSL_FLAG(std::string, status, "", "consent record: granted | denied");
ABSL_FLAG(std::string, source, "", "consent record: where it was captured, e.g. checkout");
ABSL_FLAG(std::string, text_version, "", "consent record: version of the consent text shown");
ABSL_FLAG(bool, history, false, "consent list: every record, not just the current ones");
ABSL_FLAG(std::string, admin_token_file, "", "apikeys: file holding the admin token");
ABSL_FLAG(std::string, scopes, "*", "apikeys create: comma-separated scopes");
ABSL_FLAG(std::string, description, "", "apikeys create: description");

namespace {

using crm::customer::v1::Customer;
using crm::customer::v1::CustomerService;

std::shared_ptr<grpc::Channel> Channel() {
  return grpc::CreateChannel(absl::GetFlag(FLAGS_addr), grpc::InsecureChannelCredentials());
}

void Prepare(grpc::ClientContext* ctx, const std::string& bearer = "") {
  const std::string key = bearer.empty() ? absl::GetFlag(FLAGS_key) : bearer;
  if (!key.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", key));
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
  ctx->set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms))));
}

std::string Json(const google::protobuf::Message& m, bool pretty = true) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string out;
  google::protobuf::util::MessageToJsonString(m, &out, options);
  if (!pretty) return out;
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

int Report(const grpc::Status& status) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  std::fprintf(stderr, "error: %s: %s\n", (code >= 0 && code <= 16) ? kNames[code] : "?",
               status.error_message().c_str());
  return 1;
}

Customer CustomerFromFlags(google::protobuf::FieldMask* mask) {
  Customer c;
  auto set = [&](const std::string& v, const char* path, auto setter) {
    if (v.empty()) return;
    setter(v);
    if (mask != nullptr) mask->add_paths(path);
  };
  set(absl::GetFlag(FLAGS_external_id), "external_id",
      [&](const std::string& v) { c.set_external_id(v); });
  set(absl::GetFlag(FLAGS_email), "email", [&](const std::string& v) { c.set_email(v); });
  set(absl::GetFlag(FLAGS_phone), "phone", [&](const std::string& v) { c.set_phone(v); });
  set(absl::GetFlag(FLAGS_given_name), "given_name",
      [&](const std::string& v) { c.set_given_name(v); });
  set(absl::GetFlag(FLAGS_family_name), "family_name",
      [&](const std::string& v) { c.set_family_name(v); });
  set(absl::GetFlag(FLAGS_locale), "locale", [&](const std::string& v) { c.set_locale(v); });
  set(absl::GetFlag(FLAGS_country), "country", [&](const std::string& v) { c.set_country(v); });
  set(absl::GetFlag(FLAGS_tags), "tags", [&](const std::string& v) {
    for (absl::string_view t : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      c.add_tags(std::string(t));
    }
  });
  return c;
}

// Opens --csv with a progress bar; prints why and returns null on failure.
std::unique_ptr<crm::crmctl::CsvSource> OpenCsv() {
  const std::string path = absl::GetFlag(FLAGS_csv);
  if (path.empty()) {
    std::fprintf(stderr, "error: --csv FILE required\n");
    return nullptr;
  }
  auto source = crm::crmctl::CsvSource::Open(path);
  if (!source.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(source.status().message()).c_str());
    return nullptr;
  }
  std::vector<std::string> header;
  (*source)->Next(&header);
  return std::move(source).value();
}

// A context for a long client stream: credentials, no deadline.
void PrepareStream(grpc::ClientContext* ctx) {
  if (!absl::GetFlag(FLAGS_key).empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", absl::GetFlag(FLAGS_key)));
  }
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
}

// Prints the refused rows (as CSV lines) and the summary; 0 if none failed.
template <typename Summary, typename LineOf>
int ReportImport(const grpc::Status& status, const Summary& summary, const char* what,
                 LineOf line_of) {
  if (!status.ok()) return Report(status);
  for (const auto& e : summary.errors()) {
    std::fprintf(stderr, "line %lld: %s\n", static_cast<long long>(line_of(e.row())),
                 e.reason().c_str());
  }
  std::fprintf(stderr, "imported %lld %s: %lld created, %lld updated, %lld failed\n",
               static_cast<long long>(summary.received()), what,
               static_cast<long long>(summary.created()), static_cast<long long>(summary.updated()),
               static_cast<long long>(summary.failed()));
  return summary.failed() == 0 ? 0 : 1;
}

// Streams the CSV to ImportCustomers in chunks; the server upserts by
// external_id and reports bad rows, which are printed with their CSV line.
int CustomersImport(CustomerService::Stub& stub) {
  auto csv = OpenCsv();
  if (csv == nullptr) return 2;
  crm::crmctl::ProgressBar progress("customers", csv->total_bytes());
  grpc::ClientContext ctx;
  PrepareStream(&ctx);
  crm::customer::v1::ImportCustomersResponse summary;
  auto writer = stub.ImportCustomers(&ctx, &summary);
  crm::customer::v1::ImportCustomersRequest chunk;
  std::vector<int64_t> lines;  // CSV line of each row sent
  bool stream_ok = true;
  auto flush = [&] {
    if (chunk.customers_size() == 0 || !stream_ok) return;
    stream_ok = writer->Write(chunk);
    chunk.Clear();
    progress.Update(csv->bytes_read(), static_cast<int64_t>(lines.size()));
  };
  std::vector<std::string> f;
  while (stream_ok && csv->Next(&f)) {
    f.resize(7);
    Customer* c = chunk.add_customers();
    lines.push_back(csv->line());
    c->set_external_id(f[0]);
    c->set_email(f[1]);
    c->set_given_name(f[2]);
    c->set_family_name(f[3]);
    c->set_country(f[4]);
    c->set_phone(f[5]);
    for (absl::string_view t : absl::StrSplit(f[6], ';', absl::SkipWhitespace())) {
      c->add_tags(std::string(t));
    }
    if (chunk.customers_size() == 500) flush();
  }
  flush();
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  progress.Finish();
  return ReportImport(s, summary, "customers", [&](int64_t row) {
    return row >= 0 && row < static_cast<int64_t>(lines.size()) ? lines[row] : -1;
  });
}

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

int Orders(const std::vector<char*>& args) {
  if (args.size() < 3 || std::string(args[2]) != "import") {
    std::fprintf(stderr, "usage: crmctl orders import --csv FILE\n");
    return 2;
  }
  auto stub = CustomerService::NewStub(Channel());
  return OrdersImport(*stub);
}

int Customers(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl customers "
                 "create|get|list|search|update|delete|import|duplicates|merge|unmerge\n");
    return 2;
  }
  auto stub = CustomerService::NewStub(Channel());
  const std::string verb = args[2];
  const std::string name = args.size() > 3 ? args[3] : "";
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "create") {
    crm::customer::v1::CreateCustomerRequest request;
    *request.mutable_customer() = CustomerFromFlags(nullptr);
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    Customer response;
    grpc::Status s = stub->CreateCustomer(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "get" || verb == "delete") {
    Customer response;
    grpc::Status s;
    if (verb == "get") {
      crm::customer::v1::GetCustomerRequest request;
      request.set_name(name);
      s = stub->GetCustomer(&ctx, request, &response);
    } else {
      crm::customer::v1::DeleteCustomerRequest request;
      request.set_name(name);
      request.set_etag(absl::GetFlag(FLAGS_etag));
      s = stub->DeleteCustomer(&ctx, request, &response);
    }
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "update") {
    crm::customer::v1::UpdateCustomerRequest request;
    *request.mutable_customer() = CustomerFromFlags(request.mutable_update_mask());
    request.mutable_customer()->set_name(name);
    request.set_etag(absl::GetFlag(FLAGS_etag));
    Customer response;
    grpc::Status s = stub->UpdateCustomer(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "search") {
    crm::customer::v1::SearchCustomersRequest request;
    request.set_query(name);
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    crm::customer::v1::SearchCustomersResponse response;
    grpc::Status s = stub->SearchCustomers(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "list") {
    crm::customer::v1::ListCustomersRequest request;
    request.set_filter(absl::GetFlag(FLAGS_filter));
    request.set_order_by(absl::GetFlag(FLAGS_order_by));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    if (!absl::GetFlag(FLAGS_all)) {
      crm::customer::v1::ListCustomersResponse response;
      grpc::Status s = stub->ListCustomers(&ctx, request, &response);
      if (!s.ok()) return Report(s);
      std::cout << Json(response) << "\n";
      return 0;
    }
    size_t total = 0;
    for (;;) {
      grpc::ClientContext page_ctx;
      Prepare(&page_ctx);
      crm::customer::v1::ListCustomersResponse response;
      grpc::Status s = stub->ListCustomers(&page_ctx, request, &response);
      if (!s.ok()) return Report(s);
      for (const auto& c : response.customers()) std::cout << Json(c, false) << "\n";
      total += response.customers_size();
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    std::fprintf(stderr, "%zu customers\n", total);
    return 0;
  }
  if (verb == "import") return CustomersImport(*stub);
  if (verb == "duplicates") {
    crm::customer::v1::ListDuplicateCandidatesRequest request;
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    request.set_min_score(absl::GetFlag(FLAGS_min_score));
    crm::customer::v1::ListDuplicateCandidatesResponse response;
    grpc::Status s = stub->ListDuplicateCandidates(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "merge") {
    // crmctl customers merge SURVIVOR --merged NAME [--validate_only]
    crm::customer::v1::MergeCustomersRequest request;
    request.set_survivor(name);
    request.set_merged(absl::GetFlag(FLAGS_merged));
    request.set_validate_only(absl::GetFlag(FLAGS_validate_only));
    crm::customer::v1::MergeCustomersResponse response;
    grpc::Status s = stub->MergeCustomers(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "unmerge") {
    crm::customer::v1::UnmergeCustomerRequest request;
    request.set_name(name);
    crm::customer::v1::UnmergeCustomerResponse response;
    grpc::Status s = stub->UnmergeCustomer(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  std::fprintf(stderr, "unknown verb: customers %s\n", verb.c_str());
  return 2;
}

// Enum values by their lower-case suffix: "email" → CONSENT_CHANNEL_EMAIL.
template <typename Enum>
Enum ParseEnum(const google::protobuf::EnumDescriptor* descriptor, const std::string& prefix,
               const std::string& word) {
  const auto* value = descriptor->FindValueByName(prefix + absl::AsciiStrToUpper(word));
  return value == nullptr ? static_cast<Enum>(0) : static_cast<Enum>(value->number());
}

int Consents(const std::vector<char*>& args) {
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl consent record|check|list customers/<id> [flags]\n");
    return 2;
  }
  namespace v1 = crm::customer::v1;
  auto stub = CustomerService::NewStub(Channel());
  const std::string verb = args[2];
  const std::string name = args[3];
  const auto channel = ParseEnum<v1::ConsentChannel>(
      v1::ConsentChannel_descriptor(), "CONSENT_CHANNEL_", absl::GetFlag(FLAGS_channel));
  const auto purpose = ParseEnum<v1::ConsentPurpose>(
      v1::ConsentPurpose_descriptor(), "CONSENT_PURPOSE_", absl::GetFlag(FLAGS_purpose));
  grpc::ClientContext ctx;
  Prepare(&ctx);
  grpc::Status s;
  if (verb == "record") {
    v1::RecordConsentRequest request;
    request.set_name(name);
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::Consent* c = request.mutable_consent();
    c->set_channel(channel);
    c->set_purpose(purpose);
    c->set_status(ParseEnum<v1::ConsentStatus>(v1::ConsentStatus_descriptor(), "CONSENT_STATUS_",
                                               absl::GetFlag(FLAGS_status)));
    c->set_source(absl::GetFlag(FLAGS_source));
    c->set_text_version(absl::GetFlag(FLAGS_text_version));
    v1::Consent response;
    s = stub->RecordConsent(&ctx, request, &response);
    if (s.ok()) std::cout << Json(response) << "\n";
  } else if (verb == "check") {
    v1::CheckConsentRequest request;
    request.set_name(name);
    request.set_channel(channel);
    request.set_purpose(purpose);
    v1::CheckConsentResponse response;
    s = stub->CheckConsent(&ctx, request, &response);
    if (s.ok()) std::cout << Json(response) << "\n";
  } else if (verb == "list") {
    v1::ListConsentsRequest request;
    request.set_name(name);
    request.set_history(absl::GetFlag(FLAGS_history));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListConsentsResponse response;
    s = stub->ListConsents(&ctx, request, &response);
    if (s.ok()) std::cout << Json(response) << "\n";
  } else {
    std::fprintf(stderr, "unknown verb: consent %s\n", verb.c_str());
    return 2;
  }
  return s.ok() ? 0 : Report(s);
}

int ApiKeys(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr, "usage: crmctl apikeys create|revoke|list --admin_token_file F\n");
    return 2;
  }
  const std::string token = crm::ReadSecretFile(absl::GetFlag(FLAGS_admin_token_file));
  if (token.empty()) {
    std::fprintf(stderr, "error: --admin_token_file is required and must not be empty\n");
    return 2;
  }
  auto stub = crm::gateway::v1::ApiKeyService::NewStub(Channel());
  grpc::ClientContext ctx;
  Prepare(&ctx, token);
  const std::string verb = args[2];
  if (verb == "create") {
    crm::gateway::v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_tenant(absl::GetFlag(FLAGS_tenant));
    for (absl::string_view s :
         absl::StrSplit(absl::GetFlag(FLAGS_scopes), ',', absl::SkipWhitespace())) {
      request.mutable_api_key()->add_scopes(std::string(s));
    }
    request.mutable_api_key()->set_description(absl::GetFlag(FLAGS_description));
    crm::gateway::v1::CreateApiKeyResponse response;
    grpc::Status s = stub->CreateApiKey(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "revoke" && args.size() > 3) {
    crm::gateway::v1::RevokeApiKeyRequest request;
    request.set_name(args[3]);
    crm::gateway::v1::ApiKey response;
    grpc::Status s = stub->RevokeApiKey(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  if (verb == "list") {
    crm::gateway::v1::ListApiKeysRequest request;
    request.set_tenant(absl::GetFlag(FLAGS_tenant));
    crm::gateway::v1::ListApiKeysResponse response;
    grpc::Status s = stub->ListApiKeys(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    std::cout << Json(response) << "\n";
    return 0;
  }
  std::fprintf(stderr, "unknown verb: apikeys %s\n", verb.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "crmctl [flags] customers "
      "create|get|list|search|update|delete|import|duplicates|merge|unmerge | "
      "orders import | consent "
      "record|check|list | apikeys "
      "create|revoke|list | health");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  const std::string group = args[1];
  if (group == "customers") return Customers(args);
  if (group == "orders") return Orders(args);
  if (group == "apikeys") return ApiKeys(args);
  if (group == "consent") return Consents(args);
  if (group == "health") {
    auto state = crm::server::CheckHealth(Channel());
    if (!state.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(state.status().message()).c_str());
      return 1;
    }
    const bool serving = *state == crm::server::HealthState::kServing;
    std::printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
    return serving ? 0 : 1;
  }
  std::fprintf(stderr, "unknown command: %s\n", group.c_str());
  return 2;
}
