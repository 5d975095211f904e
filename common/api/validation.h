// Field validators shared by every service. Each returns INVALID_ARGUMENT
// whose message starts with the field path, e.g. "customer.phone: ...".
#pragma once

#include <string>

#include "absl/status/status.h"
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

}  // namespace crm::api
