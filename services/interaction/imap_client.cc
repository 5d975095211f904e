#include "services/interaction/imap_client.h"

#include <curl/curl.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/interaction/smtp_sender.h"

namespace crm::interaction {
namespace {

struct Answer {
  std::string text;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  if (answer->text.size() + size * count > answer->max_bytes) {
    answer->too_large = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  answer->text.append(data, size * count);
  return size * count;
}

int PortOf(const v1::ImapSettings& imap) {
  if (imap.port() != 0) return imap.port();
  return imap.security() == v1::SMTP_SECURITY_TLS ? 993 : 143;
}

std::string MailboxOf(const v1::ImapSettings& imap) {
  return imap.mailbox().empty() ? "INBOX" : imap.mailbox();
}

absl::Status StatusOf(CURLcode code, const std::string& where, const std::string& what) {
  const std::string message = absl::StrCat("imap ", where, ": ", what);
  switch (code) {
    case CURLE_LOGIN_DENIED:
      return absl::FailedPreconditionError(absl::StrCat("imap ", where, ": login refused"));
    case CURLE_USE_SSL_FAILED:
    case CURLE_QUOTE_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return absl::FailedPreconditionError(message);
    case CURLE_REMOTE_FILE_NOT_FOUND:
      return absl::NotFoundError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace

std::vector<int64_t> ParseImapSearch(const std::string& answer) {
  std::vector<int64_t> uids;
  for (absl::string_view line : absl::StrSplit(answer, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "* SEARCH")) continue;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      int64_t uid = 0;
      if (absl::SimpleAtoi(word, &uid) && uid > 0) uids.push_back(uid);
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

int64_t ParseImapStatusItem(const std::string& answer, absl::string_view item) {
  const std::string key = absl::StrCat(item, " ");
  for (absl::string_view line : absl::StrSplit(answer, '\n')) {
    if (!absl::StartsWith(line, "* STATUS")) continue;
    const size_t paren = line.rfind('(');
    if (paren == absl::string_view::npos) continue;
    const size_t at = line.find(key, paren);
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(at + key.size());
    const size_t end = rest.find_first_not_of("0123456789");
    int64_t value = 0;
    if (absl::SimpleAtoi(rest.substr(0, end), &value) && value > 0) return value;
  }
  return 0;
}

std::string ImapMailboxPath(const std::string& mailbox) {
  std::string path;
  for (char c : mailbox) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' ||
        c == '_') {
      path.push_back(c);
    } else {
      absl::StrAppend(&path, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return path;
}

ImapClient::ImapClient() {
  InitCurl();
  curl_ = curl_easy_init();
}

ImapClient::~ImapClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

void ImapClient::Configure(const v1::ImapSettings& imap, std::string password,
                           absl::Duration timeout) {
  imap_ = imap;
  password_ = std::move(password);
  timeout_ = timeout;
}

absl::StatusOr<std::string> ImapClient::Perform(const std::string& path, const std::string& command,
                                                size_t max_bytes) {
  CURL* curl = static_cast<CURL*>(curl_);
  const std::string where = absl::StrCat(imap_.host(), ":", PortOf(imap_));
  if (curl == nullptr) return absl::UnavailableError("imap: libcurl could not start");
  curl_easy_reset(curl);  // keeps the open connection, drops the options
  const bool implicit_tls = imap_.security() == v1::SMTP_SECURITY_TLS;
  const std::string url =
      absl::StrCat(implicit_tls ? "imaps://" : "imap://", imap_.host(), ":", PortOf(imap_), path);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  SetMailSecurity(curl, imap_.security());
  curl_easy_setopt(curl, CURLOPT_USERNAME, imap_.username().c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, password_.c_str());
  if (!command.empty()) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, command.c_str());
  Answer answer;
  answer.max_bytes = max_bytes;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const long millis = static_cast<long>(absl::ToInt64Milliseconds(timeout_));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, millis);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(millis, 10000L));
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (answer.too_large) {
    return absl::OutOfRangeError(absl::StrCat("imap ", where, ": more than ", max_bytes, " bytes"));
  }
  if (code != CURLE_OK) {
    return StatusOf(code, where, error[0] != '\0' ? error : curl_easy_strerror(code));
  }
  return std::move(answer.text);
}

absl::StatusOr<ImapMailboxStatus> ImapClient::Status() {
  const std::string mailbox = MailboxOf(imap_);
  auto answer = Perform("/", absl::StrCat("STATUS \"", mailbox, "\" (UIDVALIDITY UIDNEXT)"));
  if (absl::IsFailedPrecondition(answer.status()) &&
      !absl::StrContains(answer.status().message(), "login refused")) {
    return absl::FailedPreconditionError(absl::StrCat("imap ", imap_.host(), ":", PortOf(imap_),
                                                      ": no mailbox \"", mailbox,
                                                      "\" (the server refused STATUS)"));
  }
  if (!answer.ok()) return answer.status();
  ImapMailboxStatus status;
  status.uid_validity = ParseImapStatusItem(*answer, "UIDVALIDITY");
  status.uid_next = ParseImapStatusItem(*answer, "UIDNEXT");
  if (status.uid_validity == 0 || status.uid_next == 0) {
    return absl::UnavailableError(
        absl::StrCat("imap ", imap_.host(), ": no UIDVALIDITY and UIDNEXT for mailbox ", mailbox));
  }
  return status;
}

absl::StatusOr<std::vector<int64_t>> ImapClient::Search(const std::string& criteria) {
  auto answer =
      Perform(absl::StrCat("/", ImapMailboxPath(MailboxOf(imap_))), "UID SEARCH " + criteria);
  if (!answer.ok()) return answer.status();
  return ParseImapSearch(*answer);
}

absl::StatusOr<std::string> ImapClient::Fetch(int64_t uid_validity, int64_t uid, size_t max_bytes) {
  return Perform(absl::StrCat("/", ImapMailboxPath(MailboxOf(imap_)), ";UIDVALIDITY=", uid_validity,
                              "/;UID=", uid),
                 "", max_bytes);
}

}  // namespace crm::interaction
