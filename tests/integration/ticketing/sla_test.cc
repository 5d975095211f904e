// The SLA engine in-process over a fresh database: calendars and policies
// through SlaService, a ticket's clocks through its changes, breaches the
// scheduler fires, and several schedulers over 10,000 tickets firing each
// warning and breach exactly once.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/sla_engine.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::ticketing::v1;
using google::protobuf::util::TimeUtil;

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

struct SlaDesk {
  CustomerHarness customers{"sla_customers"};
  ServiceHarness h{
      ticketing::Definition(), "sla",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> tickets = h.Stub<v1::TicketService>();
  std::unique_ptr<v1::SlaService::Stub> sla = h.Stub<v1::SlaService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();

  std::string Vip() {
    crm::customer::v1::CreateCustomerRequest req;
    req.mutable_customer()->set_email("vip@example.com");
    req.mutable_customer()->add_tags("vip");
    crm::customer::v1::Customer c;
    grpc::Status s = customers.stub().CreateCustomer(ServiceHarness::Ctx().get(), req, &c);
    if (!s.ok()) FAIL("CreateCustomer: " << s.error_message());
    return c.name();
  }

  v1::SlaPolicy Policy(const std::string& name, int position, std::vector<v1::SlaTarget> targets,
                       const std::string& calendar = "", int warn = 0,
                       std::vector<std::string> requester_tags = {}) {
    v1::CreateSlaPolicyRequest req;
    v1::SlaPolicy& p = *req.mutable_policy();
    p.set_display_name(name);
    p.set_position(position);
    p.set_calendar(calendar);
    p.set_warn_before_minutes(warn);
    for (const auto& t : targets) *p.add_targets() = t;
    for (const auto& t : requester_tags) p.mutable_conditions()->add_requester_tags(t);
    v1::SlaPolicy out;
    grpc::Status s = sla->CreateSlaPolicy(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateSlaPolicy: " << s.error_message());
    return out;
  }

  v1::Ticket Create(const std::string& who, v1::Priority priority) {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(who);
    req.mutable_ticket()->set_subject("Parcel late");
    req.mutable_ticket()->set_priority(priority);
    v1::Ticket out;
    grpc::Status s = tickets->CreateTicket(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  v1::Ticket Move(const std::string& name, v1::Status status) {
    v1::ChangeTicketStatusRequest req;
    req.set_name(name);
    req.set_status(status);
    v1::Ticket out;
    grpc::Status s = tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), req, &out);
    if (!s.ok()) FAIL("ChangeTicketStatus: " << s.error_message());
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

  std::vector<std::string> List(const std::string& filter) {
    v1::ListTicketsRequest req;
    req.set_filter(filter);
    v1::ListTicketsResponse resp;
    grpc::Status s = tickets->ListTickets(ServiceHarness::Ctx().get(), req, &resp);
    if (!s.ok()) FAIL("ListTickets: " << s.error_message());
    std::vector<std::string> names;
    for (const auto& t : resp.tickets()) names.push_back(t.name());
    return names;
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  }
};

v1::SlaTarget Target(v1::Priority priority, int first, int resolution) {
  v1::SlaTarget t;
  t.set_priority(priority);
  t.set_first_reply_minutes(first);
  t.set_resolution_minutes(resolution);
  return t;
}

const v1::SlaClock* ClockOf(const v1::Ticket& t, v1::SlaMetric metric) {
  for (const auto& c : t.sla().clocks()) {
    if (c.metric() == metric) return &c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("SLA calendars and policies are kept per tenant and checked",
          "[integration][ticketing][sla]") {
  SlaDesk d;
  v1::CreateBusinessCalendarRequest creq;
  v1::BusinessCalendar& cal = *creq.mutable_calendar();
  cal.set_display_name("Berlin office");
  cal.set_time_zone("Europe/Berlin");
  for (int day = 1; day <= 5; ++day) {
    auto* h = cal.add_hours();
    h->set_day_of_week(day);
    h->set_start("09:00");
    h->set_end("17:00");
  }
  auto* holiday = cal.add_holidays();
  holiday->set_date("2026-12-25");
  holiday->set_display_name("Christmas Day");
  v1::BusinessCalendar created;
  REQUIRE(d.sla->CreateBusinessCalendar(ServiceHarness::Ctx().get(), creq, &created).ok());
  CHECK(absl::StartsWith(created.name(), "calendars/"));
  CHECK(created.hours_size() == 5);
  CHECK(created.holidays(0).display_name() == "Christmas Day");

  cal.set_time_zone("Europe/Atlantis");
  v1::BusinessCalendar bad;
  grpc::Status s = d.sla->CreateBusinessCalendar(ServiceHarness::Ctx().get(), creq, &bad);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "calendar.time_zone: \"Europe/Atlantis\" is not an IANA time zone");

  // A policy's calendar must exist in the tenant.
  v1::CreateSlaPolicyRequest preq;
  preq.mutable_policy()->set_display_name("Office hours");
  *preq.mutable_policy()->add_targets() = Target(v1::PRIORITY_NORMAL, 60, 480);
  preq.mutable_policy()->set_calendar(created.name());
  v1::SlaPolicy other_tenant;
  s = d.sla->CreateSlaPolicy(ServiceHarness::Ctx("globex").get(), preq, &other_tenant);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), "policy.calendar"));

  const v1::SlaPolicy late = d.Policy("Second", 5, {Target(v1::PRIORITY_LOW, 0, 600)});
  const v1::SlaPolicy office =
      d.Policy("Office hours", 1, {Target(v1::PRIORITY_NORMAL, 60, 480)}, created.name());
  v1::ListSlaPoliciesResponse listed;
  REQUIRE(d.sla->ListSlaPolicies(ServiceHarness::Ctx().get(), {}, &listed).ok());
  REQUIRE(listed.policies_size() == 2);
  CHECK(listed.policies(0).name() == office.name());  // by position
  CHECK(listed.policies(1).name() == late.name());

  // In use, the calendar stays.
  v1::DeleteBusinessCalendarRequest dreq;
  dreq.set_name(created.name());
  v1::DeleteBusinessCalendarResponse dresp;
  s = d.sla->DeleteBusinessCalendar(ServiceHarness::Ctx().get(), dreq, &dresp);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(s.error_message(), office.name()));

  // Updates check the etag.
  v1::UpdateSlaPolicyRequest ureq;
  *ureq.mutable_policy() = office;
  ureq.mutable_policy()->set_display_name("Office hours (EU)");
  v1::SlaPolicy updated;
  REQUIRE(d.sla->UpdateSlaPolicy(ServiceHarness::Ctx().get(), ureq, &updated).ok());
  CHECK(updated.display_name() == "Office hours (EU)");
  CHECK(updated.etag() != office.etag());
  s = d.sla->UpdateSlaPolicy(ServiceHarness::Ctx().get(), ureq, &updated);
  CHECK(s.error_code() == grpc::StatusCode::ABORTED);

  // Another tenant sees none of it.
  v1::GetSlaPolicyRequest greq;
  greq.set_name(office.name());
  v1::SlaPolicy got;
  CHECK(d.sla->GetSlaPolicy(ServiceHarness::Ctx("globex").get(), greq, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  v1::DeleteSlaPolicyRequest dpreq;
  dpreq.set_name(office.name());
  v1::DeleteSlaPolicyResponse dpresp;
  REQUIRE(d.sla->DeleteSlaPolicy(ServiceHarness::Ctx().get(), dpreq, &dpresp).ok());
  CHECK(d.sla->DeleteBusinessCalendar(ServiceHarness::Ctx().get(), dreq, &dresp).ok());
}

TEST_CASE("a ticket's clocks follow its policy, its status, its replies and its priority",
          "[integration][ticketing][sla]") {
  SlaDesk d;
  const std::string vip = d.Vip();
  const v1::SlaPolicy vip_policy =
      d.Policy("VIP", 0, {Target(v1::PRIORITY_URGENT, 15, 120)}, "", 0, {"vip"});
  const v1::SlaPolicy standard =
      d.Policy("Standard", 1,
               {Target(v1::PRIORITY_NORMAL, 60, 480), Target(v1::PRIORITY_HIGH, 20, 240)}, "", 10);

  // The VIP's urgent ticket gets the VIP policy; the other the standard one.
  const v1::Ticket urgent = d.Create(vip, v1::PRIORITY_URGENT);
  CHECK(urgent.requester_tags(0) == "vip");
  CHECK(urgent.sla().policy() == vip_policy.name());
  REQUIRE(ClockOf(urgent, v1::SLA_METRIC_FIRST_REPLY) != nullptr);
  CHECK(ClockOf(urgent, v1::SLA_METRIC_FIRST_REPLY)->target_minutes() == 15);

  v1::Ticket t = d.Create(d.requester, v1::PRIORITY_NORMAL);
  CHECK(t.sla().policy() == standard.name());
  REQUIRE(t.sla().clocks_size() == 2);
  const v1::SlaClock* first = ClockOf(t, v1::SLA_METRIC_FIRST_REPLY);
  REQUIRE(first != nullptr);
  CHECK(first->state() == v1::SLA_CLOCK_STATE_RUNNING);
  CHECK(TimeOf(first->due_time()) == TimeOf(t.create_time()) + absl::Minutes(60));
  CHECK(TimeOf(t.sla().next_due_time()) == TimeOf(first->due_time()));
  // GetTicket reads the same clocks.
  CHECK(d.Get(t.name()).sla().SerializeAsString() == t.sla().SerializeAsString());

  // Pending pauses every clock; open runs them again.
  t = d.Move(t.name(), v1::STATUS_PENDING);
  CHECK(ClockOf(t, v1::SLA_METRIC_FIRST_REPLY)->state() == v1::SLA_CLOCK_STATE_PAUSED);
  CHECK_FALSE(t.sla().has_next_due_time());
  CHECK(d.List(absl::StrCat("sla_due_time > \"2000-01-01T00:00:00Z\"")).size() == 1);  // urgent
  t = d.Move(t.name(), v1::STATUS_OPEN);
  CHECK(ClockOf(t, v1::SLA_METRIC_FIRST_REPLY)->state() == v1::SLA_CLOCK_STATE_RUNNING);
  CHECK(d.List(absl::StrCat("sla_policy = \"", standard.name(), "\"")) ==
        std::vector<std::string>{t.name()});

  // Priority HIGH: the standard policy's 20 minutes apply to the time
  // already counted.
  v1::UpdateTicketRequest ureq;
  ureq.mutable_ticket()->set_name(t.name());
  ureq.mutable_ticket()->set_priority(v1::PRIORITY_HIGH);
  ureq.mutable_ticket()->set_etag(t.etag());
  ureq.mutable_update_mask()->add_paths("priority");
  v1::Ticket high;
  grpc::Status s = d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), ureq, &high);
  REQUIRE(s.ok());
  CHECK(high.priority() == v1::PRIORITY_HIGH);
  CHECK(ClockOf(high, v1::SLA_METRIC_FIRST_REPLY)->target_minutes() == 20);
  CHECK(ClockOf(high, v1::SLA_METRIC_RESOLUTION)->target_minutes() == 240);
  const absl::Time due = TimeOf(ClockOf(high, v1::SLA_METRIC_FIRST_REPLY)->due_time());
  CHECK(due < TimeOf(high.create_time()) + absl::Minutes(21));
  CHECK(due > TimeOf(high.create_time()) + absl::Minutes(19));
  // The same etag again is stale; a bad mask names itself.
  CHECK(d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), ureq, &high).error_code() ==
        grpc::StatusCode::ABORTED);
  ureq.mutable_update_mask()->set_paths(0, "status");
  s = d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), ureq, &high);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "update_mask: 'status' cannot be updated"));

  // An agent's public reply meets first reply.
  v1::AddCommentRequest creq;
  creq.set_parent(t.name());
  creq.mutable_comment()->set_author_kind(v1::AUTHOR_KIND_AGENT);
  creq.mutable_comment()->set_author("agent-7");
  creq.mutable_comment()->set_body("On its way.");
  creq.mutable_comment()->set_public_(true);
  v1::Comment comment;
  REQUIRE(d.tickets->AddComment(ServiceHarness::Ctx().get(), creq, &comment).ok());
  t = d.Get(t.name());
  CHECK(ClockOf(t, v1::SLA_METRIC_FIRST_REPLY)->state() == v1::SLA_CLOCK_STATE_ACHIEVED);
  CHECK_FALSE(ClockOf(t, v1::SLA_METRIC_FIRST_REPLY)->breached());

  // The scheduler, an hour ahead, finds first reply of the VIP ticket and
  // resolution of neither due yet... but two hours ahead, the VIP ticket's
  // both targets are missed.
  db::Pool pool(db::PoolOptions{d.h.db_url(), 1, "sla-test"});
  ticketing::SlaEngine engine(pool);
  auto fired = engine.FireDue(absl::Now() + absl::Minutes(130), 100);
  INFO(fired.status().message());
  REQUIRE(fired.ok());
  CHECK(fired->breaches == 2);  // the VIP's first reply and resolution
  const v1::Ticket missed = d.Get(urgent.name());
  CHECK(missed.sla().breached());
  CHECK(missed.etag() != urgent.etag());
  CHECK(ClockOf(missed, v1::SLA_METRIC_FIRST_REPLY)->breached());
  CHECK(TimeOf(ClockOf(missed, v1::SLA_METRIC_FIRST_REPLY)->breach_time()) ==
        TimeOf(ClockOf(urgent, v1::SLA_METRIC_FIRST_REPLY)->due_time()));
  CHECK(d.List("sla_breached = true") == std::vector<std::string>{urgent.name()});
  // Fired once: again finds nothing more for them.
  fired = engine.FireDue(absl::Now() + absl::Minutes(130), 100);
  REQUIRE(fired.ok());
  CHECK(fired->breaches == 0);
  CHECK(d.Count("SELECT count(*) FROM ticketing.outbox WHERE type = 'sla.breached'") == 2);
  CHECK(d.Count("SELECT count(*) FROM ticketing.outbox WHERE type = 'ticket.updated'") == 1);
}

TEST_CASE("several schedulers over 10,000 tickets fire each warning and breach exactly once",
          "[integration][ticketing][sla]") {
  SlaDesk d;
  {
    pqxx::connection conn(d.h.db_url());
    pqxx::work tx(conn);
    tx.exec("SELECT set_config('app.housekeeping', 'on', true)");
    tx.exec(
        "INSERT INTO ticketing.tickets (tenant_id, id, requester, subject, channel, type, "
        "priority, status) SELECT 'sched' || (g % 3), md5('t' || g)::uuid, 'customers/x', 'due "
        "' || g, 'API', 'QUESTION', 'NORMAL', 'OPEN' FROM generate_series(1, 10000) g");
    // Warnings from 1 to 3 seconds from now, each breach half a second later.
    tx.exec(
        "INSERT INTO ticketing.sla_clocks (tenant_id, ticket_id, metric, policy_id, target_min, "
        "warn_before_min, start_time, counted_us, running_since, paused_us, warned, due_time, "
        "warn_time, fire_time) SELECT 'sched' || (g % 3), md5('t' || g)::uuid, 'FIRST_REPLY', "
        "md5('p')::uuid, 1, 1, now(), 0, now(), 0, false, w + interval '500 milliseconds', w, w "
        "FROM generate_series(1, 10000) g, LATERAL (SELECT clock_timestamp() + interval '1 "
        "second' + (g % 1000) * interval '2 milliseconds' AS w) x");
    tx.commit();
  }
  // The service's own scheduler runs, and two more replicas beside it.
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> replicas;
  for (int i = 0; i < 2; ++i) {
    replicas.emplace_back([&d, &stop, &errors, i] {
      db::Pool pool(db::PoolOptions{d.h.db_url(), 1, absl::StrCat("replica-", i)});
      ticketing::SlaEngine engine(pool);
      while (!stop.load()) {
        auto wait = engine.Step(absl::Milliseconds(50), 200);
        if (!wait.ok()) {
          ++errors;
          continue;
        }
        absl::SleepFor(*wait);
      }
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int64_t fired = 0;
  while (absl::Now() < deadline) {
    fired = d.Count("SELECT count(*) FROM ticketing.outbox WHERE type LIKE 'sla.%'");
    if (fired >= 20000) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  stop = true;
  for (auto& r : replicas) r.join();
  CHECK(errors.load() == 0);
  CHECK(fired == 20000);
  for (const char* type : {"sla.warning", "sla.breached"}) {
    CAPTURE(type);
    CHECK(d.Count(absl::StrCat("SELECT count(*) FROM ticketing.outbox WHERE type = '", type,
                               "'")) == 10000);
    CHECK(d.Count(absl::StrCat("SELECT count(DISTINCT (tenant_id, subject)) FROM "
                               "ticketing.outbox WHERE type = '",
                               type, "'")) == 10000);
  }
  CHECK(d.Count("SELECT count(*) FROM ticketing.sla_clocks WHERE fire_time IS NOT NULL OR "
                "breach_time IS DISTINCT FROM due_time OR NOT warned") == 0);
  CHECK(d.Count("SELECT count(*) FROM ticketing.tickets WHERE sla_breached") == 10000);
  // Each event in its ticket's tenant.
  CHECK(d.Count("SELECT count(*) FROM ticketing.outbox o JOIN ticketing.tickets t ON "
                "'tickets/' || t.id::text = o.subject AND t.tenant_id = o.tenant_id WHERE o.type "
                "LIKE 'sla.%'") == 20000);
}

}  // namespace crm::testing
