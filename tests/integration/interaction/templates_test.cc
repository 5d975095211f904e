// Templates over real Postgres with the customer service in-process:
// variables checked when saved, one template per key, channel and locale,
// the customer's locale choosing the variant, an order's and an offer's
// values, HTML escaping in what a real SMTP server receives, SMS segments,
// canned responses, and tenancy.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/interaction/v1/channel_account_service.grpc.pb.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "crm/interaction/v1/template_service.grpc.pb.h"
#include "services/interaction/email_parser.h"
#include "services/interaction/interaction_app.h"
#include "tests/testing/customer_harness.h"
#include "tests/testing/service_harness.h"
#include "tests/testing/smtp_sink.h"

namespace crm::testing {
namespace {

namespace v1 = crm::interaction::v1;
namespace cv1 = crm::customer::v1;

struct Studio {
  CustomerHarness customers{"templates_customers"};
  ServiceHarness h{
      interaction::Definition(), "templates",
      ServiceHarness::Calling("customer", absl::StrCat("127.0.0.1:", customers.runtime().port()))};
  std::unique_ptr<v1::TemplateService::Stub> templates = h.Stub<v1::TemplateService>();
  std::unique_ptr<v1::ConversationService::Stub> conversations = h.Stub<v1::ConversationService>();

  grpc::Status TryCreate(const v1::Template& t, v1::Template* out,
                         const std::string& tenant = "acme") {
    v1::CreateTemplateRequest req;
    *req.mutable_template_() = t;
    return templates->CreateTemplate(ServiceHarness::Ctx(tenant).get(), req, out);
  }

  v1::Template Create(const v1::Template& t) {
    v1::Template out;
    grpc::Status s = TryCreate(t, &out);
    if (!s.ok()) FAIL("CreateTemplate: " << s.error_message());
    return out;
  }
};

v1::Template Shipped(const std::string& locale, const std::string& subject,
                     const std::string& greeting) {
  v1::Template t;
  t.set_key("order_shipped");
  t.set_channel(v1::CHANNEL_EMAIL);
  t.set_locale(locale);
  t.set_subject(subject);
  t.set_text(greeting +
             " {{customer.given_name}}, {{order.id}}: {{order.total}} {{order.currency}}");
  t.set_html("<p>" + greeting +
             " {{customer.given_name}}{{#offer.code}} <b>{{offer.code}}</b>{{/offer.code}}</p>");
  (*t.mutable_fallbacks())["customer.given_name"] = "friend";
  return t;
}

}  // namespace

TEST_CASE("templates: checked, per locale, rendered for a customer and sent",
          "[integration][interaction]") {
  Studio st;
  v1::Template bad = Shipped("en", "Shipped", "Hi");
  bad.set_text("Hi {{customer.password}}");
  v1::Template out;
  grpc::Status refused = st.TryCreate(bad, &out);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(refused.error_message(),
                         "template.text: unknown variable {{customer.password}}"));
  const v1::Template en = st.Create(Shipped("en", "Order {{order.id}} shipped", "Hi"));
  const v1::Template de = st.Create(Shipped("de", "Bestellung {{order.id}} versandt", "Hallo"));
  CHECK(en.locale() == "en");
  CHECK(st.TryCreate(Shipped("de", "x", "y"), &out).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  v1::GetTemplateRequest get;
  get.set_name(de.name());
  CHECK(st.templates->GetTemplate(ServiceHarness::Ctx("globex").get(), get, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  // A customer in Austria with an order.
  cv1::CreateCustomerRequest create;
  create.mutable_customer()->set_email("joerg@example.com");
  create.mutable_customer()->set_given_name("<J\xC3\xB6rg>");
  create.mutable_customer()->set_locale("de-AT");
  cv1::Customer joerg;
  REQUIRE(st.customers.stub().CreateCustomer(ServiceHarness::Ctx().get(), create, &joerg).ok());
  cv1::RecordOrderRequest record;
  record.mutable_order()->set_customer(joerg.name());
  record.mutable_order()->set_order_id("A-1042");
  record.mutable_order()->set_status(cv1::ORDER_STATUS_PAID);
  record.mutable_order()->set_currency_code("EUR");
  record.mutable_order()->set_total_minor(4250);
  cv1::Order order;
  REQUIRE(st.customers.stub().RecordOrder(ServiceHarness::Ctx().get(), record, &order).ok());

  v1::RenderTemplateRequest render;
  render.set_key("order_shipped");
  render.set_channel(v1::CHANNEL_EMAIL);
  render.set_customer(joerg.name());
  render.set_order(order.name());
  (*render.mutable_offer())["code"] = "DANKE-10";
  v1::RenderTemplateResponse rendered;
  grpc::Status rs = st.templates->RenderTemplate(ServiceHarness::Ctx().get(), render, &rendered);
  INFO(rs.error_message());
  REQUIRE(rs.ok());
  CHECK(rendered.template_() == de.name());
  CHECK(rendered.subject() == "Bestellung A-1042 versandt");
  CHECK(rendered.text() == "Hallo <J\xC3\xB6rg>, A-1042: 42.50 EUR");
  CHECK(rendered.html() == "<p>Hallo &lt;J\xC3\xB6rg&gt; <b>DANKE-10</b></p>");
  // Another customer's order is refused.
  const cv1::Customer other = st.customers.NewCustomer("other@example.com");
  render.set_customer(other.name());
  CHECK(st.templates->RenderTemplate(ServiceHarness::Ctx().get(), render, &rendered).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  render.clear_order();
  REQUIRE(st.templates->RenderTemplate(ServiceHarness::Ctx().get(), render, &rendered).ok());
  CHECK(rendered.template_() == en.name());                // no locale: English
  CHECK(absl::StartsWith(rendered.text(), "Hi friend,"));  // the fallback

  // Sent: what arrives is the German variant, escaped in HTML.
  SmtpSink sink;
  auto accounts = st.h.Stub<v1::ChannelAccountService>();
  v1::CreateChannelAccountRequest account;
  account.mutable_account()->set_channel(v1::CHANNEL_EMAIL);
  account.mutable_account()->set_display_name("Shop");
  account.mutable_account()->set_sender("shop@shop.example");
  account.mutable_account()->mutable_smtp()->set_host("127.0.0.1");
  account.mutable_account()->mutable_smtp()->set_port(sink.port());
  account.mutable_account()->mutable_smtp()->set_security(v1::SMTP_SECURITY_NONE);
  v1::ChannelAccount created;
  REQUIRE(accounts->CreateChannelAccount(ServiceHarness::Ctx().get(), account, &created).ok());
  v1::SendMessageRequest send;
  send.set_customer(joerg.name());
  send.set_channel(v1::CHANNEL_EMAIL);
  send.set_purpose(v1::PURPOSE_TRANSACTIONAL);
  send.set_author_kind(v1::AUTHOR_KIND_SYSTEM);
  send.set_template_key("order_shipped");
  send.set_order(order.name());
  v1::SendMessageResponse sent;
  grpc::Status ss = st.conversations->SendMessage(ServiceHarness::Ctx().get(), send, &sent);
  INFO(ss.error_message());
  REQUIRE(ss.ok());
  CHECK(sent.message().text() == "Hallo <J\xC3\xB6rg>, A-1042: 42.50 EUR");
  // Named by key, recorded by the variant it was rendered from.
  CHECK(sent.message().template_() == de.name());
  const auto mail = sink.AwaitMessages(1, absl::Seconds(20));
  REQUIRE(mail.size() == 1);
  v1::ReceiveMessageRequest parsed;
  REQUIRE(interaction::ParseRawEmail(mail[0], &parsed).ok());
  CHECK(absl::StartsWith(parsed.subject(), "Bestellung A-1042 versandt [#"));
  CHECK(parsed.html() == "<p>Hallo &lt;J\xC3\xB6rg&gt;</p>");
  // A template and a text at once: refused.
  send.set_text("hand-written");
  CHECK(st.conversations->SendMessage(ServiceHarness::Ctx().get(), send, &sent).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("SMS templates report their segments, canned responses go by shortcut",
          "[integration][interaction]") {
  Studio st;
  v1::Template sms;
  sms.set_key("delivery_window");
  sms.set_channel(v1::CHANNEL_SMS);
  sms.set_text(
      "Hi {{customer.given_name}}, your parcel arrives today between 10:00 and 12:00. "
      "Reply STOP to opt out.");
  const v1::Template created = st.Create(sms);
  const cv1::Customer ann = st.customers.NewCustomer("ann@example.com");
  v1::RenderTemplateRequest render;
  render.set_template_(created.name());
  render.set_customer(ann.name());
  v1::RenderTemplateResponse rendered;
  REQUIRE(st.templates->RenderTemplate(ServiceHarness::Ctx().get(), render, &rendered).ok());
  CHECK(rendered.sms_encoding() == v1::SMS_ENCODING_GSM_7);
  CHECK(rendered.sms_segments() == 1);
  CHECK(std::find(rendered.empty_variables().begin(), rendered.empty_variables().end(),
                  "customer.given_name") != rendered.empty_variables().end());

  v1::CreateCannedResponseRequest canned;
  canned.mutable_canned_response()->set_shortcut("refund-sent");
  canned.mutable_canned_response()->set_title("Refund sent");
  canned.mutable_canned_response()->set_text(
      "Hi {{customer.given_name}}, your refund is on its way.");
  v1::CannedResponse c;
  REQUIRE(st.templates->CreateCannedResponse(ServiceHarness::Ctx().get(), canned, &c).ok());
  CHECK(st.templates->CreateCannedResponse(ServiceHarness::Ctx().get(), canned, &c).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  canned.mutable_canned_response()->set_shortcut("bad");
  canned.mutable_canned_response()->set_text("{{order.secret}}");
  grpc::Status bad = st.templates->CreateCannedResponse(ServiceHarness::Ctx().get(), canned, &c);
  CHECK(absl::StartsWith(bad.error_message(), "canned_response.text: unknown variable"));
  v1::ListCannedResponsesResponse list;
  REQUIRE(st.templates->ListCannedResponses(ServiceHarness::Ctx().get(), {}, &list).ok());
  REQUIRE(list.canned_responses_size() == 1);
  CHECK(list.canned_responses(0).shortcut() == "refund-sent");
  REQUIRE(st.templates->ListCannedResponses(ServiceHarness::Ctx("globex").get(), {}, &list).ok());
  CHECK(list.canned_responses_size() == 0);
}

}  // namespace crm::testing
