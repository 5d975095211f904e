// crmctl sla calendars | new-calendar | delete-calendar | policies |
// new-policy | delete-policy. Calendars and policies are given as the
// proto's JSON (--json), e.g.
//   crmctl sla new-calendar --json '{"displayName": "Berlin office",
//     "timeZone": "Europe/Berlin", "hours": [{"dayOfWeek": 1, "start": "09:00",
//     "end": "17:00"}], "holidays": [{"date": "2026-12-25"}]}'
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::ticketing::v1;

std::string Minutes(int minutes) {
  if (minutes == 0) return "-";
  if (minutes % 60 == 0) return absl::StrCat(minutes / 60, "h");
  return absl::StrCat(minutes, "m");
}

// "URGENT first 15m next - update - resolve 2h"
std::string Targets(const v1::SlaPolicy& p) {
  std::vector<std::string> parts;
  for (const auto& t : p.targets()) {
    parts.push_back(absl::StrCat(
        v1::Priority_Name(t.priority()).substr(9), " first ", Minutes(t.first_reply_minutes()),
        " next ", Minutes(t.next_reply_minutes()), " update ", Minutes(t.periodic_update_minutes()),
        " resolve ", Minutes(t.resolution_minutes())));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

int Sla(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl sla calendars|new-calendar|delete-calendar|policies|new-policy|"
                 "delete-policy [NAME] [--json JSON]\n");
    return 2;
  }
  auto stub = v1::SlaService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "calendars") {
    v1::ListBusinessCalendarsResponse out;
    grpc::Status s = stub->ListBusinessCalendars(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& c : out.calendars()) {
      std::printf("%s  %-20s %2d intervals %3d holidays  %s\n", c.name().c_str(),
                  c.time_zone().c_str(), c.hours_size(), c.holidays_size(),
                  c.display_name().c_str());
    }
    return 0;
  }
  if (verb == "policies") {
    v1::ListSlaPoliciesResponse out;
    grpc::Status s = stub->ListSlaPolicies(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& p : out.policies()) {
      std::printf("%3d  %s  %-24s %s  [%s]\n", p.position(), p.name().c_str(),
                  p.display_name().c_str(), p.calendar().empty() ? "24/7" : p.calendar().c_str(),
                  Targets(p).c_str());
    }
    return 0;
  }
  if (verb == "new-calendar") {
    v1::CreateBusinessCalendarRequest request;
    if (!FromJsonFlag(request.mutable_calendar())) return 2;
    v1::BusinessCalendar out;
    grpc::Status s = stub->CreateBusinessCalendar(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (verb == "new-policy") {
    v1::CreateSlaPolicyRequest request;
    if (!FromJsonFlag(request.mutable_policy())) return 2;
    v1::SlaPolicy out;
    grpc::Status s = stub->CreateSlaPolicy(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::cout << Json(out) << "\n";
    return 0;
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl sla %s NAME\n", verb.c_str());
    return 2;
  }
  const std::string name = args[3];
  if (verb == "delete-calendar") {
    v1::DeleteBusinessCalendarRequest request;
    request.set_name(name);
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::DeleteBusinessCalendarResponse out;
    grpc::Status s = stub->DeleteBusinessCalendar(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("deleted %s\n", name.c_str());
    return 0;
  }
  if (verb == "delete-policy") {
    v1::DeleteSlaPolicyRequest request;
    request.set_name(name);
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::DeleteSlaPolicyResponse out;
    grpc::Status s = stub->DeleteSlaPolicy(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("deleted %s\n", name.c_str());
    return 0;
  }
  std::fprintf(stderr, "unknown verb: sla %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
