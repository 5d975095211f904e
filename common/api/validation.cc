#include "common/api/validation.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/crypto.h"
#include "common/base/status.h"

namespace crm::api {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += n + 1;
  }
  return true;
}

absl::Status CheckMaxLength(absl::string_view field, absl::string_view value, size_t max) {
  if (value.size() > max) return Bad(field, absl::StrCat("longer than ", max, " bytes"));
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max) {
  if (value.size() > max) return Bad(field, absl::StrCat("longer than ", max, " bytes"));
  if (!IsValidUtf8(value)) return Bad(field, "not valid UTF-8");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return Bad(field, "contains control characters");
  }
  return absl::OkStatus();
}

absl::Status CheckEmail(absl::string_view field, absl::string_view value) {
  if (value.size() > 254) return Bad(field, "longer than 254 characters");
  if (!IsValidUtf8(value)) return Bad(field, "not valid UTF-8");
  const size_t at = value.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 >= value.size() ||
      value.find('@', at + 1) != absl::string_view::npos) {
    return Bad(field, "must look like name@domain");
  }
  for (unsigned char c : value) {
    if (c <= 0x20 || c == 0x7f) return Bad(field, "must not contain spaces or controls");
  }
  absl::string_view domain = value.substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' || absl::StrContains(domain, "..")) {
    return Bad(field, "has a malformed domain");
  }
  return absl::OkStatus();
}

absl::Status CheckE164(absl::string_view field, absl::string_view value) {
  if (value.size() < 9 || value.size() > 16 || value[0] != '+' || value[1] == '0' ||
      !std::all_of(value.begin() + 1, value.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return Bad(field, "must be E.164: '+' and 8 to 15 digits, e.g. +442071234567");
  }
  return absl::OkStatus();
}

absl::Status CheckCountryCode(absl::string_view field, absl::string_view value) {
  if (value.size() != 2 || !absl::ascii_isupper(value[0]) || !absl::ascii_isupper(value[1])) {
    return Bad(field, "must be an ISO-3166-1 alpha-2 code in upper case, e.g. GB");
  }
  return absl::OkStatus();
}

absl::Status CheckLocale(absl::string_view field, absl::string_view value) {
  if (value.size() > 35) return Bad(field, "longer than 35 characters");
  std::vector<absl::string_view> parts = absl::StrSplit(value, '-');
  bool ok =
      parts[0].size() >= 2 && parts[0].size() <= 3 &&
      std::all_of(parts[0].begin(), parts[0].end(), [](char c) { return absl::ascii_isalpha(c); });
  for (size_t i = 1; ok && i < parts.size(); ++i) {
    ok = parts[i].size() >= 2 && parts[i].size() <= 8 &&
         std::all_of(parts[i].begin(), parts[i].end(),
                     [](char c) { return absl::ascii_isalnum(c); });
  }
  if (!ok) return Bad(field, "must be a BCP-47 tag such as en or en-GB");
  return absl::OkStatus();
}

absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max) {
  if (value.empty() || value.size() > max || !std::all_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '.' ||
               c == ':' || c == '-';
      })) {
    return Bad(field, absl::StrCat("must be 1 to ", max, " characters of [a-z0-9_.:-]"));
  }
  return absl::OkStatus();
}

absl::Status ParseResourceName(absl::string_view field, absl::string_view name,
                               absl::string_view collection, std::string* id) {
  if (name.empty()) return Bad(field, "required");
  const std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix)) {
    return Bad(field, absl::StrCat("must be ", collection, "/{id}"));
  }
  absl::string_view uuid = name.substr(prefix.size());
  bool ok = uuid.size() == 36;
  for (size_t i = 0; ok && i < uuid.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    ok = dash ? uuid[i] == '-' : absl::ascii_isxdigit(uuid[i]);
  }
  if (!ok) return Bad(field, absl::StrCat("must be ", collection, "/{uuid}"));
  *id = absl::AsciiStrToLower(uuid);
  return absl::OkStatus();
}

std::string EtagOf(int64_t version) { return absl::StrCat("v", version); }

absl::StatusOr<int64_t> ParseEtag(absl::string_view field, absl::string_view etag) {
  int64_t v = 0;
  if (etag.size() < 2 || etag[0] != 'v' || !absl::SimpleAtoi(etag.substr(1), &v) || v <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": malformed etag; send back the etag a read returned"));
  }
  return v;
}

absl::Status CheckEtag(absl::string_view sent, absl::string_view current, absl::string_view what) {
  if (sent.empty()) return absl::OkStatus();
  CRM_RETURN_IF_ERROR(ParseEtag("etag", sent).status());
  if (sent != current) {
    return absl::AbortedError(
        absl::StrCat("etag: the ", what, " changed (now ", current, "); read it again and retry"));
  }
  return absl::OkStatus();
}

std::string RequestFingerprint(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return crypto::Sha256Hex(bytes);
}

}  // namespace crm::api
