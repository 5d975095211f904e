// The ticketing service in-process over a fresh database, with the customer
// service it checks requesters and orders against: tickets and comments
// through gRPC, the status table as the service enforces it, idempotency,
// tenant isolation, listing, and the events each change leaves in the
// outbox.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/net.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::ticketing::v1;

struct Desk {
  CustomerHarness customers{"ticketing_customers"};
  ServiceHarness h{
      ticketing::Definition(), "ticketing",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> stub = h.Stub<v1::TicketService>();
  const std::string requester = customers.NewCustomer("asks@example.com").name();
  const std::string other_requester = customers.NewCustomer("other@example.com").name();

  v1::Ticket Create(const std::string& subject, const std::string& who = "",
                    const std::string& tenant = "acme", v1::Priority priority = v1::PRIORITY_NORMAL,
                    std::vector<std::string> tags = {}) {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(who.empty() ? requester : who);
    req.mutable_ticket()->set_subject(subject);
    req.mutable_ticket()->set_priority(priority);
    for (const auto& t : tags) req.mutable_ticket()->add_tags(t);
    v1::Ticket out;
    grpc::Status s = stub->CreateTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  grpc::Status Move(const std::string& name, v1::Status status, v1::Ticket* out,
                    const std::string& etag = "") {
    v1::ChangeTicketStatusRequest req;
    req.set_name(name);
    req.set_status(status);
    req.set_etag(etag);
    return stub->ChangeTicketStatus(ServiceHarness::Ctx().get(), req, out);
  }

  grpc::Status Comment(const std::string& ticket, v1::AuthorKind kind, bool is_public,
                       const std::string& body, v1::Comment* out,
                       const std::string& request_id = "") {
    v1::AddCommentRequest req;
    req.set_parent(ticket);
    req.mutable_comment()->set_author_kind(kind);
    req.mutable_comment()->set_author(kind == v1::AUTHOR_KIND_CUSTOMER ? requester : "agent-7");
    req.mutable_comment()->set_body(body);
    req.mutable_comment()->set_public_(is_public);
    req.set_request_id(request_id);
    return stub->AddComment(ServiceHarness::Ctx().get(), req, out);
  }

  v1::Ticket Get(const std::string& name, const std::string& tenant = "acme") {
    v1::GetTicketRequest req;
    req.set_name(name);
    v1::Ticket out;
    grpc::Status s = stub->GetTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("GetTicket: " << s.error_message());
    return out;
  }

  std::vector<std::string> List(const std::string& filter, int page_size = 0,
                                std::string* token = nullptr) {
    v1::ListTicketsRequest req;
    req.set_filter(filter);
    req.set_page_size(page_size);
    if (token != nullptr) req.set_page_token(*token);
    v1::ListTicketsResponse resp;
    grpc::Status s = stub->ListTickets(ServiceHarness::Ctx().get(), req, &resp);
    if (!s.ok()) FAIL("ListTickets: " << s.error_message());
    if (token != nullptr) *token = resp.next_page_token();
    std::vector<std::string> subjects;
    for (const auto& t : resp.tickets()) subjects.push_back(t.subject());
    return subjects;
  }

  std::vector<std::string> EventTypes() {
    pqxx::connection conn(h.db_url());
    pqxx::nontransaction tx(conn);
    std::vector<std::string> types;
    for (const auto& row : tx.exec("SELECT type FROM ticketing.outbox ORDER BY tx_id, seq")) {
      types.push_back(row[0].as<std::string>());
    }
    return types;
  }
};

}  // namespace

TEST_CASE("a ticket is created, read back and isolated by tenant", "[integration][ticketing]") {
  Desk d;
  v1::Ticket t = d.Create("Where is my parcel?");
  CHECK(absl::StartsWith(t.name(), "tickets/"));
  CHECK(t.status() == v1::STATUS_NEW);
  CHECK(t.priority() == v1::PRIORITY_NORMAL);
  CHECK(t.channel() == v1::CHANNEL_API);
  CHECK(t.etag() == "v1");
  CHECK(t.has_create_time());
  CHECK_FALSE(t.has_solve_time());
  v1::Ticket read = d.Get(t.name());
  CHECK(read.SerializeAsString() == t.SerializeAsString());

  v1::GetTicketRequest req;
  req.set_name(t.name());
  v1::Ticket out;
  CHECK(d.stub->GetTicket(ServiceHarness::Ctx("other").get(), req, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  req.set_name("tickets/nope");
  CHECK(d.stub->GetTicket(ServiceHarness::Ctx().get(), req, &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(d.stub->GetTicket(ServiceHarness::Ctx("").get(), req, &out).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(d.EventTypes() == std::vector<std::string>{"ticket.created"});
}

TEST_CASE("CreateTicket is idempotent by request_id", "[integration][ticketing]") {
  Desk d;
  v1::CreateTicketRequest req;
  req.mutable_ticket()->set_requester(d.requester);
  req.mutable_ticket()->set_subject("Refund please");
  req.set_request_id("t-1");
  v1::Ticket first, second, other;
  REQUIRE(d.stub->CreateTicket(ServiceHarness::Ctx().get(), req, &first).ok());
  REQUIRE(d.stub->CreateTicket(ServiceHarness::Ctx().get(), req, &second).ok());
  CHECK(first.name() == second.name());
  req.mutable_ticket()->set_subject("Another thing");
  CHECK(d.stub->CreateTicket(ServiceHarness::Ctx().get(), req, &other).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(d.EventTypes().size() == 1);
}

TEST_CASE("status changes follow the table and a closed ticket is read-only",
          "[integration][ticketing]") {
  Desk d;
  v1::Ticket t = d.Create("Broken zip");
  v1::Ticket out;
  // A stale etag is refused before anything changes.
  REQUIRE(d.Move(t.name(), v1::STATUS_OPEN, &out, "v9").error_code() == grpc::StatusCode::ABORTED);
  REQUIRE(d.Move(t.name(), v1::STATUS_OPEN, &out, t.etag()).ok());
  CHECK(out.status() == v1::STATUS_OPEN);
  CHECK(out.etag() == "v2");
  // Asking for the status it is in changes nothing.
  REQUIRE(d.Move(t.name(), v1::STATUS_OPEN, &out).ok());
  CHECK(out.etag() == "v2");
  CHECK(d.Move(t.name(), v1::STATUS_NEW, &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(d.Move(t.name(), v1::STATUS_CLOSED, &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(d.Move(t.name(), v1::STATUS_SOLVED, &out).ok());
  CHECK(out.has_solve_time());
  REQUIRE(d.Move(t.name(), v1::STATUS_CLOSED, &out).ok());
  CHECK(out.has_close_time());
  grpc::Status reopen = d.Move(t.name(), v1::STATUS_OPEN, &out);
  CHECK(reopen.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(reopen.error_message(), "closed"));
  v1::Comment c;
  CHECK(d.Comment(t.name(), v1::AUTHOR_KIND_AGENT, true, "late", &c).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(d.Move(t.name(), v1::STATUS_UNSPECIFIED, &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(d.EventTypes() == std::vector<std::string>{"ticket.created", "ticket.status_changed",
                                                   "ticket.status_changed",
                                                   "ticket.status_changed"});
}

TEST_CASE("comments: first response, reopening on the customer's reply, order, idempotency",
          "[integration][ticketing]") {
  Desk d;
  v1::Ticket t = d.Create("Wrong size");
  v1::Comment note, reply, again, customer;
  REQUIRE(d.Comment(t.name(), v1::AUTHOR_KIND_AGENT, false, "Check stock first", &note).ok());
  CHECK_FALSE(d.Get(t.name()).has_first_response_time());
  REQUIRE(d.Comment(t.name(), v1::AUTHOR_KIND_AGENT, true, "Sending a M", &reply, "c-1").ok());
  REQUIRE(d.Comment(t.name(), v1::AUTHOR_KIND_AGENT, true, "Sending a M", &again, "c-1").ok());
  CHECK(reply.name() == again.name());
  const v1::Ticket answered = d.Get(t.name());
  REQUIRE(answered.has_first_response_time());
  v1::Ticket solved;
  REQUIRE(d.Move(t.name(), v1::STATUS_SOLVED, &solved).ok());
  REQUIRE(d.Comment(t.name(), v1::AUTHOR_KIND_CUSTOMER, true, "Still too small", &customer).ok());
  const v1::Ticket reopened = d.Get(t.name());
  CHECK(reopened.status() == v1::STATUS_OPEN);
  CHECK(reopened.first_response_time().seconds() == answered.first_response_time().seconds());

  v1::ListCommentsRequest req;
  req.set_parent(t.name());
  req.set_page_size(2);
  v1::ListCommentsResponse page1, page2;
  REQUIRE(d.stub->ListComments(ServiceHarness::Ctx().get(), req, &page1).ok());
  REQUIRE(page1.comments_size() == 2);
  CHECK(page1.comments(0).body() == "Check stock first");
  CHECK_FALSE(page1.comments(0).public_());
  CHECK(page1.comments(1).body() == "Sending a M");
  req.set_page_token(page1.next_page_token());
  REQUIRE(d.stub->ListComments(ServiceHarness::Ctx().get(), req, &page2).ok());
  REQUIRE(page2.comments_size() == 1);
  CHECK(page2.comments(0).author_kind() == v1::AUTHOR_KIND_CUSTOMER);
  CHECK(page2.next_page_token().empty());
  CHECK(d.EventTypes() == std::vector<std::string>{"ticket.created", "ticket.comment_added",
                                                   "ticket.comment_added", "ticket.first_replied",
                                                   "ticket.status_changed", "ticket.comment_added",
                                                   "ticket.status_changed"});
}

TEST_CASE("attachments are kept as metadata", "[integration][ticketing]") {
  Desk d;
  v1::Ticket t = d.Create("Damaged on arrival");
  v1::AddCommentRequest req;
  req.set_parent(t.name());
  req.mutable_comment()->set_author_kind(v1::AUTHOR_KIND_CUSTOMER);
  req.mutable_comment()->set_author(d.requester);
  req.mutable_comment()->set_body("See the photo");
  req.mutable_comment()->set_public_(true);
  auto* a = req.mutable_comment()->add_attachments();
  a->set_file_name("box.jpg");
  a->set_content_type("image/jpeg");
  a->set_size_bytes(123456);
  a->set_uri("https://files.example.com/box.jpg");
  v1::Comment added;
  REQUIRE(d.stub->AddComment(ServiceHarness::Ctx().get(), req, &added).ok());
  REQUIRE(added.attachments_size() == 1);
  CHECK(added.attachments(0).size_bytes() == 123456);
  CHECK(added.attachments(0).uri() == "https://files.example.com/box.jpg");
  CHECK(added.attachments(0).content_type() == "image/jpeg");
}

TEST_CASE("ListTickets filters, pages newest first, and rejects bad filters",
          "[integration][ticketing]") {
  Desk d;
  d.Create("one", d.requester, "acme", v1::PRIORITY_LOW);
  d.Create("two", d.other_requester, "acme", v1::PRIORITY_URGENT, {"refund"});
  d.Create("three", d.requester, "acme", v1::PRIORITY_URGENT);
  d.Create("four", d.requester, "acme", v1::PRIORITY_NORMAL, {"refund", "vip"});
  d.Create("elsewhere", d.customers.NewCustomer("x@example.com", "other").name(), "other");
  CHECK(d.List("") == std::vector<std::string>{"four", "three", "two", "one"});
  CHECK(d.List("priority = \"URGENT\"") == std::vector<std::string>{"three", "two"});
  CHECK(d.List("tags:\"refund\"") == std::vector<std::string>{"four", "two"});
  CHECK(d.List(absl::StrCat("requester = \"", d.other_requester, "\"")) ==
        std::vector<std::string>{"two"});
  CHECK(d.List("status = \"NEW\" AND subject:\"o\"") ==
        std::vector<std::string>{"four", "two", "one"});
  std::string token;
  CHECK(d.List("", 3, &token) == std::vector<std::string>{"four", "three", "two"});
  REQUIRE_FALSE(token.empty());
  CHECK(d.List("", 3, &token) == std::vector<std::string>{"one"});
  CHECK(token.empty());

  v1::ListTicketsRequest bad;
  bad.set_filter("escalated = \"x\"");  // no such field
  v1::ListTicketsResponse resp;
  grpc::Status s = d.stub->ListTickets(ServiceHarness::Ctx().get(), bad, &resp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(s.error_message(), "filter: "));
}

TEST_CASE("the requester and the order are checked with the customer service",
          "[integration][ticketing]") {
  Desk d;
  auto create = [&](const std::string& requester, const std::string& order,
                    const std::string& tenant = "acme") {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(requester);
    req.mutable_ticket()->set_order(order);
    req.mutable_ticket()->set_subject("About my order");
    v1::Ticket out;
    return d.stub->CreateTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
  };
  // An order of the requester, and one of somebody else.
  auto record = [&](const std::string& customer, const std::string& order_id) {
    crm::customer::v1::RecordOrderRequest req;
    auto* o = req.mutable_order();
    o->set_customer(customer);
    o->set_order_id(order_id);
    o->set_status(crm::customer::v1::ORDER_STATUS_PAID);
    o->set_currency_code("EUR");
    o->set_total_minor(1200);
    auto* line = o->add_line_items();
    line->set_sku("MUG");
    line->set_product_name("Mug");
    line->set_quantity(1);
    line->set_unit_price_minor(1200);
    *o->mutable_order_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
    crm::customer::v1::Order out;
    REQUIRE(d.customers.stub().RecordOrder(CustomerHarness::Ctx().get(), req, &out).ok());
    return out.name();
  };
  const std::string own = record(d.requester, "o-1");
  const std::string others = record(d.other_requester, "o-2");
  CHECK(create(d.requester, own).ok());

  grpc::Status s = create("customers/00000000-0000-4000-8000-000000000000", "");
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() ==
        "ticket.requester: customers/00000000-0000-4000-8000-000000000000 does not exist");
  // A customer of another tenant does not exist for this one.
  CHECK(create(d.requester, "", "other").error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  s = create(d.requester, others);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(s.error_message(), "ticket.order: "));
  s = create(d.requester, "orders/00000000-0000-4000-8000-000000000000");
  CHECK(s.error_message() ==
        "ticket.order: orders/00000000-0000-4000-8000-000000000000 does not exist");

  crm::customer::v1::DeleteCustomerRequest del;
  del.set_name(d.other_requester);
  crm::customer::v1::Customer deleted;
  REQUIRE(d.customers.stub().DeleteCustomer(CustomerHarness::Ctx().get(), del, &deleted).ok());
  s = create(d.other_requester, "");
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::EndsWith(s.error_message(), " is deleted"));
}

TEST_CASE("tickets cannot be opened while the customer service is unreachable",
          "[integration][ticketing]") {
  ServiceHarness h(ticketing::Definition(), "ticketing_alone",
                   ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", FreePort())));
  auto stub = h.Stub<v1::TicketService>();
  v1::CreateTicketRequest req;
  req.mutable_ticket()->set_requester("customers/00000000-0000-4000-8000-000000000000");
  req.mutable_ticket()->set_subject("Hello?");
  v1::Ticket out;
  grpc::Status s = stub->CreateTicket(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(absl::StartsWith(s.error_message(), "customer service could not check ticket.requester"));
}

TEST_CASE("the ticketing service does not start without the customer service's address",
          "[integration][ticketing]") {
  server::RuntimeConfig config;
  config.db_url = CreateDatabase("ticketing_unwired");
  config.server.grpc_port = 0;
  auto runtime = server::ServiceRuntime::Start(config, ticketing::Definition());
  CHECK(runtime.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(runtime.status().message() ==
        "--services: ticketing calls customer; add customer=<address>");
}

TEST_CASE("MergeTickets moves the comments, closes the source and points it at the target",
          "[integration][ticketing]") {
  Desk d;
  v1::Ticket source = d.Create("Parcel late (asked by e-mail)");
  v1::Ticket target = d.Create("Parcel late (asked in chat)");
  v1::Comment c;
  REQUIRE(d.Comment(source.name(), v1::AUTHOR_KIND_CUSTOMER, true, "Order 1001?", &c).ok());
  REQUIRE(d.Comment(source.name(), v1::AUTHOR_KIND_AGENT, false, "Asked the carrier", &c).ok());
  v1::MergeTicketsRequest req;
  req.set_source(source.name());
  req.set_target(target.name());
  v1::MergeTicketsResponse merged;
  REQUIRE(d.stub->MergeTickets(ServiceHarness::Ctx().get(), req, &merged).ok());
  CHECK(merged.moved_comments() == 2);
  CHECK(merged.source().status() == v1::STATUS_CLOSED);
  CHECK(merged.source().merged_into() == target.name());
  CHECK(merged.source().has_close_time());
  CHECK(merged.target().status() == v1::STATUS_NEW);
  CHECK(d.Get(source.name()).merged_into() == target.name());

  v1::ListCommentsRequest list;
  list.set_parent(target.name());
  v1::ListCommentsResponse on_target;
  REQUIRE(d.stub->ListComments(ServiceHarness::Ctx().get(), list, &on_target).ok());
  REQUIRE(on_target.comments_size() == 3);
  CHECK(on_target.comments(0).body() == "Order 1001?");
  CHECK(absl::StartsWith(on_target.comments(0).name(), target.name() + "/comments/"));
  CHECK(on_target.comments(1).body() == "Asked the carrier");
  CHECK(on_target.comments(2).author_kind() == v1::AUTHOR_KIND_SYSTEM);
  CHECK(absl::StrContains(on_target.comments(2).body(), source.name()));
  list.set_parent(source.name());
  v1::ListCommentsResponse on_source;
  REQUIRE(d.stub->ListComments(ServiceHarness::Ctx().get(), list, &on_source).ok());
  REQUIRE(on_source.comments_size() == 1);
  CHECK(on_source.comments(0).body() == absl::StrCat("Merged into ", target.name(), "."));

  // Again: nothing changes. Into itself, into or from a closed ticket: refused.
  v1::MergeTicketsResponse again;
  REQUIRE(d.stub->MergeTickets(ServiceHarness::Ctx().get(), req, &again).ok());
  CHECK(again.moved_comments() == 0);
  CHECK(again.source().etag() == merged.source().etag());
  req.set_source(target.name());
  CHECK(d.stub->MergeTickets(ServiceHarness::Ctx().get(), req, &again).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::Ticket third = d.Create("Third");
  req.set_source(third.name());
  req.set_target(source.name());
  grpc::Status closed = d.stub->MergeTickets(ServiceHarness::Ctx().get(), req, &again);
  CHECK(closed.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(closed.error_message(), "closed"));
  // Another tenant cannot see either ticket.
  req.set_target(target.name());
  CHECK(d.stub->MergeTickets(ServiceHarness::Ctx("other").get(), req, &again).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  const std::vector<std::string> events = d.EventTypes();
  CHECK(std::count(events.begin(), events.end(), "ticket.merged") == 1);
}

TEST_CASE("housekeeping closes tickets solved long enough ago, in every tenant",
          "[integration][ticketing]") {
  Desk d;
  const std::string elsewhere = d.customers.NewCustomer("b@example.com", "other").name();
  v1::Ticket old_a = d.Create("Solved last week");
  v1::Ticket old_b = d.Create("Solved last week too", elsewhere, "other");
  v1::Ticket fresh = d.Create("Solved just now");
  v1::Ticket open = d.Create("Still open");
  auto solve = [&](const v1::Ticket& t, const std::string& tenant) {
    v1::ChangeTicketStatusRequest req;
    req.set_name(t.name());
    req.set_status(v1::STATUS_SOLVED);
    v1::Ticket out;
    REQUIRE(d.stub->ChangeTicketStatus(ServiceHarness::Ctx(tenant).get(), req, &out).ok());
  };
  solve(old_a, "acme");
  solve(old_b, "other");
  solve(fresh, "acme");
  {
    pqxx::connection conn(d.h.db_url());
    pqxx::nontransaction tx(conn);
    tx.exec(
        "UPDATE ticketing.tickets SET solve_time = now() - interval '5 days' WHERE subject "
        "LIKE 'Solved last week%'");
  }
  REQUIRE(d.h.runtime().Housekeep().ok());
  CHECK(d.Get(old_a.name()).status() == v1::STATUS_CLOSED);
  CHECK(d.Get(old_a.name()).has_close_time());
  CHECK(d.Get(old_b.name(), "other").status() == v1::STATUS_CLOSED);
  CHECK(d.Get(fresh.name()).status() == v1::STATUS_SOLVED);
  CHECK(d.Get(open.name()).status() == v1::STATUS_NEW);
  // Each closed ticket has its event, in its own tenant.
  pqxx::connection conn(d.h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec("SELECT count(*) FROM ticketing.outbox WHERE type = 'ticket.status_changed' AND "
                "subject IN ('" +
                old_a.name() + "', '" + old_b.name() + "')")[0][0]
            .as<int>() == 4);
  CHECK(tx.exec("SELECT tenant_id FROM ticketing.outbox WHERE subject = '" + old_b.name() +
                "' GROUP BY tenant_id")[0][0]
            .as<std::string>() == "other");
  // A second round finds nothing more.
  REQUIRE(d.h.runtime().Housekeep().ok());
  CHECK(d.Get(fresh.name()).status() == v1::STATUS_SOLVED);
}

TEST_CASE("custom statuses name a tenant's own states within the fixed categories",
          "[integration][ticketing]") {
  Desk d;
  auto create_status = [&](const std::string& label, v1::Status category, v1::CustomStatus* out,
                           const std::string& tenant = "acme") {
    v1::CreateCustomStatusRequest req;
    req.mutable_custom_status()->set_label(label);
    req.mutable_custom_status()->set_category(category);
    return d.stub->CreateCustomStatus(ServiceHarness::Ctx(tenant).get(), req, out);
  };
  v1::CustomStatus supplier, customs, refund, dup;
  REQUIRE(create_status("Waiting for the supplier", v1::STATUS_ON_HOLD, &supplier).ok());
  REQUIRE(create_status("Held at customs", v1::STATUS_ON_HOLD, &customs).ok());
  REQUIRE(create_status("Refund issued", v1::STATUS_SOLVED, &refund).ok());
  CHECK(absl::StartsWith(supplier.name(), "customStatuses/"));
  CHECK(create_status("waiting FOR the supplier", v1::STATUS_PENDING, &dup).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  CHECK(create_status("Brand new", v1::STATUS_NEW, &dup).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(create_status("", v1::STATUS_OPEN, &dup).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // Another tenant has its own list.
  REQUIRE(create_status("Waiting for the supplier", v1::STATUS_ON_HOLD, &dup, "other").ok());
  v1::ListCustomStatusesResponse listed;
  REQUIRE(d.stub
              ->ListCustomStatuses(ServiceHarness::Ctx().get(), v1::ListCustomStatusesRequest(),
                                   &listed)
              .ok());
  REQUIRE(listed.custom_statuses_size() == 3);
  CHECK(listed.custom_statuses(0).label() == "Held at customs");  // ON_HOLD, by label
  CHECK(listed.custom_statuses(2).label() == "Refund issued");

  v1::Ticket t = d.Create("Parts on back order");
  auto move = [&](v1::Status status, const std::string& custom, v1::Ticket* out) {
    v1::ChangeTicketStatusRequest req;
    req.set_name(t.name());
    req.set_status(status);
    req.set_custom_status(custom);
    return d.stub->ChangeTicketStatus(ServiceHarness::Ctx().get(), req, out);
  };
  v1::Ticket out;
  REQUIRE(move(v1::STATUS_UNSPECIFIED, supplier.name(), &out).ok());
  CHECK(out.status() == v1::STATUS_ON_HOLD);
  CHECK(out.custom_status() == supplier.name());
  // Within the category, from one custom status to another.
  REQUIRE(move(v1::STATUS_UNSPECIFIED, customs.name(), &out).ok());
  CHECK(out.status() == v1::STATUS_ON_HOLD);
  CHECK(out.custom_status() == customs.name());
  CHECK(d.List(absl::StrCat("custom_status = \"", customs.name(), "\"")) ==
        std::vector<std::string>{"Parts on back order"});
  // A category that disagrees, an unknown or foreign status: refused.
  CHECK(move(v1::STATUS_OPEN, customs.name(), &out).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(move(v1::STATUS_UNSPECIFIED, "customStatuses/00000000-0000-4000-8000-000000000000", &out)
            .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(move(v1::STATUS_UNSPECIFIED, dup.name(), &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  // Solving into a custom status stamps solve_time; a plain category clears it.
  REQUIRE(move(v1::STATUS_SOLVED, refund.name(), &out).ok());
  CHECK(out.has_solve_time());
  CHECK(out.custom_status() == refund.name());
  REQUIRE(move(v1::STATUS_OPEN, "", &out).ok());
  CHECK(out.status() == v1::STATUS_OPEN);
  CHECK(out.custom_status().empty());
}

TEST_CASE("a solved ticket is rated once, and csat.submitted carries the rating",
          "[integration][ticketing]") {
  Desk d;
  const v1::Ticket t = d.Create("Slow refund");
  v1::SubmitSatisfactionRatingRequest req;
  req.set_parent(t.name());
  req.mutable_rating()->set_score(2);
  req.mutable_rating()->set_comment("Took a week");
  v1::SatisfactionRating out;
  grpc::Status s = d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message() == t.name() + " is NEW: a ticket is rated once it is solved");

  v1::Ticket solved;
  REQUIRE(d.Move(t.name(), v1::STATUS_SOLVED, &solved).ok());
  req.set_request_id("rate-1");
  REQUIRE(d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &out).ok());
  CHECK(out.name() == t.name() + "/satisfaction");
  CHECK(out.score() == 2);
  CHECK(out.has_create_time());
  // A retry, and the same rating again, return it; another is refused.
  v1::SatisfactionRating again;
  REQUIRE(d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again).ok());
  CHECK(again.SerializeAsString() == out.SerializeAsString());
  req.clear_request_id();
  REQUIRE(d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again).ok());
  CHECK(again.SerializeAsString() == out.SerializeAsString());
  req.mutable_rating()->set_good(true);
  s = d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again);
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);

  const v1::Ticket rated = d.Get(t.name());
  CHECK(rated.satisfaction().score() == 2);
  CHECK(rated.satisfaction().comment() == "Took a week");
  CHECK(rated.etag() != solved.etag());
  CHECK(d.List("satisfaction_good = false") == std::vector<std::string>{"Slow refund"});
  CHECK(d.List("satisfaction_good = true").empty());
  const std::vector<std::string> types = d.EventTypes();
  CHECK(std::count(types.begin(), types.end(), "csat.submitted") == 1);

  // A closed ticket can still be rated (surveys arrive late); bad input is
  // named.
  const v1::Ticket late = d.Create("Late survey");
  REQUIRE(d.Move(late.name(), v1::STATUS_SOLVED, &solved).ok());
  REQUIRE(d.Move(late.name(), v1::STATUS_CLOSED, &solved).ok());
  req.set_parent(late.name());
  req.mutable_rating()->set_score(6);
  s = d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "rating.score: 1 to 5");
  req.mutable_rating()->clear_score();
  s = d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again);
  CHECK(s.error_message() == "rating: good or score is required");
  req.mutable_rating()->set_good(true);
  REQUIRE(d.stub->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), req, &again).ok());
  CHECK(again.good());
  CHECK(d.List("satisfaction_good = true") == std::vector<std::string>{"Late survey"});
}

}  // namespace crm::testing
