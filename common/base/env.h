// Environment fallbacks for flag defaults, so containers can configure a
// binary with CRM_* variables while flags still win on the command line.
#pragma once

#include <cstdint>
#include <string>

namespace crm {

std::string EnvOr(const char* name, const std::string& fallback);
int64_t EnvOr(const char* name, int64_t fallback);

// Reads a whole (secret) file and strips trailing whitespace.
// Returns an empty string when `path` is empty or unreadable.
std::string ReadSecretFile(const std::string& path);

}  // namespace crm
