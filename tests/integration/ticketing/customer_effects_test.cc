// The ticketing service following the customer service's feed for every
// tenant: an erased customer leaves no personal value in any text column of
// the ticketing schema; a merge re-points their tickets to the survivor and
// an unmerge puts exactly those back; other tenants are untouched.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/ticketing/v1/ticket_service.grpc.pb.h"
#include "services/ticketing/ticketing_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/pii_scan.h"
#include "tests/testing/service_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::ticketing::v1;
namespace cv1 = crm::customer::v1;

struct Desk {
  CustomerHarness customers{"effects_customers"};
  ServiceHarness h{
      ticketing::Definition(), "effects",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TicketService::Stub> tickets = h.Stub<v1::TicketService>();

  cv1::Customer Customer(const std::string& email, const std::string& tenant = "acme",
                         bool quentin = false) {
    cv1::CreateCustomerRequest req;
    req.mutable_customer()->set_email(email);
    if (quentin) {
      req.mutable_customer()->set_given_name("Quentin");
      req.mutable_customer()->set_family_name("Xylophant");
      req.mutable_customer()->add_tags("vip-quentin");
    }
    cv1::Customer c;
    grpc::Status s = customers.stub().CreateCustomer(ServiceHarness::Ctx(tenant).get(), req, &c);
    if (!s.ok()) FAIL("CreateCustomer: " << s.error_message());
    return c;
  }

  v1::Ticket Open(const std::string& requester, const std::string& subject,
                  const std::string& description, const std::string& tenant = "acme") {
    v1::CreateTicketRequest req;
    req.mutable_ticket()->set_requester(requester);
    req.mutable_ticket()->set_subject(subject);
    req.mutable_ticket()->set_description(description);
    req.set_request_id(absl::StrCat("open-", subject.size(), "-", description.size(), tenant));
    v1::Ticket out;
    grpc::Status s = tickets->CreateTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("CreateTicket: " << s.error_message());
    return out;
  }

  void Comment(const std::string& ticket, v1::AuthorKind kind, const std::string& author,
               const std::string& body, const std::string& tenant = "acme") {
    v1::AddCommentRequest req;
    req.set_parent(ticket);
    req.mutable_comment()->set_author_kind(kind);
    req.mutable_comment()->set_author(author);
    req.mutable_comment()->set_body(body);
    req.mutable_comment()->set_public_(true);
    auto* a = req.mutable_comment()->add_attachments();
    a->set_file_name("quentin-xylophant-receipt.pdf");
    a->set_content_type("application/pdf");
    a->set_uri("https://files.example.com/quentin-xylophant-receipt.pdf");
    v1::Comment out;
    grpc::Status s = tickets->AddComment(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("AddComment: " << s.error_message());
  }

  v1::Ticket Get(const std::string& name, const std::string& tenant = "acme") {
    v1::GetTicketRequest req;
    req.set_name(name);
    v1::Ticket out;
    grpc::Status s = tickets->GetTicket(ServiceHarness::Ctx(tenant).get(), req, &out);
    if (!s.ok()) FAIL("GetTicket: " << s.error_message());
    return out;
  }

  // Polls GetTicket until `done` holds or 15 s pass.
  template <typename Done>
  v1::Ticket Await(const std::string& name, Done done, const std::string& tenant = "acme") {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    v1::Ticket t = Get(name, tenant);
    while (!done(t) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      t = Get(name, tenant);
    }
    return t;
  }
};

}  // namespace

TEST_CASE("an erased customer leaves no personal value in the ticketing schema",
          "[integration][ticketing]") {
  Desk d;
  const cv1::Customer quentin = d.Customer("quentin.xylophant@example.com", "acme", true);
  const v1::Ticket t = d.Open(quentin.name(), "Quentin Xylophant: parcel never came",
                              "Please call Quentin Xylophant, quentin.xylophant@example.com");
  CHECK(t.requester_tags(0) == "vip-quentin");
  // A custom text field holding their name.
  v1::CreateTicketFieldRequest field;
  field.mutable_field()->set_key("contact_note");
  field.mutable_field()->set_display_name("Contact note");
  field.mutable_field()->set_type(v1::CUSTOM_FIELD_TYPE_TEXT);
  v1::TicketField created_field;
  REQUIRE(d.tickets->CreateTicketField(ServiceHarness::Ctx().get(), field, &created_field).ok());
  v1::UpdateTicketRequest note;
  note.mutable_ticket()->set_name(t.name());
  (*note.mutable_ticket()->mutable_custom_fields())["contact_note"].set_text_value(
      "Ask for Quentin Xylophant");
  note.mutable_update_mask()->add_paths("custom_fields.contact_note");
  v1::Ticket noted;
  REQUIRE(d.tickets->UpdateTicket(ServiceHarness::Ctx().get(), note, &noted).ok());
  CHECK(noted.custom_fields().at("contact_note").text_value() == "Ask for Quentin Xylophant");
  d.Comment(t.name(), v1::AUTHOR_KIND_CUSTOMER, quentin.name(),
            "It is me again, Quentin Xylophant (quentin.xylophant@example.com).");
  d.Comment(t.name(), v1::AUTHOR_KIND_AGENT, "agent-7",
            "Dear Quentin Xylophant, it is on its way.");
  // Solved, and rated with a comment that names them too.
  v1::ChangeTicketStatusRequest solve;
  solve.set_name(t.name());
  solve.set_status(v1::STATUS_SOLVED);
  v1::Ticket solved;
  REQUIRE(d.tickets->ChangeTicketStatus(ServiceHarness::Ctx().get(), solve, &solved).ok());
  v1::SubmitSatisfactionRatingRequest rate;
  rate.set_parent(t.name());
  rate.mutable_rating()->set_good(true);
  rate.mutable_rating()->set_comment("Thanks from Quentin Xylophant");
  v1::SatisfactionRating rating;
  REQUIRE(d.tickets->SubmitSatisfactionRating(ServiceHarness::Ctx().get(), rate, &rating).ok());
  // Another tenant's ticket and another customer's here: untouched.
  const cv1::Customer elsewhere = d.Customer("someone@example.com", "globex");
  const v1::Ticket kept = d.Open(elsewhere.name(), "Globex parcel late", "", "globex");
  const cv1::Customer other = d.Customer("other@example.com");
  const v1::Ticket other_ticket = d.Open(other.name(), "Zebra lamp broke", "It flickers");

  cv1::EraseCustomerRequest erase;
  erase.set_name(quentin.name());
  cv1::EraseCustomerResponse erased;
  REQUIRE(d.customers.stub().EraseCustomer(ServiceHarness::Ctx().get(), erase, &erased).ok());

  const v1::Ticket after =
      d.Await(t.name(), [](const v1::Ticket& x) { return x.subject() == "[erased]"; });
  CHECK(after.subject() == "[erased]");
  CHECK(after.description().empty());
  CHECK(after.requester_tags_size() == 0);
  CHECK(after.custom_fields().empty());
  CHECK(after.requester() == quentin.name());  // the pseudonymous link stays
  CHECK(after.satisfaction().good());          // the rating stays, its comment goes
  CHECK(after.satisfaction().comment().empty());
  const std::vector<std::string> values = {"Quentin", "Xylophant", "quentin.xylophant",
                                           "vip-quentin"};
  CHECK(PersonalValueLeaks(d.h.db_url(), "ticketing", values).empty());
  CHECK(d.Get(kept.name(), "globex").subject() == "Globex parcel late");
  CHECK(d.Get(other_ticket.name()).subject() == "Zebra lamp broke");
  CHECK(d.Get(other_ticket.name()).description() == "It flickers");
}

TEST_CASE("a merge re-points the merged customer's tickets and an unmerge puts them back",
          "[integration][ticketing]") {
  Desk d;
  const cv1::Customer survivor = d.Customer("keep@example.com");
  const cv1::Customer merged = d.Customer("fold@example.com");
  const v1::Ticket first = d.Open(merged.name(), "Lost parcel", "");
  const v1::Ticket second = d.Open(merged.name(), "Wrong size", "");
  const v1::Ticket own = d.Open(survivor.name(), "Invoice please", "");

  cv1::MergeCustomersRequest merge;
  merge.set_survivor(survivor.name());
  merge.set_merged(merged.name());
  cv1::MergeCustomersResponse done;
  grpc::Status s = d.customers.stub().MergeCustomers(ServiceHarness::Ctx().get(), merge, &done);
  INFO(s.error_message());
  REQUIRE(s.ok());
  for (const auto* t : {&first, &second}) {
    const v1::Ticket moved =
        d.Await(t->name(), [&](const v1::Ticket& x) { return x.requester() == survivor.name(); });
    CHECK(moved.requester() == survivor.name());
    CHECK(moved.etag() != t->etag());
  }
  CHECK(d.Get(own.name()).requester() == survivor.name());

  cv1::UnmergeCustomerRequest unmerge;
  unmerge.set_name(done.merge().name());
  cv1::UnmergeCustomerResponse undone;
  REQUIRE(d.customers.stub().UnmergeCustomer(ServiceHarness::Ctx().get(), unmerge, &undone).ok());
  for (const auto* t : {&first, &second}) {
    const v1::Ticket back =
        d.Await(t->name(), [&](const v1::Ticket& x) { return x.requester() == merged.name(); });
    CHECK(back.requester() == merged.name());
  }
  // The survivor's own ticket stays with the survivor.
  CHECK(d.Get(own.name()).requester() == survivor.name());
  pqxx::connection conn(d.h.db_url());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM ticketing.requester_moves")[0].as<int>() == 0);
  CHECK(tx.exec1("SELECT count(*) FROM ticketing.outbox WHERE type = 'ticket.updated'")[0]
            .as<int>() == 4);
}

}  // namespace crm::testing
