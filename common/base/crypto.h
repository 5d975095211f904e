// Hashes, MACs and randomness from OpenSSL, in the few shapes the suite uses.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace crm::crypto {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(absl::string_view key, absl::string_view data);
// Raw 20-byte HMAC-SHA1: only where a partner's protocol demands it
// (Twilio's webhook signatures).
std::string HmacSha1(absl::string_view key, absl::string_view data);
// Constant-time equality of two byte strings.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);
// `n` bytes from a CSPRNG.
std::string RandomBytes(size_t n);
// A random token of `n` bytes, URL-safe base64 without padding.
std::string RandomToken(size_t n);
// A random RFC 4122 version 4 UUID in canonical lower-case form.
std::string NewUuid();

}  // namespace crm::crypto
