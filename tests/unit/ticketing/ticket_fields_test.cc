// Custom ticket fields and followers without the database: definitions,
// the shape of values, their fit to their fields (each refusal names the
// key), values as text for rules, updates by key, followers.
#include "services/ticketing/ticket_fields.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

std::string Message(const absl::Status& s) { return s.ok() ? "ok" : std::string(s.message()); }

std::map<std::string, v1::TicketField> Fields() {
  std::map<std::string, v1::TicketField> fields;
  v1::TicketField amount;
  amount.set_key("refund_amount");
  amount.set_type(v1::CUSTOM_FIELD_TYPE_NUMBER);
  fields["refund_amount"] = amount;
  v1::TicketField reason;
  reason.set_key("reason");
  reason.set_type(v1::CUSTOM_FIELD_TYPE_DROPDOWN);
  reason.add_options("damaged");
  fields["reason"] = reason;
  return fields;
}

}  // namespace

TEST_CASE("a field definition: key, type, and options only for a dropdown",
          "[unit][ticketing][fields]") {
  v1::TicketField f;
  f.set_key("return_reason");
  f.set_display_name("Return reason");
  f.set_type(v1::CUSTOM_FIELD_TYPE_DROPDOWN);
  f.add_options("Damaged");
  f.add_options("wrong_size");
  CHECK(Message(ValidateTicketField(&f, "field")) == "ok");
  CHECK(f.options(0) == "damaged");
  f.add_options("DAMAGED");
  CHECK(Message(ValidateTicketField(&f, "field")) ==
        "field.options[2]: \"damaged\" is given twice");
  f.clear_options();
  CHECK(Message(ValidateTicketField(&f, "field")) == "field.options: a DROPDOWN needs options");
  f.set_type(v1::CUSTOM_FIELD_TYPE_TEXT);
  f.add_options("x");
  CHECK(Message(ValidateTicketField(&f, "field")) ==
        "field.options: only a DROPDOWN field has options");
  f.clear_options();
  f.set_type(v1::CUSTOM_FIELD_TYPE_UNSPECIFIED);
  CHECK(Message(ValidateTicketField(&f, "field")) == "field.type: required");
  for (const char* key : {"", "1st", "Upper", "with-dash", "a b"}) {
    f.set_key(key);
    CHECK(absl::StartsWith(Message(ValidateTicketField(&f, "field")), "field.key: "));
  }
}

TEST_CASE("values: their shape, then their fit to their fields", "[unit][ticketing][fields]") {
  CustomFields values;
  values["refund_amount"].set_number_value(12.5);
  values["reason"].set_option_value("damaged");
  CHECK(Message(CheckCustomFieldShapes(values, "t.custom_fields")) == "ok");
  CHECK(Message(CheckCustomFieldValues(values, Fields(), "t.custom_fields")) == "ok");

  values["refund_amount"].set_number_value(std::numeric_limits<double>::quiet_NaN());
  CHECK(Message(CheckCustomFieldShapes(values, "t.custom_fields")) ==
        "t.custom_fields[\"refund_amount\"]: not a finite number");
  values["refund_amount"].set_text_value("12");
  CHECK(Message(CheckCustomFieldValues(values, Fields(), "t.custom_fields")) ==
        "t.custom_fields[\"refund_amount\"]: the field is NUMBER, so number_value is required");
  values["refund_amount"].set_number_value(1);
  values["reason"].set_option_value("lost");
  CHECK(Message(CheckCustomFieldValues(values, Fields(), "t.custom_fields")) ==
        "t.custom_fields[\"reason\"]: \"lost\" is not one of the field's options");

  CustomFields other;
  other["delivered"].set_date_value("2026-02-29");  // not a leap year
  CHECK(Message(CheckCustomFieldShapes(other, "c")) ==
        "c[\"delivered\"]: \"2026-02-29\" is not YYYY-MM-DD");
  other["delivered"].set_date_value("2028-02-29");
  CHECK(Message(CheckCustomFieldShapes(other, "c")) == "ok");
  CHECK(Message(CheckCustomFieldValues(other, Fields(), "c")) ==
        "c[\"delivered\"]: the tenant has no ticket field \"delivered\"");
  other["empty"];  // no member set
  CHECK(Message(CheckCustomFieldShapes(other, "c")) == "c[\"empty\"]: a value is required");
  CustomFields bad_key;
  bad_key["Bad"].set_bool_value(true);
  CHECK(absl::StartsWith(Message(CheckCustomFieldShapes(bad_key, "c")), "c[\"Bad\"]: "));
}

TEST_CASE("values as text", "[unit][ticketing][fields]") {
  CustomFields values;
  values["n"].set_number_value(12.5);
  values["i"].set_number_value(100);
  values["b"].set_bool_value(false);
  values["d"].set_date_value("2026-12-01");
  CHECK(CustomFieldText(values, "n") == "12.5");
  CHECK(CustomFieldText(values, "i") == "100");
  CHECK(CustomFieldText(values, "b") == "false");
  CHECK(CustomFieldText(values, "d") == "2026-12-01");
  CHECK(CustomFieldText(values, "missing").empty());
}

TEST_CASE("UpdateTicket sets or removes one custom field by its path",
          "[unit][ticketing][fields]") {
  v1::Ticket ticket;
  (*ticket.mutable_custom_fields())["a"].set_text_value("keep");
  (*ticket.mutable_custom_fields())["b"].set_text_value("drop");
  v1::Ticket patch;
  (*patch.mutable_custom_fields())["c"].set_number_value(3);
  std::vector<std::string> paths = {"custom_fields.b", "custom_fields.c"};
  REQUIRE(ValidateTicketUpdate(&patch, paths, "ticket").ok());
  ApplyTicketUpdate(patch, paths, &ticket);
  CHECK(ticket.custom_fields().at("a").text_value() == "keep");
  CHECK(ticket.custom_fields().count("b") == 0);
  CHECK(ticket.custom_fields().at("c").number_value() == 3);
  paths = {"custom_fields.Not-A-Key"};
  CHECK(absl::StartsWith(Message(ValidateTicketUpdate(&patch, paths, "ticket")),
                         "update_mask: custom_fields.Not-A-Key: "));
}

TEST_CASE("followers are agents, sorted and unique, at most 50", "[unit][ticketing][fields]") {
  google::protobuf::RepeatedPtrField<std::string> followers;
  *followers.Add() = "agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b12";
  *followers.Add() = "agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11";
  *followers.Add() = "agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b12";
  REQUIRE(NormaliseFollowers(&followers, "ticket.followers").ok());
  REQUIRE(followers.size() == 2);
  CHECK(followers.Get(0) == "agents/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11");
  *followers.Add() = "customers/7f1f0a52-8a43-4d2c-9a4c-3c1f2a8f1b11";
  CHECK(absl::StartsWith(Message(NormaliseFollowers(&followers, "ticket.followers")),
                         "ticket.followers[2]"));
}

}  // namespace crm::ticketing
