// Routing over real Postgres: groups and agents, tickets assigned by each
// strategy as they are created, capacity never exceeded (also under
// concurrent creates), waiting tickets taken when capacity frees up, an
// unavailable agent's tickets handed back, and assignment by hand.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/ticketing/v1/routing_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::ticketing::v1;

struct Floor {
  CustomerHarness customers{"routing_customers"};
  ServiceHarness h{
      ticketing::Definition(), "routing",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> tickets = h.Stub<v1::TicketService>();
  std::unique_ptr<v1::RoutingService::Stub> routing = h.Stub<v1::RoutingService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();

  v1::Group Group(const std::string& name, v1::RoutingStrategy strategy,
                  std::vector<std::string> skill_tags = {}) {
    v1::CreateGroupRequest req;
    req.mutable_group()->set_display_name(name);
    req.mutable_group()->set_strategy(strategy);
    for (const auto& s : skill_tags) req.mutable_group()->add_skill_tags(s);
    v1::Group out;
    grpc::Status s = routing->CreateGroup(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateGroup: " << s.error_message());
    return out;
  }

  v1::Agent Agent(const std::string& name, const v1::Group& group, int capacity,
                  std::vector<std::string> skills = {}) {
    v1::CreateAgentRequest req;
    req.mutable_agent()->set_display_name(name);
    req.mutable_agent()->add_groups(group.name());
    req.mutable_agent()->set_capacity(capacity);
    req.mutable_agent()->set_available(true);
    for (const auto& s : skills) req.mutable_agent()->add_skills(s);
    v1::Agent out;
    grpc::Status s = routing->CreateAgent(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateAgent: " << s.error_message());
    return out;
  }

  grpc::Status TryOpen(const v1::Group& group, v1::Ticket* out,
                       std::vector<std::string> tags = {}) {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(requester);
    req.mutable_ticket()->set_subject("Help");
    req.mutable_ticket()->set_group(group.name());
    for (const auto& t : tags) req.mutable_ticket()->add_tags(t);
    return tickets->CreateTicket(ServiceHarness::Ctx().get(), req, out);
  }

  v1::Ticket Open(const v1::Group& group, std::vector<std::string> tags = {}) {
    v1::Ticket out;
    grpc::Status s = TryOpen(group, &out, std::move(tags));
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  v1::Ticket Get(const std::string& name) {
    v1::GetTicketRequest req;
    req.set_name(name);
    v1::Ticket out;
    grpc::Status s = tickets->GetTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("GetTicket: " << s.error_message());
    return out;
  }

  // Open tickets per assignee ("" for waiting ones).
  std::map<std::string, int> Load() {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    std::map<std::string, int> load;
    for (const auto& row :
         tx.exec("SELECT COALESCE('agents/' || assignee_id::text, ''), count(*) FROM "
                 "ticketing.tickets WHERE status IN ('NEW', 'OPEN', 'PENDING', 'ON_HOLD') GROUP "
                 "BY 1")) {
      load[row[0].as<std::string>()] = row[1].as<int>();
    }
    return load;
  }

  v1::Ticket Solve(const std::string& name) {
    v1::ChangeTicketStatusRequest req;
    req.set_name(name);
    req.set_status(v1::STATUS_SOLVED);
    v1::Ticket out;
    grpc::Status s = tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ChangeTicketStatus: " << s.error_message());
    return out;
  }
};

}  // namespace

TEST_CASE("round robin shares a group's tickets evenly up to capacity, then they wait",
          "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group desk = f.Group("Front desk", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const v1::Agent ann = f.Agent("Ann", desk, 2);
  const v1::Agent bob = f.Agent("Bob", desk, 2);
  const v1::Agent cid = f.Agent("Cid", desk, 2);
  std::vector<v1::Ticket> opened;
  for (int i = 0; i < 7; ++i) opened.push_back(f.Open(desk));
  auto load = f.Load();
  CHECK(load[ann.name()] == 2);
  CHECK(load[bob.name()] == 2);
  CHECK(load[cid.name()] == 2);
  CHECK(load[""] == 1);
  const v1::Ticket waiting = opened.back();
  CHECK(waiting.assignee().empty());
  CHECK(waiting.group() == desk.name());

  // Solving one of Bob's frees a place: the waiting ticket goes to Bob.
  std::string bobs;
  for (const auto& t : opened) {
    if (t.assignee() == bob.name()) bobs = t.name();
  }
  f.Solve(bobs);
  CHECK(f.Get(waiting.name()).assignee() == bob.name());
  CHECK(f.Load()[bob.name()] == 2);

  // The group's tickets by assignee through ListTickets.
  v1::ListTicketsRequest list;
  list.set_filter(
      absl::StrCat("assignee = \"", ann.name(), "\" AND group = \"", desk.name(), "\""));
  v1::ListTicketsResponse listed;
  REQUIRE(f.tickets->ListTickets(ServiceHarness::Ctx().get(), list, &listed).ok());
  CHECK(listed.tickets_size() == 2);
}

TEST_CASE("concurrent creates never put an agent above capacity",
          "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group desk = f.Group("Rush", v1::ROUTING_STRATEGY_LEAST_LOADED);
  const v1::Agent ann = f.Agent("Ann", desk, 3);
  const v1::Agent bob = f.Agent("Bob", desk, 3);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        v1::Ticket out;
        if (!f.TryOpen(desk, &out).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed.load() == 0);
  auto load = f.Load();
  CHECK(load[ann.name()] == 3);
  CHECK(load[bob.name()] == 3);
  CHECK(load[""] == 14);
}

TEST_CASE("skills routing, hand assignment and an unavailable agent's tickets",
          "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group returns = f.Group("Returns", v1::ROUTING_STRATEGY_SKILLS, {"german", "refund"});
  const v1::Agent greta = f.Agent("Greta", returns, 5, {"german"});
  const v1::Agent ray = f.Agent("Ray", returns, 1, {"refund"});
  CHECK(f.Open(returns, {"refund"}).assignee() == ray.name());
  CHECK(f.Open(returns, {"german", "damage"}).assignee() == greta.name());
  // Nobody has both skills: it waits.
  const v1::Ticket both = f.Open(returns, {"german", "refund"});
  CHECK(both.assignee().empty());

  // By hand: Ray is at capacity; Greta can take it.
  v1::AssignTicketRequest assign;
  assign.set_name(both.name());
  assign.set_assignee(ray.name());
  v1::Ticket out;
  grpc::Status s = f.tickets->AssignTicket(ServiceHarness::Ctx().get(), assign, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "is at capacity"));
  assign.set_assignee(greta.name());
  REQUIRE(f.tickets->AssignTicket(ServiceHarness::Ctx().get(), assign, &out).ok());
  CHECK(out.assignee() == greta.name());
  // An agent outside the group is refused.
  const v1::Group other = f.Group("Other", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const v1::Agent olaf = f.Agent("Olaf", other, 5);
  assign.set_assignee(olaf.name());
  s = f.tickets->AssignTicket(ServiceHarness::Ctx().get(), assign, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "does not work"));

  // Greta goes home: her two tickets go back to the group; Ray has no room
  // and lacks german, so they wait.
  v1::GetAgentRequest get;
  get.set_name(greta.name());
  v1::Agent current;
  REQUIRE(f.routing->GetAgent(ServiceHarness::Ctx().get(), get, &current).ok());
  CHECK(current.open_tickets() == 2);
  v1::UpdateAgentRequest away;
  *away.mutable_agent() = current;
  away.mutable_agent()->set_available(false);
  v1::Agent updated;
  REQUIRE(f.routing->UpdateAgent(ServiceHarness::Ctx().get(), away, &updated).ok());
  CHECK(updated.open_tickets() == 0);
  CHECK(f.Get(both.name()).assignee().empty());
  // Back again: she takes the waiting ticket she has the skills for, not
  // the one that also needs refund.
  *away.mutable_agent() = updated;
  away.mutable_agent()->set_available(true);
  REQUIRE(f.routing->UpdateAgent(ServiceHarness::Ctx().get(), away, &updated).ok());
  CHECK(updated.open_tickets() == 1);
  CHECK(f.Get(both.name()).assignee().empty());

  pqxx::connection conn(f.h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM ticketing.outbox WHERE type = 'ticket.assigned'")[0]
            .as<int>() >= 6);
}

TEST_CASE("in a skills group a ticket goes to an agent who speaks its language",
          "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group desk = f.Group("Europe", v1::ROUTING_STRATEGY_SKILLS);
  auto speaker = [&](const std::string& name, std::vector<std::string> languages) {
    v1::CreateAgentRequest req;
    req.mutable_agent()->set_display_name(name);
    req.mutable_agent()->add_groups(desk.name());
    req.mutable_agent()->set_capacity(5);
    req.mutable_agent()->set_available(true);
    for (auto& l : languages) req.mutable_agent()->add_languages(l);
    v1::Agent out;
    grpc::Status s = f.routing->CreateAgent(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateAgent: " << s.error_message());
    return out;
  };
  const v1::Agent emma = speaker("Emma", {"en"});
  const v1::Agent dirk = speaker("Dirk", {"de-DE", "en"});
  CHECK(dirk.languages(0) == "de");
  auto open = [&](const std::string& requester, const std::string& language) {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(requester);
    req.mutable_ticket()->set_subject("Hallo");
    req.mutable_ticket()->set_group(desk.name());
    req.mutable_ticket()->set_language(language);
    v1::Ticket out;
    grpc::Status s = f.tickets->CreateTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  };
  CHECK(open(f.requester, "de-AT").assignee() == dirk.name());
  CHECK(open(f.requester, "en").assignee() == emma.name());  // least loaded speaker
  CHECK(open(f.requester, "fr").assignee().empty());         // nobody: it waits
  // Without a language the ticket takes the requester's locale.
  crm::customer::v1::CreateCustomerRequest customer;
  customer.mutable_customer()->set_email("anna@example.de");
  customer.mutable_customer()->set_locale("de-DE");
  crm::customer::v1::Customer anna;
  REQUIRE(f.customers.stub().CreateCustomer(ServiceHarness::Ctx().get(), customer, &anna).ok());
  const v1::Ticket t = open(anna.name(), "");
  CHECK(t.language() == "de-DE");
  CHECK(t.assignee() == dirk.name());
  // The filter finds tickets by language.
  v1::ListTicketsRequest list;
  list.set_filter("language = \"de*\"");
  v1::ListTicketsResponse found;
  REQUIRE(f.tickets->ListTickets(ServiceHarness::Ctx().get(), list, &found).ok());
  CHECK(found.tickets_size() == 2);
}

TEST_CASE("a skills ticket nobody qualifies for goes to any agent after the relax time",
          "[integration][ticketing][routing]") {
  Floor f;
  v1::CreateGroupRequest req;
  req.mutable_group()->set_display_name("Refunds");
  req.mutable_group()->set_strategy(v1::ROUTING_STRATEGY_SKILLS);
  req.mutable_group()->add_skill_tags("refund");
  req.mutable_group()->set_relax_after_minutes(1);
  v1::Group refunds;
  REQUIRE(f.routing->CreateGroup(ServiceHarness::Ctx().get(), req, &refunds).ok());
  CHECK(refunds.relax_after_minutes() == 1);
  const v1::Agent ann = f.Agent("Ann", refunds, 5);  // no refund skill
  const v1::Ticket t = f.Open(refunds, {"refund"});
  CHECK(t.assignee().empty());
  // It has waited two minutes (as if): the routing loop gives it to Ann.
  ExecSql(f.h.db_url(), "UPDATE ticketing.tickets SET queue_time = now() - interval '2 minutes'");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  v1::Ticket now = f.Get(t.name());
  while (now.assignee().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    now = f.Get(t.name());
  }
  CHECK(now.assignee() == ann.name());
}

TEST_CASE("escalation raises the priority, moves the ticket to a group and notes why",
          "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group tier1 = f.Group("Tier 1", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const v1::Group tier2 = f.Group("Tier 2", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  const v1::Agent ann = f.Agent("Ann", tier1, 5);
  const v1::Agent zoe = f.Agent("Zoe", tier2, 5);
  const v1::Ticket t = f.Open(tier1);
  CHECK(t.assignee() == ann.name());

  v1::EscalateTicketRequest req;
  req.set_name(t.name());
  req.set_reason("Customer threatens a chargeback");
  v1::Ticket out;
  REQUIRE(f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), req, &out).ok());
  CHECK(out.priority() == v1::PRIORITY_HIGH);  // one step up from NORMAL
  CHECK(out.assignee() == ann.name());         // no new group: stays
  req.set_priority(v1::PRIORITY_URGENT);
  req.set_group(tier2.name());
  REQUIRE(f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), req, &out).ok());
  CHECK(out.priority() == v1::PRIORITY_URGENT);
  CHECK(out.group() == tier2.name());
  CHECK(out.assignee() == zoe.name());
  // Nothing left to raise without a new group; a bad request names itself.
  req.clear_priority();
  req.clear_group();
  grpc::Status s = f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  req.clear_reason();
  s = f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_message() == "reason: required");

  v1::ListCommentsRequest notes;
  notes.set_parent(t.name());
  v1::ListCommentsResponse listed;
  REQUIRE(f.tickets->ListComments(ServiceHarness::Ctx().get(), notes, &listed).ok());
  REQUIRE(listed.comments_size() == 2);
  CHECK(listed.comments(1).body() == absl::StrCat("Escalated to URGENT (was HIGH), to ",
                                                  tier2.name(),
                                                  ": Customer threatens a chargeback"));
  CHECK_FALSE(listed.comments(1).public_());
  pqxx::connection conn(f.h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM ticketing.outbox WHERE type = 'ticket.escalated'")[0]
            .as<int>() == 2);
}

TEST_CASE("groups and agents are checked", "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group desk = f.Group("Desk", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  v1::CreateGroupRequest dup;
  dup.mutable_group()->set_display_name("desk");
  v1::Group g;
  CHECK(f.routing->CreateGroup(ServiceHarness::Ctx().get(), dup, &g).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  v1::CreateAgentRequest agent;
  agent.mutable_agent()->set_display_name("Zed");
  agent.mutable_agent()->set_capacity(2);
  agent.mutable_agent()->add_groups("groups/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  v1::Agent a;
  grpc::Status s = f.routing->CreateAgent(ServiceHarness::Ctx().get(), agent, &a);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "agent.groups"));
  // Another tenant sees no groups; a ticket cannot name one that is not its
  // tenant's.
  v1::ListGroupsResponse groups;
  REQUIRE(f.routing->ListGroups(ServiceHarness::Ctx("globex").get(), {}, &groups).ok());
  CHECK(groups.groups_size() == 0);
  v1::CreateTicketRequest req;
  req.mutable_ticket()->set_requester(f.requester);
  req.mutable_ticket()->set_subject("Wrong group");
  req.mutable_ticket()->set_group("groups/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  v1::Ticket t;
  s = f.tickets->CreateTicket(ServiceHarness::Ctx().get(), req, &t);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(f.Open(desk).assignee().empty());  // a group without agents: it waits
}

TEST_CASE("verbs are safe to retry with a request_id", "[integration][ticketing][routing]") {
  Floor f;
  const v1::Group desk = f.Group("Desk", v1::ROUTING_STRATEGY_ROUND_ROBIN);
  f.Agent("Ann", desk, 5);
  const v1::Ticket t = f.Open(desk);
  v1::EscalateTicketRequest escalate;
  escalate.set_name(t.name());
  escalate.set_reason("Customer called twice");
  escalate.set_request_id("escalate-1");
  v1::Ticket first, again;
  REQUIRE(f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), escalate, &first).ok());
  REQUIRE(f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), escalate, &again).ok());
  CHECK(first.priority() == v1::PRIORITY_HIGH);  // one step up from NORMAL, once
  CHECK(again.priority() == v1::PRIORITY_HIGH);
  CHECK(again.etag() == first.etag());
  CHECK(f.Get(t.name()).priority() == v1::PRIORITY_HIGH);
  escalate.set_reason("Something else");
  grpc::Status s = f.tickets->EscalateTicket(ServiceHarness::Ctx().get(), escalate, &again);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  v1::ChangeTicketStatusRequest solve;
  solve.set_name(t.name());
  solve.set_status(v1::STATUS_SOLVED);
  solve.set_request_id("solve-1");
  v1::Ticket solved;
  REQUIRE(f.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &solved).ok());
  REQUIRE(f.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &again).ok());
  CHECK(again.etag() == solved.etag());
  solve.set_request_id("not valid!");
  s = f.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &again);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace crm::testing
