#include "services/interaction/public_http.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "services/interaction/email_parser.h"

namespace crm::interaction {
namespace {

constexpr char kPage[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>"
    "<body><h1>Unsubscribe</h1><p>Stop receiving marketing messages at this address?</p>"
    "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
    "value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form></body></html>";

constexpr char kDone[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>"
    "<body><h1>You are unsubscribed</h1><p>You will get no more marketing messages at this "
    "address.</p></body></html>";

void Answer(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

}  // namespace

PublicHttp::PublicHttp(Unsubscriber& unsubscriber, Webhooks& webhooks)
    : unsubscriber_(unsubscriber),
      webhooks_(webhooks),
      server_(std::make_unique<httplib::Server>()) {
  const auto webhook = [this](const httplib::Request& req, httplib::Response& res) {
    WebhookRequest request;
    request.method = req.method;
    request.params.insert(req.params.begin(), req.params.end());
    request.path = req.path;
    const size_t query = req.target.find('?');
    if (query != std::string::npos) request.path += req.target.substr(query);
    request.body = req.body;
    for (const char* header : {"X-Twilio-Signature", "X-Hub-Signature-256", "X-CRM-Signature"}) {
      if (req.has_header(header)) request.signature = req.get_header_value(header);
    }
    const WebhookAnswer answer = webhooks_.Handle(req.matches[1], req.matches[2], request);
    res.status = answer.status;
    res.set_content(answer.body, answer.content_type.c_str());
  };
  constexpr char kWebhookPath[] = R"(/webhooks/([a-z0-9][a-z0-9-]{0,62})/([0-9a-f-]{36}))";
  server_->Post(kWebhookPath, webhook);
  server_->Get(kWebhookPath, webhook);  // WhatsApp's subscription handshake
  server_->Get(R"(/unsubscribe/([A-Za-z0-9_-]{1,1024}))",
               [](const httplib::Request&, httplib::Response& res) {
                 res.set_content(kPage, "text/html; charset=utf-8");
               });
  server_->Post(R"(/unsubscribe/([A-Za-z0-9_-]{1,1024}))", [this](const httplib::Request& req,
                                                                  httplib::Response& res) {
    auto done = unsubscriber_.Unsubscribe(req.matches[1]);
    if (done.ok()) {
      res.set_content(kDone, "text/html; charset=utf-8");
      return;
    }
    switch (done.status().code()) {
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kNotFound:
        return Answer(res, 404, "This unsubscribe link is not valid.\n");
      default:
        log::Warning("unsubscribe failed", {{"error", std::string(done.status().message())}});
        return Answer(res, 503, "Please try again in a minute.\n");
    }
  });
  server_->Get("/healthz",
               [](const httplib::Request&, httplib::Response& res) { Answer(res, 200, "ok\n"); });
  // Raw inbound mail may carry attachments; provider calls are small.
  server_->set_payload_max_length(kMaxRawEmailBytes + 64 * 1024);
}

PublicHttp::~PublicHttp() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

absl::Status PublicHttp::Start(const std::string& host, int port) {
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", host, ":", port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log::Info("public HTTP started", {{"http_port", std::to_string(port_)}});
  return absl::OkStatus();
}

}  // namespace crm::interaction
