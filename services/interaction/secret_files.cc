#include "services/interaction/secret_files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {

absl::StatusOr<std::string> SecretFiles::Read(absl::string_view name,
                                              absl::string_view field) const {
  if (dir_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": the service has no secrets directory (--channel_secrets_dir)"));
  }
  if (!IsValidSecretName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a secret name"));
  }
  std::ifstream in(absl::StrCat(dir_, "/", name), std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": no secret named \"", name, "\" in the secrets directory"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  absl::StripTrailingAsciiWhitespace(&secret);
  return secret;
}

}  // namespace crm::interaction
