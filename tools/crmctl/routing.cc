// crmctl routing groups | new-group | agents | new-agent | away | back.
// Groups and agents are given as the proto's JSON (--json), e.g.
//   crmctl routing new-group --json '{"displayName": "Returns",
//     "strategy": "ROUTING_STRATEGY_SKILLS", "skillTags": ["refund", "german"]}'
//   crmctl routing new-agent --json '{"displayName": "Ann", "capacity": 8,
//     "available": true, "groups": ["groups/…"], "skills": ["refund"]}'
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "crm/ticketing/v1/routing_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::ticketing::v1;

void PrintAgent(const v1::Agent& a) {
  std::printf("%s  %-9s %3d/%-3d %-20s %s\n", a.name().c_str(),
              a.available() ? "available" : "away", a.open_tickets(), a.capacity(),
              a.display_name().c_str(), absl::StrJoin(a.skills(), ",").c_str());
}

}  // namespace

int Routing(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl routing groups|new-group|agents|new-agent|away|back [NAME] "
                 "[--json JSON]\n");
    return 2;
  }
  auto stub = v1::RoutingService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "groups") {
    v1::ListGroupsResponse out;
    grpc::Status s = stub->ListGroups(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& g : out.groups()) {
      std::printf("%s  %-13s %-24s %s\n", g.name().c_str(),
                  v1::RoutingStrategy_Name(g.strategy()).substr(17).c_str(),
                  g.display_name().c_str(), absl::StrJoin(g.skill_tags(), ",").c_str());
    }
    return 0;
  }
  if (verb == "agents") {
    v1::ListAgentsResponse out;
    grpc::Status s = stub->ListAgents(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& a : out.agents()) PrintAgent(a);
    return 0;
  }
  if (verb == "new-group" || verb == "new-agent") {
    google::protobuf::Message* message = nullptr;
    v1::CreateGroupRequest group;
    v1::CreateAgentRequest agent;
    message = verb == "new-group" ? static_cast<google::protobuf::Message*>(group.mutable_group())
                                  : agent.mutable_agent();
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(absl::GetFlag(FLAGS_json), message);
    if (!parsed.ok()) {
      std::fprintf(stderr, "error: --json: %s\n", parsed.ToString().c_str());
      return 2;
    }
    if (verb == "new-group") {
      v1::Group out;
      grpc::Status s = stub->CreateGroup(&ctx, group, &out);
      if (!s.ok()) return Report(s);
      std::cout << Json(out) << "\n";
    } else {
      v1::Agent out;
      grpc::Status s = stub->CreateAgent(&ctx, agent, &out);
      if (!s.ok()) return Report(s);
      std::cout << Json(out) << "\n";
    }
    return 0;
  }
  if ((verb == "away" || verb == "back") && args.size() >= 4) {
    v1::GetAgentRequest get;
    get.set_name(args[3]);
    v1::Agent current;
    grpc::Status s = stub->GetAgent(&ctx, get, &current);
    if (!s.ok()) return Report(s);
    v1::UpdateAgentRequest update;
    *update.mutable_agent() = current;
    update.mutable_agent()->set_available(verb == "back");
    grpc::ClientContext update_ctx;
    Prepare(&update_ctx);
    v1::Agent out;
    s = stub->UpdateAgent(&update_ctx, update, &out);
    if (!s.ok()) return Report(s);
    PrintAgent(out);
    return 0;
  }
  std::fprintf(stderr, "unknown verb: routing %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
