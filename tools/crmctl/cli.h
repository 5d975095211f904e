// What crmctl's command groups share: the flags (defined in cli.cc), the
// channel and call context, JSON output and error reporting, CSV input.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "tools/crmctl/csv_import.h"

ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(std::string, key);
ABSL_DECLARE_FLAG(std::string, tenant);
ABSL_DECLARE_FLAG(int, timeout_ms);
ABSL_DECLARE_FLAG(std::string, external_id);
ABSL_DECLARE_FLAG(std::string, email);
ABSL_DECLARE_FLAG(std::string, phone);
ABSL_DECLARE_FLAG(std::string, given_name);
ABSL_DECLARE_FLAG(std::string, family_name);
ABSL_DECLARE_FLAG(std::string, locale);
ABSL_DECLARE_FLAG(std::string, country);
ABSL_DECLARE_FLAG(std::string, tags);
ABSL_DECLARE_FLAG(std::string, request_id);
ABSL_DECLARE_FLAG(std::string, etag);
ABSL_DECLARE_FLAG(std::string, filter);
ABSL_DECLARE_FLAG(std::string, order_by);
ABSL_DECLARE_FLAG(int, page_size);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(bool, all);
ABSL_DECLARE_FLAG(std::string, csv);
ABSL_DECLARE_FLAG(double, min_score);
ABSL_DECLARE_FLAG(std::string, merged);
ABSL_DECLARE_FLAG(bool, validate_only);
ABSL_DECLARE_FLAG(int, parallel);
ABSL_DECLARE_FLAG(std::string, channel);
ABSL_DECLARE_FLAG(std::string, purpose);
ABSL_DECLARE_FLAG(std::string, status);
ABSL_DECLARE_FLAG(std::string, source);
ABSL_DECLARE_FLAG(std::string, text_version);
ABSL_DECLARE_FLAG(bool, history);
ABSL_DECLARE_FLAG(std::string, admin_token_file);
ABSL_DECLARE_FLAG(std::string, scopes);
ABSL_DECLARE_FLAG(std::string, description);
ABSL_DECLARE_FLAG(std::string, requester);
ABSL_DECLARE_FLAG(std::string, subject);
ABSL_DECLARE_FLAG(std::string, priority);
ABSL_DECLARE_FLAG(std::string, ticket_type);
ABSL_DECLARE_FLAG(std::string, order);
ABSL_DECLARE_FLAG(std::string, body);
ABSL_DECLARE_FLAG(std::string, author);
ABSL_DECLARE_FLAG(std::string, author_kind);
ABSL_DECLARE_FLAG(bool, internal);
ABSL_DECLARE_FLAG(std::string, into);
ABSL_DECLARE_FLAG(std::string, custom_status);
ABSL_DECLARE_FLAG(std::string, label);
ABSL_DECLARE_FLAG(std::string, json);
ABSL_DECLARE_FLAG(int, score);
ABSL_DECLARE_FLAG(bool, good);
ABSL_DECLARE_FLAG(bool, bad);
ABSL_DECLARE_FLAG(std::string, group);
ABSL_DECLARE_FLAG(std::string, followers);
ABSL_DECLARE_FLAG(std::string, fields);
ABSL_DECLARE_FLAG(std::string, assignee);
ABSL_DECLARE_FLAG(std::string, from);
ABSL_DECLARE_FLAG(std::string, thread_id);
ABSL_DECLARE_FLAG(std::string, raw_file);
ABSL_DECLARE_FLAG(int, snooze_minutes);

namespace crm::crmctl {

std::shared_ptr<grpc::Channel> Channel();
// Credentials (--key or `bearer`), --tenant and the --timeout_ms deadline.
void Prepare(grpc::ClientContext* ctx, const std::string& bearer = "");
// A context for a long client stream: credentials, no deadline.
void PrepareStream(grpc::ClientContext* ctx);
std::string Json(const google::protobuf::Message& m, bool pretty = true);
// A time as "2026-12-02T11:02:04" (UTC), for tables.
std::string When(const google::protobuf::Timestamp& t);
// Enum values by their lower-case suffix: "email" with prefix
// "CONSENT_CHANNEL_" → CONSENT_CHANNEL_EMAIL; the zero value when unknown or
// empty (the service then names the field).
template <typename Enum>
Enum ParseEnum(const google::protobuf::EnumDescriptor* descriptor, const std::string& prefix,
               const std::string& word) {
  std::string upper = word;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto* value = descriptor->FindValueByName(prefix + upper);
  return value == nullptr ? static_cast<Enum>(0) : static_cast<Enum>(value->number());
}

// --json into `message`; false (having said why on stderr) when it does
// not parse.
bool FromJsonFlag(google::protobuf::Message* message);

// Prints "error: CODE: message"; returns 1.
int Report(const grpc::Status& status);
// Opens --csv with a progress bar; prints why and returns null on failure.
std::unique_ptr<CsvSource> OpenCsv();

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

// The command groups: args[1] is the group, args[2] the verb.
int Customers(const std::vector<char*>& args);
int Orders(const std::vector<char*>& args);
int Consents(const std::vector<char*>& args);
int ApiKeys(const std::vector<char*>& args);
int Tickets(const std::vector<char*>& args);
int Sla(const std::vector<char*>& args);
int Routing(const std::vector<char*>& args);
int Rules(const std::vector<char*>& args);
int Conversations(const std::vector<char*>& args);
int Accounts(const std::vector<char*>& args);
int Suppressions(const std::vector<char*>& args);
int Chat(const std::vector<char*>& args);
int Value(const std::vector<char*>& args);
int Reports(const std::vector<char*>& args);
int Kpis(const std::vector<char*>& args);

}  // namespace crm::crmctl
