// Field validators shared by every service. Each returns INVALID_ARGUMENT
// whose message starts with the field path, e.g. "customer.phone: ...".
#pragma once

#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace crm::api {

absl::Status CheckMaxLength(absl::string_view field, absl::string_view value, size_t max);
// Valid UTF-8 without control characters.
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max);
absl::Status CheckEmail(absl::string_view field, absl::string_view value);
// "+" then 8 to 15 digits, the first not 0.
absl::Status CheckE164(absl::string_view field, absl::string_view value);
// ISO-3166-1 alpha-2: two upper-case ASCII letters.
absl::Status CheckCountryCode(absl::string_view field, absl::string_view value);
// BCP-47 shape: 2-3 letter language, then subtags of 2-8 alphanumerics.
absl::Status CheckLocale(absl::string_view field, absl::string_view value);
// Lower-case token of [a-z0-9_.:-], 1..max.
absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max);

bool IsValidUtf8(absl::string_view s);
// Parses "<collection>/<uuid>"; returns the uuid or INVALID_ARGUMENT naming
// `field`.
absl::Status ParseResourceName(absl::string_view field, absl::string_view name,
                               absl::string_view collection, std::string* id);

// The last segment of a resource name: `conversations/{a}/messages/{b}` →
// `{b}`, `channelAccounts/{id}` → `{id}`.
inline std::string LastSegment(const std::string& name) { return name.substr(name.rfind('/') + 1); }

// Etags are "v<version>" of a row's version counter.
std::string EtagOf(int64_t version);
// INVALID_ARGUMENT (naming `field`) when malformed.
absl::StatusOr<int64_t> ParseEtag(absl::string_view field, absl::string_view etag);
// The optimistic-concurrency check of an update: OK when `sent` is empty or
// is `current`; ABORTED saying that `what` changed otherwise.
absl::Status CheckEtag(absl::string_view sent, absl::string_view current, absl::string_view what);

// A stable fingerprint of a request (SHA-256 of its deterministic
// serialization: map fields make plain serialization order unstable), to
// tell a retry of the same request from another under the same request_id.
std::string RequestFingerprint(const google::protobuf::Message& request);

// Enum fields, checked against the generated enum itself, so a value added
// to the contract later is accepted without touching the check.
// RequiredEnum refuses the zero value and numbers the enum does not define
// ("<field>: required"); OptionalEnum only the latter ("<field>: unknown value").
template <typename E>
bool IsDefinedEnum(E value) {
  return google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(static_cast<int>(value)) !=
         nullptr;
}
template <typename E>
absl::Status RequiredEnum(absl::string_view field, E value) {
  if (static_cast<int>(value) == 0 || !IsDefinedEnum(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  return absl::OkStatus();
}
template <typename E>
absl::Status OptionalEnum(absl::string_view field, E value) {
  if (!IsDefinedEnum(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value"));
  }
  return absl::OkStatus();
}

}  // namespace crm::api
