// crmctl customers ...: profiles, search, imports, duplicates, merges.
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

}  // namespace

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

}  // namespace crm::crmctl
