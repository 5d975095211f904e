// crmctl consent record | check | list.
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

}  // namespace crm::crmctl
