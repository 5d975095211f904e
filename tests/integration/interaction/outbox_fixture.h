// The outbound fixture of the interaction integration tests: the customer
// service and the interaction service in-process with fast retries, a
// secrets directory (an SMTP password, a Twilio token), a public HTTP port
// and base URL, and helpers to send and to read what arrived.
#pragma once

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/db/pool.h"
#include "crm/interaction/v1/channel_account_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/interaction/v1/delivery_service.grpc.pb.h"
#include "services/interaction/channel_account_store.h"
#include "services/interaction/delivery_store.h"
#include "services/interaction/delivery_worker.h"
#include "services/interaction/email_parser.h"
#include "services/interaction/interaction_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/net.h"
#include "tests/testing/service_harness.h"
#include "tests/testing/smtp_sink.h"

ABSL_DECLARE_FLAG(std::string, channel_secrets_dir);
ABSL_DECLARE_FLAG(int, delivery_backoff_ms);
ABSL_DECLARE_FLAG(int, delivery_max_attempts);
ABSL_DECLARE_FLAG(int, delivery_workers);
ABSL_DECLARE_FLAG(std::string, public_base_url);
ABSL_DECLARE_FLAG(int, http_port);

namespace crm::testing {

namespace v1 = crm::interaction::v1;
namespace cv1 = crm::customer::v1;

// The service's flags for these tests: fast retries, a secrets directory
// with one secret, and a public address for unsubscribe links.
inline std::string SecretsDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/crm-secrets-XXXXXX";
    std::string d = mkdtemp(tmpl);
    std::ofstream(d + "/smtp-password") << "s3cret-value\n";
    std::ofstream(d + "/twilio-token") << "twilio-auth-token\n";
    std::ofstream(d + "/whatsapp-token") << "wa-access-token\n";
    std::ofstream(d + "/whatsapp-app-secret") << "wa-app-secret\n";
    std::ofstream(d + "/whatsapp-verify") << "wa-verify-token\n";
    std::ofstream(d + "/generic-token") << "generic-api-token\n";
    std::ofstream(d + "/generic-secret") << "generic-shared-secret\n";
    std::ofstream(d + "/imap-password") << "imap-pass\n";
    std::ofstream(d + "/inbound-mail-secret") << "inbound-relay-secret\n";
    return d;
  }();
  return dir;
}

// The public HTTP port of the service under test.
inline int HttpPort() {
  static const int port = FreePort();
  return port;
}

inline void SetFlags(int max_attempts = 8, int workers = 2) {
  absl::SetFlag(&FLAGS_channel_secrets_dir, SecretsDir());
  absl::SetFlag(&FLAGS_delivery_backoff_ms, 50);
  absl::SetFlag(&FLAGS_delivery_max_attempts, max_attempts);
  absl::SetFlag(&FLAGS_delivery_workers, workers);
  absl::SetFlag(&FLAGS_public_base_url, "https://crm.example.com/interaction");
  absl::SetFlag(&FLAGS_http_port, HttpPort());
}

// Set before the service starts (it reads them as it wires itself).
struct Flags {
  Flags(int max_attempts, int workers) { SetFlags(max_attempts, workers); }
};

// A provider's HTTP API double: records each POST to `pattern` and
// answers it with `answer` (given the request's 1-based number).
class FakeProvider {
 public:
  using Answer = std::function<void(const httplib::Request&, httplib::Response&, size_t)>;
  FakeProvider(const std::string& pattern, Answer answer) : answer_(std::move(answer)) {
    server_.Post(pattern, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      answer_(req, res, requests_.size());
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeProvider() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<httplib::Request> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  httplib::Server server_;
  Answer answer_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<httplib::Request> requests_;
};

struct Outbox {
  explicit Outbox(int max_attempts = 8, int workers = 2) : flags(max_attempts, workers) {}
  Flags flags;
  CustomerHarness customers{"outbox_customers"};
  ServiceHarness h{
      interaction::Definition(), "outbox",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::ConversationService::Stub> stub = h.Stub<v1::ConversationService>();
  std::unique_ptr<v1::ChannelAccountService::Stub> accounts = h.Stub<v1::ChannelAccountService>();
  std::unique_ptr<v1::DeliveryService::Stub> delivery = h.Stub<v1::DeliveryService>();

  v1::ChannelAccount Account(int port, const std::string& tenant = "acme") {
    v1::CreateChannelAccountRequest req;
    v1::ChannelAccount* a = req.mutable_account();
    a->set_channel(v1::CHANNEL_EMAIL);
    a->set_display_name("Support");
    a->set_sender("support@shop.example");
    a->set_sender_name("Shop Support");
    a->mutable_smtp()->set_host("127.0.0.1");
    a->mutable_smtp()->set_port(port);
    a->mutable_smtp()->set_security(v1::SMTP_SECURITY_NONE);
    v1::ChannelAccount out;
    grpc::Status s = accounts->CreateChannelAccount(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("CreateChannelAccount: " << s.error_message());
    return out;
  }

  v1::ReceiveMessageResponse Email(const std::string& raw) {
    v1::ReceiveMessageRequest req;
    req.set_channel(v1::CHANNEL_EMAIL);
    req.set_raw_email(absl::StrReplaceAll(raw, {{"\n", "\r\n"}}));
    v1::ReceiveMessageResponse out;
    grpc::Status s = stub->ReceiveMessage(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ReceiveMessage: " << s.error_message());
    return out;
  }

  grpc::Status TrySend(const v1::SendMessageRequest& req, v1::SendMessageResponse* out) {
    return stub->SendMessage(ServiceHarness::Ctx().get(), req, out);
  }

  v1::SendMessageResponse Send(const v1::SendMessageRequest& req) {
    v1::SendMessageResponse out;
    grpc::Status s = TrySend(req, &out);
    if (!s.ok()) FAIL("SendMessage: " << s.error_message());
    return out;
  }

  v1::Message Message(const std::string& name) {
    const std::string parent = name.substr(0, name.find("/messages/"));
    v1::ListMessagesRequest req;
    req.set_parent(parent);
    req.set_page_size(1000);
    v1::ListMessagesResponse out;
    grpc::Status s = stub->ListMessages(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ListMessages: " << s.error_message());
    for (const auto& m : out.messages()) {
      if (m.name() == name) return m;
    }
    FAIL("no message " << name);
    return {};
  }

  // Polls until the message leaves QUEUED or 20 s pass.
  v1::Message AwaitDelivery(const std::string& name) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    v1::Message m = Message(name);
    while (m.delivery_status() == v1::DELIVERY_STATUS_QUEUED && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(25));
      m = Message(name);
    }
    return m;
  }

  std::vector<std::string> EventTypes() {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    std::vector<std::string> types;
    for (const auto& row : tx.exec("SELECT type FROM interaction.outbox ORDER BY tx_id, seq")) {
      types.push_back(row[0].as<std::string>());
    }
    return types;
  }

  void Consent(const std::string& customer, cv1::ConsentStatus status) {
    cv1::RecordConsentRequest req;
    req.set_name(customer);
    req.mutable_consent()->set_channel(cv1::CONSENT_CHANNEL_EMAIL);
    req.mutable_consent()->set_purpose(cv1::CONSENT_PURPOSE_MARKETING);
    req.mutable_consent()->set_status(status);
    req.mutable_consent()->set_source("checkout");
    req.mutable_consent()->set_text_version("v1");
    cv1::Consent out;
    grpc::Status s = customers.stub().RecordConsent(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("RecordConsent: " << s.error_message());
  }
};

inline v1::SendMessageRequest Reply(const std::string& conversation, const std::string& text) {
  v1::SendMessageRequest req;
  req.set_conversation(conversation);
  req.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  req.set_author_kind(v1::AUTHOR_KIND_AGENT);
  req.set_author("agents/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  req.set_text(text);
  return req;
}

inline v1::SendMessageRequest Newsletter(const std::string& customer) {
  v1::SendMessageRequest req;
  req.set_customer(customer);
  req.set_channel(v1::CHANNEL_EMAIL);
  req.set_purpose(v1::PURPOSE_MARKETING);
  req.set_author_kind(v1::AUTHOR_KIND_CAMPAIGN);
  req.set_author("campaigns/spring");
  req.set_subject("Spring sale");
  req.set_text("20% off everything");
  return req;
}

// The header `name` (any case) of a raw message, unfolded and trimmed; ""
// when absent.
inline std::string Header(const std::string& raw, const std::string& name) {
  const std::string head = "\r\n" + raw.substr(0, raw.find("\r\n\r\n"));
  const std::string key = absl::AsciiStrToLower("\r\n" + name + ":");
  const size_t at = absl::AsciiStrToLower(head).find(key);
  if (at == std::string::npos) return "";
  std::string value = head.substr(at + key.size());
  size_t end = 0;
  while ((end = value.find("\r\n", end)) != std::string::npos && end + 2 < value.size() &&
         (value[end + 2] == ' ' || value[end + 2] == '\t')) {
    value.erase(end, 2);
  }
  return std::string(absl::StripAsciiWhitespace(value.substr(0, value.find("\r\n"))));
}

}  // namespace crm::testing
