// Secrets of channel accounts (SMTP passwords, provider tokens), named by
// the API and read from files of one directory (a mounted Kubernetes
// Secret), so that no secret travels through the API, the database or the
// logs.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::interaction {

class SecretFiles {
 public:
  // `dir` empty: no secrets can be named.
  explicit SecretFiles(std::string dir) : dir_(std::move(dir)) {}

  // The secret `name` (a valid name, see IsValidSecretName), trailing
  // whitespace removed: FAILED_PRECONDITION naming `field` when it cannot
  // be read.
  absl::StatusOr<std::string> Read(absl::string_view name, absl::string_view field) const;

 private:
  std::string dir_;
};

}  // namespace crm::interaction
