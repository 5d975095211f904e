// crmctl apikeys create | revoke | list (the gateway's admin API).
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

}  // namespace crm::crmctl
