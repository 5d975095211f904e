// api::MergeJson reads back what protobuf's MessageToJsonString writes,
// exactly as protobuf's own parser does, and names the field that does not fit.
#include "common/api/json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <catch2/catch.hpp>

#include "crm/customer/v1/customer_service.pb.h"

namespace crm::api {
namespace {

using crm::customer::v1::Customer;
using crm::customer::v1::Order;
using google::protobuf::util::TimeUtil;

Customer FullCustomer() {
  Customer c;
  c.set_name("customers/8d3c");
  c.set_email("ann@example.com");
  c.add_tags("vip");
  c.add_tags("b2b");
  (*c.mutable_attributes())["tier"].set_string_value("gold \"quoted\" é ✓");
  (*c.mutable_attributes())["score"].set_number_value(-7.25);
  (*c.mutable_attributes())["newsletter"].set_bool_value(true);
  *(*c.mutable_attributes())["since"].mutable_timestamp_value() =
      TimeUtil::MicrosecondsToTimestamp(1700000000123456);
  auto* a = c.add_addresses();
  a->set_kind(crm::customer::v1::ADDRESS_KIND_SHIPPING);
  a->mutable_address()->add_lines("1 High Street");
  a->mutable_address()->add_lines("Flat 2");
  a->mutable_address()->set_postal_code("SW1A 1AA");
  a->mutable_address()->set_country("GB");
  a->set_is_default(true);
  c.mutable_demographics()->set_birth_date("1990-02-03");
  c.mutable_demographics()->set_gender(crm::customer::v1::GENDER_FEMALE);
  c.mutable_preferences()->set_language("en-GB");
  c.mutable_preferences()->add_categories("shoes");
  auto* i = c.add_identities();
  i->set_kind(crm::customer::v1::IDENTITY_KIND_EMAIL);
  i->set_value("ann@example.com");
  *i->mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(1700000000000001);
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(1600000000000000);
  c.mutable_facts()->set_total_spent_minor(int64_t{1} << 53);
  c.mutable_facts()->set_order_count(3);
  return c;
}

template <typename M>
void RoundTrips(const M& original) {
  std::string json;
  REQUIRE(google::protobuf::util::MessageToJsonString(original, &json).ok());
  M ours, theirs;
  REQUIRE(MergeJson(json, &ours).ok());
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &theirs).ok());
  INFO(json);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(ours, original));
  CHECK(google::protobuf::util::MessageDifferencer::Equals(ours, theirs));
}

TEST_CASE("MergeJson reads what MessageToJsonString wrote", "[json]") {
  RoundTrips(FullCustomer());
  RoundTrips(Customer());
  Order o;
  o.set_order_id("A-1");
  o.set_status(crm::customer::v1::ORDER_STATUS_PAID);
  o.set_total_minor(-5);
  auto* line = o.add_line_items();
  line->set_sku("SKU-1");
  line->set_quantity(int64_t{9007199254740993});  // beyond a double's integers
  line->set_unit_price_minor(1999);
  o.add_discount_codes("SPRING");
  *o.mutable_order_time() = TimeUtil::MicrosecondsToTimestamp(0);
  RoundTrips(o);
  google::protobuf::Struct s;
  (*s.mutable_fields())["moved"].set_number_value(3);
  RoundTrips(s);
}

TEST_CASE("MergeJson accepts the mapping's other spellings", "[json]") {
  Customer c;
  REQUIRE(MergeJson(R"({"given_name": "Ann", "facts": {"orderCount": 4, "totalSpentMinor": "12"},
                        "addresses": [{"kind": 2, "address": {"country": "FR"}}],
                        "email": null, "notAField": {"deep": [1, 2]},
                        "demographics": {"gender": "NO_SUCH_GENDER"}})",
                    &c)
              .ok());
  CHECK(c.given_name() == "Ann");
  CHECK(c.facts().order_count() == 4);
  CHECK(c.facts().total_spent_minor() == 12);
  CHECK(c.addresses(0).kind() == crm::customer::v1::ADDRESS_KIND_SHIPPING);
  CHECK(c.email().empty());
  CHECK(c.demographics().gender() == crm::customer::v1::GENDER_UNSPECIFIED);
}

TEST_CASE("MergeJson names the field that does not fit", "[json]") {
  Customer c;
  auto status = MergeJson(R"({"facts": {"orderCount": "many"}})", &c);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "facts.orderCount: expected an integer");
  status = MergeJson(R"({"addresses": [{}, {"address": {"lines": "not a list"}}]})", &c);
  CHECK(status.message() == "addresses[1].address.lines: expected an array");
  status = MergeJson(R"({"createTime": "yesterday"})", &c);
  CHECK(status.message() == "createTime: expected an RFC 3339 time");
  status = MergeJson(R"({"attributes": {"tier": {"boolValue": "yes"}}})", &c);
  CHECK(status.message() == "attributes.tier.boolValue: expected true or false");
  CHECK(MergeJson("{\"email\": ", &c).message() == "malformed JSON");
  CHECK(MergeJson("[1]", &c).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crm::api
