#include "services/gateway/routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace crm::gateway {

absl::StatusOr<std::vector<Route>> ParseRoutes(absl::string_view spec) {
  std::vector<Route> routes;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty() || !absl::StartsWith(kv[0], "crm.")) {
      return absl::InvalidArgumentError(
          absl::StrCat("routes: expected crm.<package>=<host:port>, got '", item, "'"));
    }
    routes.push_back({kv[0], kv[1]});
  }
  if (routes.empty()) return absl::InvalidArgumentError("routes: none configured");
  return routes;
}

absl::StatusOr<MethodInfo> ParseMethod(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/")) {
    return absl::InvalidArgumentError("malformed method path");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() != 2 || parts[1].empty()) {
    return absl::InvalidArgumentError("malformed method path");
  }
  const size_t dot = parts[0].rfind('.');
  if (dot == absl::string_view::npos || dot == 0) {
    return absl::InvalidArgumentError("malformed method path");
  }
  return MethodInfo{std::string(parts[0].substr(0, dot)), std::string(parts[0].substr(dot + 1)),
                    std::string(parts[1])};
}

std::string RequiredScope(const MethodInfo& method) {
  // Every service's feed (crm.<svc>.v1.EventFeedService) is one area.
  if (method.service == "EventFeedService") return "events.read";
  absl::string_view area = method.package;
  absl::ConsumePrefix(&area, "crm.");
  area = area.substr(0, area.find('.'));
  const std::string& m = method.method;
  const bool read = absl::StartsWith(m, "Get") || absl::StartsWith(m, "List") ||
                    absl::StartsWith(m, "Search") || absl::StartsWith(m, "BatchGet") ||
                    absl::StartsWith(m, "Export") || absl::StartsWith(m, "Check") ||
                    absl::StartsWith(m, "Stream") || m == "Subscribe";
  return absl::StrCat(area, read ? ".read" : ".write");
}

bool HasScope(const std::vector<std::string>& granted, absl::string_view required) {
  const std::string area_all = absl::StrCat(required.substr(0, required.find('.')), ".*");
  return std::any_of(granted.begin(), granted.end(), [&](const std::string& g) {
    return g == "*" || g == required || g == area_all;
  });
}

bool IsValidScope(absl::string_view scope) {
  if (scope == "*") return true;
  const size_t dot = scope.find('.');
  if (dot == absl::string_view::npos || dot == 0) return false;
  absl::string_view area = scope.substr(0, dot);
  absl::string_view action = scope.substr(dot + 1);
  if (!absl::ascii_islower(area[0])) return false;
  for (char c : area) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return false;
  }
  return action == "*" || action == "read" || action == "write";
}

}  // namespace crm::gateway
