// Opaque, tamper-evident keyset page tokens (AIP-158). A token carries the
// sort key of the last row served and a fingerprint of the query it belongs
// to, sealed with an HMAC: a forged or edited token, or one replayed with a
// different filter/order, is INVALID_ARGUMENT.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

class PageTokenCodec {
 public:
  // `secret` must be the same on every replica; at least 16 bytes.
  explicit PageTokenCodec(std::string secret);

  std::string Encode(const std::vector<std::string>& key, absl::string_view query) const;
  absl::StatusOr<std::vector<std::string>> Decode(absl::string_view token,
                                                  absl::string_view query) const;

 private:
  std::string secret_;
};

// Page size rules shared by every List method: 0 → default, above max →
// max, negative → INVALID_ARGUMENT naming the field.
absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max_size);

}  // namespace crm::api
