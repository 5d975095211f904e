// End to end with two producers: tickets through the gateway with their
// scopes, and the customer and ticketing feeds, each addressed on its own
// through the gateway and each resumed after a disconnect.
#include "crm/ticketing/v1/event_feed_service.grpc.pb.h"
#include "crm/ticketing/v1/sla_service.grpc.pb.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "tests/e2e/customer_suite.h"

namespace crm::testing {
namespace {

namespace tv1 = crm::ticketing::v1;
using crm::events::v1::SubscribeRequest;
using crm::events::v1::SubscribeResponse;

std::unique_ptr<grpc::ClientContext> StreamCtx(const std::string& key, absl::Duration within) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + key);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + within));
  return ctx;
}

// Reads a feed until `count` events arrived or the stream ends; returns
// their types and leaves the last cursor in *cursor.
template <typename Reader>
std::vector<std::string> ReadEvents(Reader& reader, size_t count, std::string* cursor) {
  std::vector<std::string> types;
  SubscribeResponse resp;
  while (types.size() < count && reader.Read(&resp)) {
    types.push_back(resp.event().type());
    *cursor = resp.event().cursor();
  }
  return types;
}

tv1::Ticket OpenTicket(tv1::TicketService::Stub& tickets, const std::string& key,
                       const Customer& requester, const std::string& subject) {
  tv1::CreateTicketRequest req;
  req.mutable_ticket()->set_requester(requester.name());
  req.mutable_ticket()->set_subject(subject);
  req.mutable_ticket()->set_channel(tv1::CHANNEL_EMAIL);
  tv1::Ticket out;
  grpc::Status st = tickets.CreateTicket(Suite::Ctx(key).get(), req, &out);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return out;
}

}  // namespace

TEST_CASE("tickets through the gateway: scopes, tenancy, the status table", "[e2e]") {
  Suite s;
  auto tickets = tv1::TicketService::NewStub(s.channel());
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "ticketing.read");
  const std::string other = s.CreateKey("tenant-b", "*");
  const Customer customer = Create(s, admin, "asks@example.com");
  const tv1::Ticket t = OpenTicket(*tickets, admin, customer, "Parcel missing");
  CHECK(t.status() == tv1::STATUS_NEW);

  tv1::GetTicketRequest get;
  get.set_name(t.name());
  tv1::Ticket got;
  REQUIRE(tickets->GetTicket(Suite::Ctx(reader).get(), get, &got).ok());
  CHECK(got.subject() == "Parcel missing");
  CHECK(got.requester() == customer.name());
  CHECK(tickets->GetTicket(Suite::Ctx(other).get(), get, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  tv1::ChangeTicketStatusRequest move;
  move.set_name(t.name());
  move.set_status(tv1::STATUS_SOLVED);
  grpc::Status denied = tickets->ChangeTicketStatus(Suite::Ctx(reader).get(), move, &got);
  CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(denied.error_message() == "API key lacks scope ticketing.write");
  REQUIRE(tickets->ChangeTicketStatus(Suite::Ctx(admin).get(), move, &got).ok());
  CHECK(got.status() == tv1::STATUS_SOLVED);
  move.set_status(tv1::STATUS_NEW);
  CHECK(tickets->ChangeTicketStatus(Suite::Ctx(admin).get(), move, &got).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  tv1::ListTicketsRequest list;
  list.set_filter(absl::StrCat("requester = \"", customer.name(), "\" AND status = \"SOLVED\""));
  tv1::ListTicketsResponse listed;
  REQUIRE(tickets->ListTickets(Suite::Ctx(reader).get(), list, &listed).ok());
  REQUIRE(listed.tickets_size() == 1);
  CHECK(listed.tickets(0).name() == t.name());
}

TEST_CASE("SLA policies through the gateway set the clocks of new tickets", "[e2e]") {
  Suite s;
  auto tickets = tv1::TicketService::NewStub(s.channel());
  auto sla = tv1::SlaService::NewStub(s.channel());
  const std::string admin = s.CreateKey("tenant-a", "*");
  const std::string reader = s.CreateKey("tenant-a", "ticketing.read");
  const std::string other = s.CreateKey("tenant-b", "*");

  tv1::CreateBusinessCalendarRequest cal;
  cal.mutable_calendar()->set_display_name("New York office");
  cal.mutable_calendar()->set_time_zone("America/New_York");
  auto* hours = cal.mutable_calendar()->add_hours();
  hours->set_day_of_week(1);
  hours->set_start("09:00");
  hours->set_end("17:00");
  tv1::BusinessCalendar calendar;
  CHECK(sla->CreateBusinessCalendar(Suite::Ctx(reader).get(), cal, &calendar).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(sla->CreateBusinessCalendar(Suite::Ctx(admin).get(), cal, &calendar).ok());

  tv1::CreateSlaPolicyRequest policy;
  policy.mutable_policy()->set_display_name("Email");
  policy.mutable_policy()->mutable_conditions()->add_channels(tv1::CHANNEL_EMAIL);
  auto* target = policy.mutable_policy()->add_targets();
  target->set_priority(tv1::PRIORITY_NORMAL);
  target->set_first_reply_minutes(90);
  tv1::SlaPolicy created;
  REQUIRE(sla->CreateSlaPolicy(Suite::Ctx(admin).get(), policy, &created).ok());
  tv1::ListSlaPoliciesResponse listed;
  REQUIRE(sla->ListSlaPolicies(Suite::Ctx(reader).get(), {}, &listed).ok());
  CHECK(listed.policies_size() == 1);
  REQUIRE(sla->ListSlaPolicies(Suite::Ctx(other).get(), {}, &listed).ok());
  CHECK(listed.policies_size() == 0);

  const Customer customer = Create(s, admin, "sla@example.com");
  const tv1::Ticket t = OpenTicket(*tickets, admin, customer, "Late parcel");
  CHECK(t.sla().policy() == created.name());
  REQUIRE(t.sla().clocks_size() == 1);
  CHECK(t.sla().clocks(0).metric() == tv1::SLA_METRIC_FIRST_REPLY);
  CHECK(t.sla().clocks(0).state() == tv1::SLA_CLOCK_STATE_RUNNING);
  CHECK(t.sla().clocks(0).due_time().seconds() - t.create_time().seconds() == 90 * 60);
}

TEST_CASE("a client cannot ask the gateway for every tenant's events", "[e2e]") {
  Suite s;
  auto tickets = tv1::TicketService::NewStub(s.channel());
  auto feed = tv1::EventFeedService::NewStub(s.channel());
  const std::string a = s.CreateKey("tenant-a", "*");
  const std::string b = s.CreateKey("tenant-b", "*");
  OpenTicket(*tickets, a, Create(s, a, "a@example.com"), "Mine");
  OpenTicket(*tickets, b, Create(s, b, "b@example.com"), "Theirs");
  auto ctx = StreamCtx(a, absl::Seconds(2));
  ctx->AddMetadata("x-crm-all-tenants", "1");
  auto stream = feed->Subscribe(ctx.get(), SubscribeRequest());
  SubscribeResponse resp;
  std::vector<std::string> tenants;
  while (stream->Read(&resp)) tenants.push_back(resp.event().tenant());
  stream->Finish();
  CHECK(tenants == std::vector<std::string>{"tenant-a"});
}

TEST_CASE("two producers' feeds through the gateway, each resumed after a disconnect", "[e2e]") {
  Suite s;
  auto tickets = tv1::TicketService::NewStub(s.channel());
  auto customer_feed = crm::customer::v1::EventFeedService::NewStub(s.channel());
  auto ticket_feed = tv1::EventFeedService::NewStub(s.channel());
  const std::string key = s.CreateKey("tenant-a", "*");
  const Customer customer = Create(s, key, "feeds@example.com");
  const tv1::Ticket t = OpenTicket(*tickets, key, customer, "Wrong colour");

  // Both feeds open at once, each from the start; one event read from each.
  SubscribeRequest from_start;
  auto customer_ctx = StreamCtx(key, absl::Seconds(10));
  auto ticket_ctx = StreamCtx(key, absl::Seconds(10));
  auto customer_stream = customer_feed->Subscribe(customer_ctx.get(), from_start);
  auto ticket_stream = ticket_feed->Subscribe(ticket_ctx.get(), from_start);
  std::string customer_cursor, ticket_cursor;
  CHECK(ReadEvents(*customer_stream, 1, &customer_cursor) ==
        std::vector<std::string>{"customer.created"});
  CHECK(ReadEvents(*ticket_stream, 1, &ticket_cursor) ==
        std::vector<std::string>{"ticket.created"});
  // Disconnect both.
  customer_ctx->TryCancel();
  ticket_ctx->TryCancel();
  CHECK(customer_stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(ticket_stream->Finish().error_code() == grpc::StatusCode::CANCELLED);

  // Changes while nobody listens, one on each producer.
  Create(s, key, "second@example.com");
  tv1::AddCommentRequest comment;
  comment.set_parent(t.name());
  comment.mutable_comment()->set_author_kind(tv1::AUTHOR_KIND_AGENT);
  comment.mutable_comment()->set_author("agent-1");
  comment.mutable_comment()->set_body("A new one is on its way.");
  comment.mutable_comment()->set_public_(true);
  tv1::Comment added;
  REQUIRE(tickets->AddComment(Suite::Ctx(key).get(), comment, &added).ok());

  // Each resumes from its own cursor and gets exactly what it missed.
  SubscribeRequest resume;
  resume.set_after_cursor(customer_cursor);
  auto customer_again_ctx = StreamCtx(key, absl::Seconds(2));
  auto customer_again = customer_feed->Subscribe(customer_again_ctx.get(), resume);
  std::string cursor;
  CHECK(ReadEvents(*customer_again, 10, &cursor) == std::vector<std::string>{"customer.created"});
  CHECK(customer_again->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  resume.set_after_cursor(ticket_cursor);
  auto ticket_again_ctx = StreamCtx(key, absl::Seconds(2));
  auto ticket_again = ticket_feed->Subscribe(ticket_again_ctx.get(), resume);
  CHECK(ReadEvents(*ticket_again, 10, &cursor) ==
        std::vector<std::string>{"ticket.comment_added", "ticket.first_replied"});
  CHECK(ticket_again->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);

  // A cursor of one producer means nothing to the other.
  resume.set_after_cursor("not-a-cursor");
  auto bad_ctx = StreamCtx(key, absl::Seconds(5));
  auto bad = ticket_feed->Subscribe(bad_ctx.get(), resume);
  SubscribeResponse resp;
  CHECK_FALSE(bad->Read(&resp));
  CHECK(bad->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace crm::testing
