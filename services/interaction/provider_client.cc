#include "services/interaction/provider_client.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/interaction/smtp_sender.h"

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

ProviderClient::ProviderClient() {
  InitCurl();
  curl_ = curl_easy_init();
}

ProviderClient::~ProviderClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

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
  curl_easy_reset(curl);
  const std::string base = settings.base_url().empty() ? kTwilioBaseUrl : settings.base_url();
  const std::string url =
      absl::StrCat(base, "/2010-04-01/Accounts/", settings.account_id(), "/Messages.json");
  std::string form = absl::StrCat("To=", Escaped(curl, to), "&From=", Escaped(curl, from),
                                  "&Body=", Escaped(curl, body));
  if (!status_callback.empty()) {
    absl::StrAppend(&form, "&StatusCallback=", Escaped(curl, status_callback));
  }
  std::string response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  curl_easy_setopt(curl, CURLOPT_USERNAME, settings.account_id().c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, token.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const long millis = static_cast<long>(absl::ToInt64Milliseconds(timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, millis);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(millis, 10000L));
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (code != CURLE_OK) {
    result.detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    return result;  // no answer: retry
  }
  const nlohmann::json json = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
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

}  // namespace crm::interaction
