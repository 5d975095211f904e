// Identities, stitching, duplicate candidates, merge preview, merge and
// unmerge, against a real Postgres.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tests/testing/customer_harness.h"

namespace crm::testing {
namespace {

namespace v1 = crm::customer::v1;
using v1::Customer;

v1::Identity Id(v1::IdentityKind kind, const std::string& value, const std::string& source = "") {
  v1::Identity identity;
  identity.set_kind(kind);
  identity.set_source(source);
  identity.set_value(value);
  return identity;
}

grpc::Status AddIdentity(CustomerHarness& h, const Customer& c, const v1::Identity& identity,
                         Customer* out) {
  v1::AddIdentityRequest req;
  req.set_name(c.name());
  *req.mutable_identity() = identity;
  return h.stub().AddIdentity(CustomerHarness::Ctx().get(), req, out);
}

Customer Get(CustomerHarness& h, const std::string& name) {
  v1::GetCustomerRequest req;
  req.set_name(name);
  Customer out;
  REQUIRE(h.stub().GetCustomer(CustomerHarness::Ctx().get(), req, &out).ok());
  return out;
}

v1::Order Paid(const std::string& order_id, int64_t total) {
  v1::Order o;
  o.set_order_id(order_id);
  o.set_status(v1::ORDER_STATUS_PAID);
  o.set_currency_code("GBP");
  o.set_total_minor(total);
  return o;
}

v1::TrackEventsResponse Track(CustomerHarness& h, const std::vector<v1::BehaviorEvent>& events) {
  v1::TrackEventsRequest req;
  for (const auto& e : events) *req.add_events() = e;
  v1::TrackEventsResponse out;
  REQUIRE(h.stub().TrackEvents(CustomerHarness::Ctx().get(), req, &out).ok());
  return out;
}

v1::BehaviorEvent AnonymousView(const std::string& event_id, const std::string& cookie) {
  v1::BehaviorEvent e;
  e.set_event_id(event_id);
  e.set_anonymous_id(cookie);
  e.set_type(v1::BEHAVIOR_EVENT_TYPE_PRODUCT_VIEW);
  return e;
}

int Count(CustomerHarness& h, const std::string& sql) {
  pqxx::connection conn(h.db_url());
  pqxx::nontransaction tx(conn);
  return tx.exec(sql)[0][0].as<int>();
}

// What a merge preview and the merge itself must agree on: everything but
// the time of the write.
Customer WithoutWriteTimes(Customer c) {
  c.clear_update_time();
  for (auto& identity : *c.mutable_identities()) identity.clear_create_time();
  return c;
}

TEST_CASE("identities attach, conflict, detach, and name customers for orders and events",
          "[integration][identity]") {
  CustomerHarness h("identity");
  Customer ann = h.NewCustomer("ann@example.com");
  Customer bob = h.NewCustomer("bob@example.com");
  Customer out;

  REQUIRE(AddIdentity(h, ann, Id(v1::IDENTITY_KIND_EMAIL, " Ann.Work@Example.COM "), &out).ok());
  REQUIRE(AddIdentity(h, ann, Id(v1::IDENTITY_KIND_PHONE, "+44 (7700) 900-123"), &out).ok());
  REQUIRE(AddIdentity(h, ann, Id(v1::IDENTITY_KIND_EXTERNAL_ID, "sh-991", "shopify"), &out).ok());
  REQUIRE(out.identities_size() == 3);
  CHECK(out.identities(0).value() == "ann.work@example.com");
  CHECK(out.identities(1).value() == "+447700900123");
  CHECK(out.identities(2).source() == "shopify");
  // Again: a no-op; on another customer: ALREADY_EXISTS naming the owner.
  REQUIRE(AddIdentity(h, ann, Id(v1::IDENTITY_KIND_EMAIL, "ann.work@example.com"), &out).ok());
  CHECK(out.identities_size() == 3);
  grpc::Status s = AddIdentity(h, bob, Id(v1::IDENTITY_KIND_EMAIL, "ANN.WORK@example.com"), &out);
  CHECK(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(s.error_message().find(ann.name()) != std::string::npos);
  // Bad input names the field.
  s = AddIdentity(h, bob, Id(v1::IDENTITY_KIND_EXTERNAL_ID, "x"), &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().rfind("identity.source", 0) == 0);
  s = AddIdentity(h, bob, Id(v1::IDENTITY_KIND_PHONE, "12345"), &out);
  CHECK(s.error_message().rfind("identity.value", 0) == 0);
  s = AddIdentity(h, bob, Id(v1::IDENTITY_KIND_UNSPECIFIED, "x"), &out);
  CHECK(s.error_message().rfind("identity.kind", 0) == 0);

  // Orders by any identifier: an identity, the own e-mail, the shop's id.
  v1::RecordOrderRequest order;
  *order.mutable_order() = Paid("o-1", 1000);
  *order.mutable_order()->mutable_customer_identity() =
      Id(v1::IDENTITY_KIND_EXTERNAL_ID, "sh-991", "shopify");
  v1::Order recorded;
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());
  CHECK(recorded.customer() == ann.name());
  *order.mutable_order() = Paid("o-2", 500);
  *order.mutable_order()->mutable_customer_identity() =
      Id(v1::IDENTITY_KIND_EMAIL, "BOB@example.com");
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());
  CHECK(recorded.customer() == bob.name());
  *order.mutable_order() = Paid("o-3", 500);
  *order.mutable_order()->mutable_customer_identity() =
      Id(v1::IDENTITY_KIND_EMAIL, "nobody@example.com");
  s = h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().rfind("order.customer_identity", 0) == 0);
  order.mutable_order()->set_customer(ann.name());
  s = h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // Events by identity; an unknown identifier is rejected by index.
  v1::BehaviorEvent by_phone;
  by_phone.set_event_id("e-1");
  *by_phone.mutable_identity() = Id(v1::IDENTITY_KIND_PHONE, "+447700900123");
  by_phone.set_type(v1::BEHAVIOR_EVENT_TYPE_PAGE_VIEW);
  v1::BehaviorEvent unknown = by_phone;
  unknown.set_event_id("e-2");
  *unknown.mutable_identity() = Id(v1::IDENTITY_KIND_PHONE, "+447700900999");
  auto tracked = Track(h, {by_phone, unknown});
  CHECK(tracked.accepted() == 1);
  REQUIRE(tracked.rejected_size() == 1);
  CHECK(tracked.rejected(0).index() == 1);
  CHECK(Count(h, "SELECT count(*) FROM customer.behavior_events WHERE customer_id = '" +
                     ann.name().substr(10) + "'") == 1);

  // Detach: then the identifier no longer names Ann.
  v1::RemoveIdentityRequest remove;
  remove.set_name(ann.name());
  *remove.mutable_identity() = Id(v1::IDENTITY_KIND_EXTERNAL_ID, "sh-991", "shopify");
  REQUIRE(h.stub().RemoveIdentity(CustomerHarness::Ctx().get(), remove, &out).ok());
  CHECK(out.identities_size() == 2);
  CHECK(h.stub().RemoveIdentity(CustomerHarness::Ctx().get(), remove, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  // Another tenant sees none of it.
  v1::AddIdentityRequest foreign;
  foreign.set_name(ann.name());
  *foreign.mutable_identity() = Id(v1::IDENTITY_KIND_EMAIL, "x@example.com");
  CHECK(h.stub().AddIdentity(CustomerHarness::Ctx("globex").get(), foreign, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("an anonymous visitor who identifies is stitched into the known profile",
          "[integration][identity]") {
  CustomerHarness h("stitch");
  Customer known = h.NewCustomer("kim@example.com");

  // Two first events of one visitor start one anonymous profile.
  auto tracked = Track(h, {AnonymousView("v-1", "cookie-1"), AnonymousView("v-2", "cookie-1")});
  CHECK(tracked.accepted() == 2);
  CHECK(Count(h, "SELECT count(*) FROM customer.customers") == 2);

  v1::IdentifyCustomerRequest identify;
  identify.set_anonymous_id("cookie-1");
  *identify.add_identities() = Id(v1::IDENTITY_KIND_EMAIL, "KIM@example.com");
  v1::IdentifyCustomerResponse identified;
  REQUIRE(h.stub().IdentifyCustomer(CustomerHarness::Ctx().get(), identify, &identified).ok());
  CHECK(identified.customer().name() == known.name());
  CHECK_FALSE(identified.created());
  CHECK(identified.merge().moved_events() == 2);
  CHECK(Count(h, "SELECT count(*) FROM customer.behavior_events WHERE customer_id = '" +
                     known.name().substr(10) + "'") == 2);
  // Later events of the cookie land on the known customer directly.
  Track(h, {AnonymousView("v-3", "cookie-1")});
  CHECK(Count(h, "SELECT count(*) FROM customer.behavior_events WHERE customer_id = '" +
                     known.name().substr(10) + "'") == 3);
  CHECK(Count(h, "SELECT count(*) FROM customer.customers WHERE delete_time IS NULL") == 1);

  // A new visitor who signs up: the anonymous profile itself becomes known.
  Track(h, {AnonymousView("w-1", "cookie-2")});
  identify.set_anonymous_id("cookie-2");
  *identify.mutable_identities(0) = Id(v1::IDENTITY_KIND_EMAIL, "lee@example.com");
  REQUIRE(h.stub().IdentifyCustomer(CustomerHarness::Ctx().get(), identify, &identified).ok());
  CHECK_FALSE(identified.created());
  CHECK(identified.customer().email() == "lee@example.com");
  CHECK_FALSE(identified.has_merge());
  const std::string lee = identified.customer().name();

  // Someone else on Kim's device: Kim keeps the cookie, nobody is merged.
  identify.set_anonymous_id("cookie-1");
  *identify.mutable_identities(0) = Id(v1::IDENTITY_KIND_EMAIL, "max@example.com");
  REQUIRE(h.stub().IdentifyCustomer(CustomerHarness::Ctx().get(), identify, &identified).ok());
  CHECK(identified.created());
  CHECK_FALSE(identified.has_merge());
  CHECK(identified.customer().email() == "max@example.com");
  Track(h, {AnonymousView("v-4", "cookie-1")});
  CHECK(Count(h, "SELECT count(*) FROM customer.behavior_events WHERE customer_id = '" +
                     known.name().substr(10) + "'") == 4);

  // Two identifiers of two different customers: refused.
  identify.clear_anonymous_id();
  *identify.mutable_identities(0) = Id(v1::IDENTITY_KIND_EMAIL, "kim@example.com");
  *identify.add_identities() = Id(v1::IDENTITY_KIND_EMAIL, "lee@example.com");
  grpc::Status s = h.stub().IdentifyCustomer(CustomerHarness::Ctx().get(), identify, &identified);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.error_message().find(lee) != std::string::npos);
  identify.clear_identities();
  CHECK(
      h.stub().IdentifyCustomer(CustomerHarness::Ctx().get(), identify, &identified).error_code() ==
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("merge preview equals the merge, survivorship rules hold, unmerge restores both",
          "[integration][merge]") {
  CustomerHarness h("merge");
  v1::CreateCustomerRequest create;
  Customer* c = create.mutable_customer();
  c->set_external_id("shop-1");
  c->set_email("pat@example.com");
  c->set_given_name("Pat");
  c->set_country("GB");
  c->add_tags("vip");
  (*c->mutable_attributes())["size"].set_string_value("M");
  Customer survivor;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &survivor).ok());
  create.Clear();
  c = create.mutable_customer();
  c->set_external_id("shop-2");
  c->set_email("patricia.old@example.com");
  c->set_phone("+447700900555");
  c->set_given_name("Patricia");
  c->set_family_name("Jones");
  c->add_tags("newsletter");
  (*c->mutable_attributes())["size"].set_string_value("L");
  (*c->mutable_attributes())["shoe"].set_number_value(39);
  auto* address = c->add_addresses();
  address->set_kind(v1::ADDRESS_KIND_SHIPPING);
  address->mutable_address()->add_lines("1 High St");
  address->mutable_address()->set_city("Leeds");
  address->mutable_address()->set_country("GB");
  Customer merged;
  REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx().get(), create, &merged).ok());

  // The merged customer has an order, a consent, an event and an identity.
  v1::RecordOrderRequest order;
  *order.mutable_order() = Paid("m-1", 2500);
  order.mutable_order()->set_customer(merged.name());
  v1::Order recorded;
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());
  *order.mutable_order() = Paid("s-1", 1000);
  order.mutable_order()->set_customer(survivor.name());
  REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());
  v1::RecordConsentRequest consent;
  consent.set_name(merged.name());
  consent.mutable_consent()->set_channel(v1::CONSENT_CHANNEL_EMAIL);
  consent.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_MARKETING);
  consent.mutable_consent()->set_status(v1::CONSENT_STATUS_GRANTED);
  consent.mutable_consent()->set_source("checkout");
  consent.mutable_consent()->set_text_version("v1");
  v1::Consent granted;
  REQUIRE(h.stub().RecordConsent(CustomerHarness::Ctx().get(), consent, &granted).ok());
  v1::BehaviorEvent view;
  view.set_event_id("mv-1");
  view.set_customer(merged.name());
  view.set_type(v1::BEHAVIOR_EVENT_TYPE_PAGE_VIEW);
  Track(h, {view});
  REQUIRE(AddIdentity(h, merged, Id(v1::IDENTITY_KIND_ANONYMOUS_ID, "dev-9"), &merged).ok());
  survivor = Get(h, survivor.name());
  merged = Get(h, merged.name());

  v1::MergeCustomersRequest req;
  req.set_survivor(survivor.name());
  req.set_merged(merged.name());
  auto* rule = req.add_rules();
  rule->set_field("email");
  rule->set_strategy(v1::MERGE_STRATEGY_MOST_RECENT);  // the merged one was updated last
  rule = req.add_rules();
  rule->set_field("given_name");
  rule->set_strategy(v1::MERGE_STRATEGY_MOST_COMPLETE);  // "Patricia" over "Pat"
  rule = req.add_rules();
  rule->set_field("country");
  rule->set_strategy(v1::MERGE_STRATEGY_EXPLICIT);
  req.mutable_explicit_values()->set_country("IE");
  rule = req.add_rules();
  rule->set_field("phone");
  rule->set_strategy(v1::MERGE_STRATEGY_SURVIVOR);  // stays empty

  SECTION("bad rules name the field") {
    v1::MergeCustomersRequest bad = req;
    bad.mutable_rules(0)->set_field("tags");
    v1::MergeCustomersResponse out;
    grpc::Status s = h.stub().MergeCustomers(CustomerHarness::Ctx().get(), bad, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().rfind("rules[0].field", 0) == 0);
    bad = req;
    bad.set_merged(survivor.name());
    CHECK(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), bad, &out).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    bad = req;
    bad.set_merged("customers/00000000-0000-0000-0000-000000000001");
    CHECK(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), bad, &out).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    CHECK(h.stub().MergeCustomers(CustomerHarness::Ctx("globex").get(), req, &out).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }

  SECTION("preview, merge, unmerge") {
    v1::MergeCustomersRequest preview_req = req;
    preview_req.set_validate_only(true);
    v1::MergeCustomersResponse preview;
    REQUIRE(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), preview_req, &preview).ok());
    CHECK(preview.merge().name().empty());
    // Nothing happened.
    CHECK(Get(h, merged.name()).delete_time().seconds() == 0);
    CHECK(Count(h, "SELECT count(*) FROM customer.merges") == 0);

    v1::MergeCustomersResponse result;
    REQUIRE(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), req, &result).ok());
    INFO(preview.customer().DebugString() << "\n---\n" << result.customer().DebugString());
    CHECK(google::protobuf::util::MessageDifferencer::Equals(WithoutWriteTimes(preview.customer()),
                                                             WithoutWriteTimes(result.customer())));
    const Customer& after = result.customer();
    CHECK(after.email() == "patricia.old@example.com");
    CHECK(after.given_name() == "Patricia");
    CHECK(after.family_name() == "Jones");  // blank filled by default
    CHECK(after.country() == "IE");
    CHECK(after.phone().empty());
    CHECK(after.external_id() == "shop-1");
    CHECK(after.tags_size() == 2);
    CHECK(after.attributes().at("size").string_value() == "M");
    CHECK(after.attributes().at("shoe").number_value() == 39);
    CHECK(after.addresses_size() == 1);
    CHECK(after.facts().order_count() == 2);
    CHECK(after.facts().total_spent_minor() == 3500);
    // Moved identity, plus the displaced e-mails, phone and shop id.
    std::set<std::string> values;
    for (const auto& identity : after.identities()) values.insert(identity.value());
    CHECK(values == std::set<std::string>{"dev-9", "pat@example.com", "+447700900555", "shop-2"});
    CHECK(result.merge().moved_orders() == 1);
    CHECK(result.merge().moved_events() == 1);
    CHECK(result.merge().moved_consents() == 1);
    const Customer gone = Get(h, merged.name());
    CHECK(gone.merged_into() == survivor.name());
    CHECK(gone.has_delete_time());
    CHECK(Count(h, "SELECT count(*) FROM customer.outbox WHERE type = 'customer.merged'") == 1);
    // The merged customer's shop id now names the survivor.
    *order.mutable_order() = Paid("m-2", 100);
    order.mutable_order()->set_customer_external_id("shop-2");
    REQUIRE(h.stub().RecordOrder(CustomerHarness::Ctx().get(), order, &recorded).ok());
    CHECK(recorded.customer() == survivor.name());
    // A merged customer cannot be merged again.
    v1::MergeCustomersResponse again;
    CHECK(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), req, &again).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);

    // After the merge someone corrects the survivor's family name: the
    // unmerge keeps that, and gives back everything else.
    v1::UpdateCustomerRequest update;
    update.mutable_customer()->set_name(survivor.name());
    update.mutable_customer()->set_family_name("Jones-Smith");
    update.mutable_update_mask()->add_paths("family_name");
    Customer updated;
    REQUIRE(h.stub().UpdateCustomer(CustomerHarness::Ctx().get(), update, &updated).ok());

    v1::UnmergeCustomerRequest unmerge;
    unmerge.set_name(result.merge().name());
    v1::UnmergeCustomerResponse undone;
    REQUIRE(h.stub().UnmergeCustomer(CustomerHarness::Ctx().get(), unmerge, &undone).ok());
    const Customer& back = undone.restored();
    CHECK_FALSE(back.has_delete_time());
    CHECK(back.merged_into().empty());
    for (const char* field : {"external_id", "email", "phone", "given_name", "family_name",
                              "country", "tags", "attributes", "addresses", "identities"}) {
      INFO(field);
      const auto* f = Customer::descriptor()->FindFieldByName(field);
      google::protobuf::util::MessageDifferencer d;
      std::vector<const google::protobuf::FieldDescriptor*> only = {f};
      Customer a = WithoutWriteTimes(back), b = WithoutWriteTimes(merged);
      CHECK(d.CompareWithFields(a, b, only, only));
    }
    const Customer& s = undone.survivor();
    CHECK(s.email() == "pat@example.com");
    CHECK(s.given_name() == "Pat");
    CHECK(s.country() == "GB");
    CHECK(s.family_name() == "Jones-Smith");  // changed after the merge: kept
    CHECK(s.identities_size() == 0);
    CHECK(s.tags_size() == 1);
    CHECK(s.facts().order_count() == 2);  // s-1 and m-2 (recorded on the survivor after)
    CHECK(back.facts().order_count() == 1);
    CHECK(back.facts().total_spent_minor() == 2500);
    CHECK(Count(h, "SELECT count(*) FROM customer.consent_records WHERE customer_id = '" +
                       merged.name().substr(10) + "'") == 1);
    CHECK(Count(h, "SELECT count(*) FROM customer.behavior_events WHERE customer_id = '" +
                       merged.name().substr(10) + "'") == 1);
    CHECK(h.stub().UnmergeCustomer(CustomerHarness::Ctx().get(), unmerge, &undone).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);

    // Past the retention window a merge stays.
    REQUIRE(h.stub().MergeCustomers(CustomerHarness::Ctx().get(), req, &result).ok());
    {
      pqxx::connection conn(h.db_url());
      pqxx::nontransaction tx(conn);
      tx.exec(
          "UPDATE customer.merges SET expire_time = now() - interval '1 second' WHERE "
          "unmerge_time IS NULL");
    }
    unmerge.set_name(result.merge().name());
    grpc::Status st = h.stub().UnmergeCustomer(CustomerHarness::Ctx().get(), unmerge, &undone);
    CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(st.error_message().find("retention") != std::string::npos);
  }
}

TEST_CASE("duplicate candidates: e-mail, phone, fuzzy name at one address, paged, per tenant",
          "[integration][duplicates]") {
  CustomerHarness h("duplicates");
  auto create = [&](const std::string& tenant, const std::string& given, const std::string& family,
                    const std::string& email, const std::string& phone, const std::string& line,
                    const std::string& postal) {
    v1::CreateCustomerRequest req;
    Customer* c = req.mutable_customer();
    c->set_given_name(given);
    c->set_family_name(family);
    c->set_email(email);
    c->set_phone(phone);
    if (!postal.empty()) {
      auto* a = c->add_addresses();
      a->set_kind(v1::ADDRESS_KIND_SHIPPING);
      a->mutable_address()->add_lines(line);
      a->mutable_address()->set_postal_code(postal);
      a->mutable_address()->set_country("GB");
    }
    Customer out;
    REQUIRE(h.stub().CreateCustomer(CustomerHarness::Ctx(tenant).get(), req, &out).ok());
    return out.name();
  };
  const auto a1 =
      create("acme", "Jonathan", "Smith", "jon@example.com", "", "12 Baker Street", "NW1 6XE");
  const auto a2 = create("acme", "Jonathon", "Smith", "", "", "12 Baker St", "nw16xe");
  const auto b1 = create("acme", "Amy", "Li", "AMY@example.com", "+447700900001", "", "");
  const auto b2 = create("acme", "A", "Li", "amy@example.com", "+447700900001", "", "");
  create("acme", "Zoe", "Brown", "zoe@example.com", "", "12 Baker Street", "NW1 6XE");
  const auto c1 = create("acme", "Carl", "Ng", "carl@example.com", "", "", "");
  const auto c2 = create("acme", "Carlos", "Nunez", "carlos@example.com", "", "", "");
  Customer with_identity;
  REQUIRE(
      AddIdentity(h, Get(h, c2), Id(v1::IDENTITY_KIND_EMAIL, "carl@example.com"), &with_identity)
          .ok());
  create("globex", "Jonathan", "Smith", "jon@example.com", "", "12 Baker Street", "NW1 6XE");

  v1::ListDuplicateCandidatesRequest req;
  req.set_page_size(1);
  std::vector<v1::DuplicateCandidate> all;
  v1::ListDuplicateCandidatesResponse page;
  REQUIRE(h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), req, &page).ok());
  CHECK(page.total_size() == 3);
  for (;;) {
    for (const auto& c : page.candidates()) all.push_back(c);
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
    REQUIRE(h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), req, &page).ok());
  }
  REQUIRE(all.size() == 3);
  auto pair_is = [](const v1::DuplicateCandidate& c, const std::string& x, const std::string& y) {
    return (c.customer() == x && c.other() == y) || (c.customer() == y && c.other() == x);
  };
  // Best first: e-mail and phone together, then e-mail, then the fuzzy pair.
  CHECK(pair_is(all[0], b1, b2));
  CHECK(all[0].reasons_size() == 2);
  CHECK(all[0].score() > all[1].score());
  CHECK(pair_is(all[1], c1, c2));
  CHECK(pair_is(all[2], a1, a2));
  CHECK(all[2].reasons(0).rfind("name+address", 0) == 0);
  CHECK(all[2].score() >= 0.5);

  // A higher bar leaves out the fuzzy pair; a token with another bar is refused.
  v1::ListDuplicateCandidatesRequest strict;
  strict.set_min_score(0.85);
  REQUIRE(h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), strict, &page).ok());
  CHECK(page.total_size() == 2);
  strict.set_page_token(req.page_token());
  CHECK(
      h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), strict, &page).error_code() ==
      grpc::StatusCode::INVALID_ARGUMENT);
  strict.clear_page_token();
  strict.set_min_score(1.5);
  CHECK(
      h.stub().ListDuplicateCandidates(CustomerHarness::Ctx().get(), strict, &page).error_code() ==
      grpc::StatusCode::INVALID_ARGUMENT);

  // The other tenant has one lone Jonathan: no pairs.
  v1::ListDuplicateCandidatesRequest other;
  REQUIRE(
      h.stub().ListDuplicateCandidates(CustomerHarness::Ctx("globex").get(), other, &page).ok());
  CHECK(page.candidates_size() == 0);
}

}  // namespace
}  // namespace crm::testing
