#include "services/interaction/provider_client.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/interaction/smtp_sender.h"
#include "services/interaction/webhooks.h"
#include "services/interaction/whatsapp.h"

namespace crm::interaction {
namespace {

constexpr char kTwilioBaseUrl[] = "https://api.twilio.com";

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string Escaped(CURL* curl, const std::string& value) {
  char* escaped = curl_easy_escape(curl, value.data(), static_cast<int>(value.size()));
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

}  // namespace

std::string GenericSendBody(const GenericMessage& m) {
  nlohmann::json body = {
      {"id", m.id}, {"channel", m.channel}, {"from", m.from}, {"to", m.to}, {"text", m.text}};
  if (!m.status_callback.empty()) body["status_callback"] = m.status_callback;
  return body.dump();
}

ProviderResult GenericSendOutcome(long http, const std::string& response_body) {
  ProviderResult result;
  const nlohmann::json json =
      nlohmann::json::parse(response_body, nullptr, /*allow_exceptions=*/false);
  if (http >= 200 && http < 300) {
    if (json.is_object() && json.contains("id") && json["id"].is_string() &&
        !json["id"].get<std::string>().empty()) {
      result.outcome = SendOutcome::kSent;
      result.external_id = json["id"].get<std::string>();
    } else {
      result.detail = absl::StrCat("HTTP ", http, " without a message id");
    }
    return result;
  }
  std::string error;
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    error = json["error"].get<std::string>();
  }
  result.detail = absl::StrCat("HTTP ", http, error.empty() ? "" : ": ", error);
  if (http == 429 || http >= 500 || http < 400) return result;  // retry
  if (http == 410) {
    result.outcome = SendOutcome::kBounced;
    result.suppress = true;
    return result;
  }
  result.outcome = SendOutcome::kFailed;
  return result;
}

ProviderClient::ProviderClient() {
  InitCurl();
  curl_ = curl_easy_init();
}

ProviderClient::~ProviderClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

ProviderClient::Response ProviderClient::Post(
    const std::string& url, const std::vector<std::string>& headers, const std::string& body,
    const std::string* basic_user, const std::string* basic_password, absl::Duration timeout) {
  Response out;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    out.detail = "libcurl could not start";
    return out;
  }
  curl_easy_reset(curl);
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (basic_user != nullptr) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, basic_user->c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, basic_password->c_str());
  }
  if (list != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const long millis = static_cast<long>(absl::ToInt64Milliseconds(timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, millis);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(millis, 10000L));
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  if (code != CURLE_OK) {
    out.detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    return out;
  }
  out.answered = true;
  return out;
}

ProviderResult ProviderClient::SendTwilio(const v1::ProviderSettings& settings,
                                          const std::string& token, const std::string& from,
                                          const std::string& to, const std::string& body,
                                          const std::string& status_callback,
                                          absl::Duration timeout) {
  ProviderResult result;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    result.detail = "libcurl could not start";
    return result;
  }
  const std::string base = settings.base_url().empty() ? kTwilioBaseUrl : settings.base_url();
  const std::string url =
      absl::StrCat(base, "/2010-04-01/Accounts/", settings.account_id(), "/Messages.json");
  std::string form = absl::StrCat("To=", Escaped(curl, to), "&From=", Escaped(curl, from),
                                  "&Body=", Escaped(curl, body));
  if (!status_callback.empty()) {
    absl::StrAppend(&form, "&StatusCallback=", Escaped(curl, status_callback));
  }
  const Response r = Post(url, {}, form, &settings.account_id(), &token, timeout);
  if (!r.answered) {
    result.detail = r.detail;
    return result;  // no answer: retry
  }
  const long http = r.status;
  const nlohmann::json json = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (http >= 200 && http < 300) {
    if (json.is_object() && json.contains("sid") && json["sid"].is_string()) {
      result.outcome = SendOutcome::kSent;
      result.external_id = json["sid"].get<std::string>();
    } else {
      result.detail = absl::StrCat("HTTP ", http, " without a message sid");
    }
    return result;
  }
  std::string provider_code, message;
  if (json.is_object()) {
    if (json.contains("code") && json["code"].is_number_integer()) {
      provider_code = std::to_string(json["code"].get<int64_t>());
    }
    if (json.contains("message") && json["message"].is_string()) {
      message = json["message"].get<std::string>();
    }
  }
  result.detail = absl::StrCat("HTTP ", http, provider_code.empty() ? "" : " code ", provider_code,
                               message.empty() ? "" : ": ", message);
  if (http == 429 || http >= 500) return result;  // retry
  // 21211 invalid To, 21614 not a mobile number, 21610 the recipient said
  // STOP: this number will not take messages.
  if (provider_code == "21211" || provider_code == "21614" || provider_code == "21610") {
    result.outcome = SendOutcome::kBounced;
    result.suppress = true;
    return result;
  }
  result.outcome = SendOutcome::kFailed;
  return result;
}

ProviderResult ProviderClient::SendWhatsApp(const v1::ProviderSettings& settings,
                                            const std::string& token, const std::string& to,
                                            const std::string& text, absl::Duration timeout) {
  const std::string base = settings.base_url().empty() ? kWhatsAppBaseUrl : settings.base_url();
  const Response r =
      Post(absl::StrCat(base, "/", settings.account_id(), "/messages"),
           {"Content-Type: application/json", absl::StrCat("Authorization: Bearer ", token)},
           WhatsAppSendBody(to, text), nullptr, nullptr, timeout);
  ProviderResult result;
  if (!r.answered) {
    result.detail = r.detail;
    return result;
  }
  const WhatsAppSendResult sent = WhatsAppSendOutcome(r.status, r.body);
  result.outcome = sent.outcome;
  result.external_id = sent.external_id;
  result.detail = sent.detail;
  result.suppress = sent.suppress;
  return result;
}

ProviderResult ProviderClient::SendGeneric(const v1::ProviderSettings& settings,
                                           const std::string& token,
                                           const std::string& webhook_secret,
                                           const GenericMessage& message, absl::Duration timeout) {
  const std::string body = GenericSendBody(message);
  const Response r =
      Post(settings.base_url(),
           {"Content-Type: application/json", absl::StrCat("Authorization: Bearer ", token),
            absl::StrCat("X-CRM-Signature: ", GenericSignature(webhook_secret, absl::Now(), body))},
           body, nullptr, nullptr, timeout);
  if (!r.answered) {
    ProviderResult result;
    result.detail = r.detail;
    return result;
  }
  return GenericSendOutcome(r.status, r.body);
}

}  // namespace crm::interaction
