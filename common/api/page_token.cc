#include "common/api/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/crypto.h"

namespace crm::api {
namespace {

constexpr char kVersion[] = "p1";
constexpr char kSep = '\x1f';
constexpr size_t kMacBytes = 16;

absl::Status Invalid() {
  return absl::InvalidArgumentError(
      "page_token: invalid or tampered token; use next_page_token unchanged");
}

}  // namespace

PageTokenCodec::PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}

std::string PageTokenCodec::Encode(const std::vector<std::string>& key,
                                   absl::string_view query) const {
  std::string payload =
      absl::StrCat(kVersion, std::string(1, kSep), crypto::Sha256Hex(query).substr(0, 16));
  for (const auto& k : key) absl::StrAppend(&payload, std::string(1, kSep), k);
  std::string mac = crypto::HmacSha256(secret_, payload).substr(0, kMacBytes);
  return absl::WebSafeBase64Escape(payload + mac);
}

absl::StatusOr<std::vector<std::string>> PageTokenCodec::Decode(absl::string_view token,
                                                                absl::string_view query) const {
  if (token.size() > 4096) return Invalid();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() <= kMacBytes) return Invalid();
  absl::string_view payload(raw.data(), raw.size() - kMacBytes);
  absl::string_view mac(raw.data() + payload.size(), kMacBytes);
  std::string expected = crypto::HmacSha256(secret_, payload).substr(0, kMacBytes);
  if (!crypto::ConstantTimeEquals(mac, expected)) return Invalid();
  std::vector<std::string> parts = absl::StrSplit(payload, kSep);
  if (parts.size() < 2 || parts[0] != kVersion) return Invalid();
  if (parts[1] != crypto::Sha256Hex(query).substr(0, 16)) {
    return absl::InvalidArgumentError(
        "page_token: belongs to a request with a different filter or order_by");
  }
  return std::vector<std::string>(parts.begin() + 2, parts.end());
}

absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max_size) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return default_size;
  return requested > max_size ? max_size : requested;
}

}  // namespace crm::api
