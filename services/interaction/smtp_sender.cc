#include "services/interaction/smtp_sender.h"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::interaction {
void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void SetMailSecurity(void* handle, v1::SmtpSecurity security) {
  CURL* curl = static_cast<CURL*>(handle);
  switch (security) {
    case v1::SMTP_SECURITY_NONE:
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
      break;
    case v1::SMTP_SECURITY_STARTTLS_IF_OFFERED:
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
      break;
    default:  // STARTTLS (the default) or TLS: never in clear
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      break;
  }
}

namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t room = size * count;
  const size_t left = upload->data->size() - upload->offset;
  const size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

}  // namespace

SmtpSender::SmtpSender() {
  InitCurl();
  curl_ = curl_easy_init();
}

SmtpSender::~SmtpSender() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

SmtpResult SmtpSender::Send(const v1::SmtpSettings& smtp, const std::string& password,
                            const std::string& from, const std::string& to, const std::string& mime,
                            absl::Duration timeout) {
  CURL* curl = static_cast<CURL*>(curl_);
  SmtpResult result;
  if (curl == nullptr) {
    result.detail = "libcurl could not start";
    return result;
  }
  curl_easy_reset(curl);  // keeps the open connection, drops the options
  const int port = smtp.port() == 0 ? 587 : smtp.port();
  const bool implicit_tls = smtp.security() == v1::SMTP_SECURITY_TLS;
  const std::string url =
      absl::StrCat(implicit_tls ? "smtps://" : "smtp://", smtp.host(), ":", port);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  SetMailSecurity(curl, smtp.security());
  if (!smtp.username().empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, smtp.username().c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  const std::string mail_from = absl::StrCat("<", from, ">");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_slist* rcpt = curl_slist_append(nullptr, absl::StrCat("<", to, ">").c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  Upload upload{&mime};
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const long millis = static_cast<long>(absl::ToInt64Milliseconds(timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, millis);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(millis, 10000L));
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  result.code = static_cast<int>(reply);
  const std::string what = error[0] != '\0' ? error : curl_easy_strerror(code);
  result.outcome =
      ClassifySmtp(code == CURLE_OK, result.code, absl::StartsWith(what, "RCPT failed"));
  if (code != CURLE_OK) result.detail = what;
  return result;
}

}  // namespace crm::interaction
