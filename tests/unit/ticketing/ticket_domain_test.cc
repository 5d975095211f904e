// The ticket rules without a database: the status table, checked for every
// pair of statuses, and what a new ticket and a comment must hold.
#include "services/ticketing/ticket_domain.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

namespace crm::ticketing {
namespace {

using v1::Status;

const std::vector<Status> kStatuses = {v1::STATUS_NEW,     v1::STATUS_OPEN,   v1::STATUS_PENDING,
                                       v1::STATUS_ON_HOLD, v1::STATUS_SOLVED, v1::STATUS_CLOSED};

v1::Ticket Valid() {
  v1::Ticket t;
  t.set_requester("customers/0b0e5c3e-6a1c-4c38-9a40-8d8f5d1a2b3c");
  t.set_subject("Where is my parcel?");
  return t;
}

}  // namespace

TEST_CASE("escalation raises the priority one step or to a higher one", "[unit][ticketing]") {
  CHECK(*EscalatedPriority(v1::PRIORITY_LOW, v1::PRIORITY_UNSPECIFIED, false) ==
        v1::PRIORITY_NORMAL);
  CHECK(*EscalatedPriority(v1::PRIORITY_HIGH, v1::PRIORITY_UNSPECIFIED, false) ==
        v1::PRIORITY_URGENT);
  CHECK(*EscalatedPriority(v1::PRIORITY_NORMAL, v1::PRIORITY_URGENT, false) == v1::PRIORITY_URGENT);
  CHECK(EscalatedPriority(v1::PRIORITY_URGENT, v1::PRIORITY_UNSPECIFIED, false).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(*EscalatedPriority(v1::PRIORITY_URGENT, v1::PRIORITY_UNSPECIFIED, true) ==
        v1::PRIORITY_URGENT);  // to another group
  CHECK(EscalatedPriority(v1::PRIORITY_HIGH, v1::PRIORITY_LOW, true).status().message() ==
        "priority: LOW is not above HIGH");
  CHECK(EscalatedPriority(v1::PRIORITY_HIGH, v1::PRIORITY_HIGH, false).ok() == false);
}

TEST_CASE("status moves follow the table, for every pair", "[unit][ticketing]") {
  // The allowed moves, written out as docs/ticketing.md shows them.
  const std::set<std::pair<Status, Status>> allowed = {
      {v1::STATUS_NEW, v1::STATUS_OPEN},        {v1::STATUS_NEW, v1::STATUS_PENDING},
      {v1::STATUS_NEW, v1::STATUS_ON_HOLD},     {v1::STATUS_NEW, v1::STATUS_SOLVED},
      {v1::STATUS_OPEN, v1::STATUS_PENDING},    {v1::STATUS_OPEN, v1::STATUS_ON_HOLD},
      {v1::STATUS_OPEN, v1::STATUS_SOLVED},     {v1::STATUS_PENDING, v1::STATUS_OPEN},
      {v1::STATUS_PENDING, v1::STATUS_ON_HOLD}, {v1::STATUS_PENDING, v1::STATUS_SOLVED},
      {v1::STATUS_ON_HOLD, v1::STATUS_OPEN},    {v1::STATUS_ON_HOLD, v1::STATUS_PENDING},
      {v1::STATUS_ON_HOLD, v1::STATUS_SOLVED},  {v1::STATUS_SOLVED, v1::STATUS_OPEN},
      {v1::STATUS_SOLVED, v1::STATUS_CLOSED},
  };
  int checked = 0;
  for (Status from : kStatuses) {
    for (Status to : kStatuses) {
      INFO(StatusText(from) << " -> " << StatusText(to));
      CHECK(CanMove(from, to) == (allowed.count({from, to}) == 1));
      ++checked;
    }
    CHECK_FALSE(CanMove(from, v1::STATUS_UNSPECIFIED));
  }
  CHECK(checked == 36);
}

TEST_CASE("a new ticket gets its defaults and sorted, unique, lower-case tags",
          "[unit][ticketing]") {
  v1::Ticket t = Valid();
  t.add_tags("Refund");
  t.add_tags("vip");
  t.add_tags("refund");
  REQUIRE(PrepareNewTicket(&t, "ticket").ok());
  CHECK(t.status() == v1::STATUS_NEW);
  CHECK(t.priority() == v1::PRIORITY_NORMAL);
  CHECK(t.type() == v1::TICKET_TYPE_QUESTION);
  CHECK(t.channel() == v1::CHANNEL_API);
  REQUIRE(t.tags_size() == 2);
  CHECK(t.tags(0) == "refund");
  CHECK(t.tags(1) == "vip");
}

TEST_CASE("a bad new ticket is refused naming the field", "[unit][ticketing]") {
  const std::map<std::string, std::function<void(v1::Ticket*)>> bad = {
      {"ticket.requester: required", [](v1::Ticket* t) { t->clear_requester(); }},
      {"ticket.requester", [](v1::Ticket* t) { t->set_requester("tickets/x"); }},
      {"ticket.subject: required", [](v1::Ticket* t) { t->clear_subject(); }},
      {"ticket.subject", [](v1::Ticket* t) { t->set_subject(std::string(201, 'x')); }},
      {"ticket.subject: contains control", [](v1::Ticket* t) { t->set_subject("a\nb"); }},
      {"ticket.order", [](v1::Ticket* t) { t->set_order("orders/not-a-uuid"); }},
      {"ticket.priority", [](v1::Ticket* t) { t->set_priority(static_cast<v1::Priority>(99)); }},
      {"ticket.tags", [](v1::Ticket* t) { t->add_tags("no spaces"); }},
      {"ticket.description", [](v1::Ticket* t) { t->set_description(std::string(65537, 'x')); }},
  };
  for (const auto& [message, spoil] : bad) {
    v1::Ticket t = Valid();
    spoil(&t);
    const absl::Status status = PrepareNewTicket(&t, "ticket");
    INFO(message << " / " << status.message());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(status.message(), message));
  }
}

TEST_CASE("a comment needs an author and a body, and attachments are checked",
          "[unit][ticketing]") {
  v1::Comment c;
  c.set_author_kind(v1::AUTHOR_KIND_AGENT);
  c.set_author("agent-7");
  c.set_body("We have sent a replacement.");
  CHECK(ValidateComment(c, "comment").ok());
  v1::Comment no_kind = c;
  no_kind.clear_author_kind();
  CHECK(ValidateComment(no_kind, "comment").message() == "comment.author_kind: required");
  v1::Comment no_body = c;
  no_body.clear_body();
  CHECK(ValidateComment(no_body, "comment").message() == "comment.body: required");
  v1::Comment bad_uri = c;
  auto* a = bad_uri.add_attachments();
  a->set_file_name("photo.png");
  a->set_uri("file:///etc/passwd");
  CHECK(absl::StartsWith(ValidateComment(bad_uri, "comment").message(),
                         "comment.attachments[0].uri"));
}

TEST_CASE("enum values are stored by their short names and read back", "[unit][ticketing]") {
  for (Status s : kStatuses) CHECK(StatusOf(StatusText(s)) == s);
  CHECK(StatusText(v1::STATUS_ON_HOLD) == "ON_HOLD");
  CHECK(PriorityText(v1::PRIORITY_URGENT) == "URGENT");
  CHECK(StatusOf("nonsense") == v1::STATUS_UNSPECIFIED);
}

}  // namespace crm::ticketing
