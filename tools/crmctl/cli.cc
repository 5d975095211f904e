#include "tools/crmctl/cli.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
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
ABSL_FLAG(std::string, request_id, "",
          "idempotency key for create and the ticket verbs (status, assign, escalate, merge)");
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
ABSL_FLAG(std::string, channel, "",
          "consent: email | sms | push | phone; tickets create: email | sms | chat | phone | "
          "web_form | social | api");
ABSL_FLAG(std::string, purpose, "",
          "consent: marketing | transactional; conversations send: transactional (default) or "
          "marketing");
ABSL_FLAG(std::string, status, "",
          "consent record: granted | denied; tickets status: open | pending | on_hold | solved | "
          "closed");
ABSL_FLAG(std::string, source, "", "consent record: where it was captured, e.g. checkout");
ABSL_FLAG(std::string, text_version, "", "consent record: version of the consent text shown");
ABSL_FLAG(bool, history, false, "consent list: every record, not just the current ones");
ABSL_FLAG(std::string, admin_token_file, "", "apikeys: file holding the admin token");
ABSL_FLAG(std::string, scopes, "*", "apikeys create: comma-separated scopes");
ABSL_FLAG(std::string, description, "", "apikeys create, tickets create: description");
ABSL_FLAG(std::string, requester, "",
          "tickets create, conversations receive: the customer, customers/<id>");
ABSL_FLAG(std::string, subject, "", "tickets create: one line");
ABSL_FLAG(std::string, priority, "", "tickets create, update: low | normal | high | urgent");
ABSL_FLAG(std::string, ticket_type, "", "tickets create: question | incident | problem | task");
ABSL_FLAG(std::string, order, "", "tickets create: the order it is about, orders/<id>");
ABSL_FLAG(std::string, body, "", "tickets comment: the text");
ABSL_FLAG(std::string, author, "", "tickets comment: who wrote it");
ABSL_FLAG(std::string, author_kind, "agent", "tickets comment: agent | customer | system");
ABSL_FLAG(bool, internal, false, "tickets comment: an internal note, not a public reply");
ABSL_FLAG(std::string, into, "", "tickets merge: the ticket that remains, tickets/<id>");
ABSL_FLAG(std::string, custom_status, "",
          "tickets status: a tenant's own status, customStatuses/<id> (instead of --status)");
ABSL_FLAG(std::string, label, "", "tickets new-status: the custom status's label");
ABSL_FLAG(std::string, json, "", "sla new-calendar, new-policy: the calendar or policy as JSON");
ABSL_FLAG(int, score, 0, "tickets rate: satisfaction 1 to 5 (or --good / --bad)");
ABSL_FLAG(bool, good, false, "tickets rate: the customer was satisfied");
ABSL_FLAG(bool, bad, false, "tickets rate: the customer was not satisfied");
ABSL_FLAG(std::string, group, "", "tickets create, assign: the group, groups/<id>");
ABSL_FLAG(std::string, assignee, "", "tickets assign: the agent, agents/<id>");
ABSL_FLAG(std::string, followers, "",
          "tickets update: the agents who follow it, comma-separated agents/<id> ('-' for none)");
ABSL_FLAG(std::string, fields, "",
          "tickets update: custom field values, key=value,... (typed by the tenant's fields; "
          "key= removes one)");

ABSL_FLAG(std::string, from, "",
          "conversations receive: the sender's address (e-mail, E.164 number, social id)");
ABSL_FLAG(std::string, thread_id, "", "conversations receive: the channel's thread id");
ABSL_FLAG(std::string, raw_file, "",
          "conversations receive: a whole e-mail (RFC 5322) to parse, from this file ('-' for "
          "stdin)");
ABSL_FLAG(int, snooze_minutes, 0, "conversations status snoozed: for how long");

namespace crm::crmctl {

std::shared_ptr<grpc::Channel> Channel() {
  return grpc::CreateChannel(absl::GetFlag(FLAGS_addr), grpc::InsecureChannelCredentials());
}

void Prepare(grpc::ClientContext* ctx, const std::string& bearer) {
  const std::string key = bearer.empty() ? absl::GetFlag(FLAGS_key) : bearer;
  if (!key.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", key));
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
  ctx->set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms))));
}

std::string When(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t).substr(0, 19);
}

std::string Json(const google::protobuf::Message& m, bool pretty) {
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

std::unique_ptr<CsvSource> OpenCsv() {
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

void PrepareStream(grpc::ClientContext* ctx) {
  if (!absl::GetFlag(FLAGS_key).empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", absl::GetFlag(FLAGS_key)));
  }
  if (!absl::GetFlag(FLAGS_tenant).empty()) {
    ctx->AddMetadata("x-crm-tenant", absl::GetFlag(FLAGS_tenant));
  }
}

bool FromJsonFlag(google::protobuf::Message* message) {
  const auto status =
      google::protobuf::util::JsonStringToMessage(absl::GetFlag(FLAGS_json), message);
  if (!status.ok()) {
    std::fprintf(stderr, "error: --json: %s\n", status.ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace crm::crmctl
