// One JSON object per log line on stderr: ts, severity, service, msg and any
// extra fields (rpc, request_id, tenant, ...). Never pass PII as a field.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace crm::log {

enum class Severity { kDebug, kInfo, kWarning, kError };

using Field = std::pair<absl::string_view, std::string>;

// Names the process in every line; call once from main().
void SetServiceName(absl::string_view service);
// Lines below this severity are dropped (default kInfo).
void SetMinSeverity(Severity severity);

// Whether a line of `severity` would be written: lets a caller skip building
// fields nobody will read.
bool Enabled(Severity severity);

void Write(Severity severity, absl::string_view message, std::initializer_list<Field> fields = {});

inline void Info(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kInfo, message, fields);
}
inline void Warning(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kWarning, message, fields);
}
inline void Error(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kError, message, fields);
}

// JSON string escaping, exposed for tests.
std::string JsonEscape(absl::string_view in);

}  // namespace crm::log
