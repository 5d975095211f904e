// Templates without I/O: variables checked at save (including those only
// inside sections), rendering plain and HTML-escaped with fallbacks, the
// locale variant for a customer, and SMS segments.
#include "services/interaction/template_domain.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

namespace crm::interaction {
namespace {

v1::Template Email() {
  v1::Template t;
  t.set_key("order_shipped");
  t.set_channel(v1::CHANNEL_EMAIL);
  t.set_subject("Order {{order.id}} is on its way");
  t.set_text(
      "Hi {{customer.given_name}}, order {{order.id}} ({{order.total}} {{order.currency}}).");
  t.set_html(
      "<p>Hi {{customer.given_name}}{{#offer.code}}, use <b>{{offer.code}}</b>{{/offer.code}}</p>");
  (*t.mutable_fallbacks())["customer.given_name"] = "there";
  return t;
}

}  // namespace

TEST_CASE("a template's variables are checked when it is saved", "[unit][interaction]") {
  CHECK(ValidateTemplate(Email(), "template").ok());
  v1::Template unknown = Email();
  unknown.set_text("Hi {{customer.shoe_size}}");
  const absl::Status s = ValidateTemplate(unknown, "template");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(s.message(), "template.text: unknown variable {{customer.shoe_size}}"));
  // Inside an inverted section too (a pass with every value empty finds it).
  v1::Template hidden = Email();
  hidden.set_html("{{^customer.given_name}}{{customer.secret}}{{/customer.given_name}}");
  CHECK(absl::StrContains(ValidateTemplate(hidden, "template").message(), "customer.secret"));
  v1::Template broken = Email();
  broken.set_text("Hi {{#customer.given_name}}");
  CHECK(absl::StartsWith(ValidateTemplate(broken, "template").message(), "template.text:"));
  v1::Template raw = Email();
  raw.set_html("<p>{{{customer.given_name}}}</p>");
  CHECK(absl::StartsWith(ValidateTemplate(raw, "template").message(), "template.html: unescaped"));
  v1::Template partial = Email();
  partial.set_text("{{> footer}}");
  CHECK(absl::StrContains(ValidateTemplate(partial, "template").message(), "unknown variable"));
  v1::Template sms = Email();
  sms.set_channel(v1::CHANNEL_SMS);
  CHECK(absl::StartsWith(ValidateTemplate(sms, "template").message(), "template.subject"));
  v1::Template attribute = Email();
  attribute.set_text("Size {{customer.attributes.shoe_size}}");
  CHECK(ValidateTemplate(attribute, "template").ok());
  v1::Template fallback = Email();
  (*fallback.mutable_fallbacks())["nope"] = "x";
  CHECK(absl::StrContains(ValidateTemplate(fallback, "template").message(), "fallbacks"));
  v1::Template key = Email();
  key.set_key("Order Shipped");
  CHECK(absl::StartsWith(ValidateTemplate(key, "template").message(), "template.key"));
}

TEST_CASE("rendering: HTML-escaped in HTML, plain elsewhere, fallbacks for empty values",
          "[unit][interaction]") {
  crm::customer::v1::Customer c;
  c.set_name("customers/1");
  c.set_given_name("<Bob & \"Co\">");
  crm::customer::v1::Order o;
  o.set_order_id("1042");
  o.set_total_minor(4250);
  o.set_currency_code("EUR");
  google::protobuf::Map<std::string, std::string> offer;
  offer["code"] = "SPRING-7Q2";
  const auto out = Render(Email(), ValuesOf(c, &o, offer));
  CHECK(out.subject() == "Order 1042 is on its way");
  CHECK(out.text() == "Hi <Bob & \"Co\">, order 1042 (42.50 EUR).");
  CHECK(out.html() == "<p>Hi &lt;Bob &amp; &quot;Co&quot;&gt;, use <b>SPRING-7Q2</b></p>");
  CHECK(out.empty_variables_size() == 0);

  crm::customer::v1::Customer anonymous;
  const auto plain = Render(Email(), ValuesOf(anonymous, nullptr, {}));
  CHECK(absl::StartsWith(plain.text(), "Hi there, order  ("));
  CHECK(plain.html() == "<p>Hi there</p>");  // no offer: the section is left out
  CHECK(std::find(plain.empty_variables().begin(), plain.empty_variables().end(),
                  "customer.given_name") != plain.empty_variables().end());
}

TEST_CASE("the customer's locale picks the variant", "[unit][interaction]") {
  std::vector<v1::Template> variants(3);
  variants[0].set_locale("de");
  variants[1].set_locale("en");
  variants[2].set_locale("pt-BR");
  CHECK(ChooseVariant(variants, "de-AT")->locale() == "de");
  CHECK(ChooseVariant(variants, "pt-BR")->locale() == "pt-BR");
  CHECK(ChooseVariant(variants, "pt-PT")->locale() == "pt-BR");
  CHECK(ChooseVariant(variants, "fr")->locale() == "en");
  CHECK(ChooseVariant(variants, "")->locale() == "en");
  CHECK(ChooseVariant({}, "de") == nullptr);
}

TEST_CASE("SMS segments: GSM-7 and UCS-2, single and concatenated", "[unit][interaction]") {
  v1::SmsEncoding e;
  int n = 0;
  CountSmsSegments(std::string(160, 'a'), &e, &n);
  CHECK(e == v1::SMS_ENCODING_GSM_7);
  CHECK(n == 1);
  CountSmsSegments(std::string(161, 'a'), &e, &n);
  CHECK(n == 2);
  CountSmsSegments(std::string(306, 'a'), &e, &n);
  CHECK(n == 2);
  CountSmsSegments(std::string(307, 'a'), &e, &n);
  CHECK(n == 3);
  std::string euros;
  for (int i = 0; i < 80; ++i) euros += "\xE2\x82\xAC";  // € counts twice in GSM-7
  CountSmsSegments(euros, &e, &n);
  CHECK(e == v1::SMS_ENCODING_GSM_7);
  CHECK(n == 1);
  CountSmsSegments(euros + "a", &e, &n);
  CHECK(n == 2);
  CountSmsSegments(
      "Gr\xC3\xBC\xC3\x9F"
      "e",
      &e, &n);  // ü and ß are GSM-7
  CHECK(e == v1::SMS_ENCODING_GSM_7);
  std::string emoji = "Hi \xF0\x9F\x98\x80";  // an emoji: UCS-2
  CountSmsSegments(emoji, &e, &n);
  CHECK(e == v1::SMS_ENCODING_UCS_2);
  CHECK(n == 1);
  CountSmsSegments(std::string(71, 'a') + "\xC4\x8D", &e, &n);  // č is not GSM-7
  CHECK(e == v1::SMS_ENCODING_UCS_2);
  CHECK(n == 2);
  CountSmsSegments("", &e, &n);
  CHECK(n == 0);
}

}  // namespace crm::interaction
