#include "services/interaction/template_domain.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <kainjow/mustache.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"

namespace crm::interaction {
namespace {

namespace mustache = kainjow::mustache;
namespace cv1 = crm::customer::v1;

const std::set<std::string>& FixedVariables() {
  static const auto* names = new std::set<std::string>{
      "customer.name",  "customer.given_name", "customer.family_name", "customer.email",
      "customer.phone", "customer.locale",     "customer.country",     "order.id",
      "order.total",    "order.currency",      "order.status",         "order.date",
      "offer.code",     "offer.description",   "offer.discount",       "offer.expire_date"};
  return *names;
}

bool IsKeyToken(absl::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A Mustache context that answers every name with the same value and
// records what was asked: rendered once with a true value and once with a
// false one, a template shows every variable it can use.
class RecordingContext : public mustache::basic_context<std::string> {
 public:
  RecordingContext(bool truthy, std::set<std::string>* names)
      : value_(truthy ? mustache::data("x") : mustache::data(false)), names_(names) {}
  void push(const mustache::data*) override {}
  void pop() override {}
  const mustache::data* get(const std::string& name) const override {
    if (name != ".") names_->insert(name);
    return &value_;
  }
  const mustache::data* get_partial(const std::string& name) const override {
    names_->insert("> " + name);  // partials are not variables: refused
    return nullptr;
  }

 private:
  mustache::data value_;
  std::set<std::string>* names_;
};

// The values of one rendering, by full variable name; empty values are
// false in sections and take their fallback in variables.
class ValuesContext : public mustache::basic_context<std::string> {
 public:
  ValuesContext(const TemplateValues& values,
                const google::protobuf::Map<std::string, std::string>& fallbacks,
                std::set<std::string>* empty)
      : values_(values), fallbacks_(fallbacks), empty_(empty) {}
  void push(const mustache::data* data) override { stack_.push_back(data); }
  void pop() override {
    if (!stack_.empty()) stack_.pop_back();
  }
  const mustache::data* get(const std::string& name) const override {
    if (name == ".") return stack_.empty() ? nullptr : stack_.back();
    const auto it = values_.find(name);
    const std::string value = it == values_.end() ? "" : it->second;
    if (!value.empty()) return &held_.emplace_back(value);
    empty_->insert(name);
    const auto fallback = fallbacks_.find(name);
    if (fallback != fallbacks_.end() && !fallback->second.empty()) {
      return &held_.emplace_back(fallback->second);
    }
    return &held_.emplace_back(false);
  }
  const mustache::data* get_partial(const std::string&) const override { return nullptr; }

 private:
  const TemplateValues& values_;
  const google::protobuf::Map<std::string, std::string>& fallbacks_;
  std::set<std::string>* empty_;
  std::vector<const mustache::data*> stack_;
  mutable std::deque<mustache::data> held_;
};

std::string RenderWith(const std::string& text, const TemplateValues& values,
                       const google::protobuf::Map<std::string, std::string>& fallbacks, bool html,
                       std::set<std::string>* empty) {
  if (text.empty()) return "";
  mustache::mustache tmpl(text);
  if (!html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  ValuesContext ctx(values, fallbacks, empty);
  return tmpl.render(ctx);
}

// GSM 03.38: the basic set, and the extension set whose characters take two
// septets. As UTF-8 strings.
const std::set<std::string>& GsmBasic() {
  static const auto* set = [] {
    auto* s = new std::set<std::string>;
    const std::string ascii =
        "@$\n\r "
        "_!\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (char c : ascii) s->insert(std::string(1, c));
    for (const char* c :
         {"\xC2\xA3", "\xC2\xA5", "\xC3\xA8", "\xC3\xA9", "\xC3\xB9", "\xC3\xAC", "\xC3\xB2",
          "\xC3\x87", "\xC3\x98", "\xC3\xB8", "\xC3\x85", "\xC3\xA5", "\xCE\x94", "\xCE\xA6",
          "\xCE\x93", "\xCE\x9B", "\xCE\xA9", "\xCE\xA0", "\xCE\xA8", "\xCE\xA3", "\xCE\x98",
          "\xCE\x9E", "\xC3\x86", "\xC3\xA6", "\xC3\x9F", "\xC3\x89", "\xC2\xA4", "\xC2\xA1",
          "\xC3\x84", "\xC3\x96", "\xC3\x91", "\xC3\x9C", "\xC2\xA7", "\xC2\xBF", "\xC3\xA4",
          "\xC3\xB6", "\xC3\xB1", "\xC3\xBC", "\xC3\xA0"}) {
      s->insert(c);
    }
    return s;
  }();
  return *set;
}

const std::set<std::string>& GsmExtension() {
  static const auto* set =
      new std::set<std::string>{"^", "{", "}", "\\", "[", "~", "]", "|", "\xE2\x82\xAC", "\x0C"};
  return *set;
}

std::string Money(int64_t minor) {
  return absl::StrFormat("%s%d.%02d", minor < 0 ? "-" : "", std::abs(minor) / 100,
                         std::abs(minor) % 100);
}

}  // namespace

bool IsTemplateVariable(absl::string_view name) {
  if (FixedVariables().count(std::string(name)) > 0) return true;
  absl::string_view key = name;
  if (!absl::ConsumePrefix(&key, "customer.attributes.")) return false;
  return !key.empty() && key.size() <= 64 &&
         absl::ascii_islower(static_cast<unsigned char>(key[0])) &&
         std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

absl::StatusOr<std::vector<std::string>> VariablesOf(const std::string& text,
                                                     absl::string_view field) {
  mustache::mustache tmpl(text);
  if (!tmpl.is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", tmpl.error_message()));
  }
  std::set<std::string> names;
  for (bool truthy : {true, false}) {
    mustache::mustache pass(text);
    RecordingContext ctx(truthy, &names);
    (void)pass.render(ctx);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::Status ValidateTemplate(const v1::Template& t, absl::string_view field) {
  const auto at = [field](absl::string_view f) { return absl::StrCat(field, ".", f); };
  if (!IsKeyToken(t.key(), 64)) {
    return absl::InvalidArgumentError(at("key: 1 to 64 characters of [a-z0-9_-]"));
  }
  CRM_RETURN_IF_ERROR(api::RequiredEnum(at("channel"), t.channel()));
  if (!t.locale().empty()) CRM_RETURN_IF_ERROR(api::CheckLocale(at("locale"), t.locale()));
  CRM_RETURN_IF_ERROR(api::CheckText(at("description"), t.description(), 500));
  if (t.text().empty()) return absl::InvalidArgumentError(at("text: required"));
  if (t.text().size() > 100000 || !api::IsValidUtf8(t.text())) {
    return absl::InvalidArgumentError(at("text: valid UTF-8, at most 100,000 bytes"));
  }
  const bool email = t.channel() == v1::CHANNEL_EMAIL;
  if (!email && (!t.subject().empty() || !t.html().empty())) {
    return absl::InvalidArgumentError(
        at(t.subject().empty() ? "html: e-mail only" : "subject: e-mail only"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(at("subject"), t.subject(), 998));
  if (t.html().size() > 1000000 || !api::IsValidUtf8(t.html())) {
    return absl::InvalidArgumentError(at("html: valid UTF-8, at most 1,000,000 bytes"));
  }
  if (absl::StrContains(t.html(), "{{{") || absl::StrContains(t.html(), "{{&")) {
    return absl::InvalidArgumentError(
        at("html: unescaped variables ({{{ }}} or {{& }}) are not allowed: values are "
           "HTML-escaped"));
  }
  if (t.fallbacks_size() > 50) return absl::InvalidArgumentError(at("fallbacks: at most 50"));
  for (const auto& [name, value] : t.fallbacks()) {
    if (!IsTemplateVariable(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at("fallbacks"), "[\"", name, "\"]: no such variable"));
    }
    CRM_RETURN_IF_ERROR(
        api::CheckText(absl::StrCat(at("fallbacks"), "[\"", name, "\"]"), value, 200));
  }
  for (const auto& [part, text] :
       {std::pair<const char*, const std::string*>{"subject", &t.subject()},
        {"text", &t.text()},
        {"html", &t.html()}}) {
    CRM_ASSIGN_OR_RETURN(std::vector<std::string> names, VariablesOf(*text, at(part)));
    for (const std::string& name : names) {
      if (!IsTemplateVariable(name)) {
        return absl::InvalidArgumentError(absl::StrCat(
            at(part), ": unknown variable {{", name,
            "}} (customer.*, customer.attributes.<key>, order.*, offer.*: see Template)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCannedResponse(const v1::CannedResponse& c) {
  if (!IsKeyToken(c.shortcut(), 32)) {
    return absl::InvalidArgumentError("canned_response.shortcut: 1 to 32 characters of [a-z0-9_-]");
  }
  if (c.title().empty()) return absl::InvalidArgumentError("canned_response.title: required");
  CRM_RETURN_IF_ERROR(api::CheckText("canned_response.title", c.title(), 200));
  if (c.text().empty()) return absl::InvalidArgumentError("canned_response.text: required");
  if (c.text().size() > 100000 || !api::IsValidUtf8(c.text())) {
    return absl::InvalidArgumentError("canned_response.text: valid UTF-8, at most 100,000 bytes");
  }
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> names,
                       VariablesOf(c.text(), "canned_response.text"));
  for (const std::string& name : names) {
    if (!IsTemplateVariable(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("canned_response.text: unknown variable {{", name, "}}"));
    }
  }
  return absl::OkStatus();
}

TemplateValues ValuesOf(const cv1::Customer& c, const cv1::Order* order,
                        const google::protobuf::Map<std::string, std::string>& offer) {
  TemplateValues v = {{"customer.name", c.name()},
                      {"customer.given_name", c.given_name()},
                      {"customer.family_name", c.family_name()},
                      {"customer.email", c.email()},
                      {"customer.phone", c.phone()},
                      {"customer.locale", c.locale()},
                      {"customer.country", c.country()}};
  for (const auto& [key, value] : c.attributes()) {
    std::string text;
    switch (value.kind_case()) {
      case cv1::AttributeValue::kStringValue:
        text = value.string_value();
        break;
      case cv1::AttributeValue::kNumberValue:
        text = absl::StrCat(value.number_value());
        break;
      case cv1::AttributeValue::kBoolValue:
        text = value.bool_value() ? "true" : "false";
        break;
      case cv1::AttributeValue::kTimestampValue:
        text = google::protobuf::util::TimeUtil::ToString(value.timestamp_value()).substr(0, 10);
        break;
      default:
        break;
    }
    v[absl::StrCat("customer.attributes.", key)] = text;
  }
  if (order != nullptr) {
    v["order.id"] = order->order_id();
    v["order.total"] = Money(order->total_minor());
    v["order.currency"] = order->currency_code();
    v["order.status"] = absl::AsciiStrToLower(api::EnumText(order->status()));
    v["order.date"] = google::protobuf::util::TimeUtil::ToString(order->order_time()).substr(0, 10);
  }
  for (const auto& [key, value] : offer) v[absl::StrCat("offer.", key)] = value;
  return v;
}

v1::RenderTemplateResponse Render(const v1::Template& t, const TemplateValues& values) {
  v1::RenderTemplateResponse out;
  out.set_template_(t.name());
  std::set<std::string> empty;
  out.set_subject(RenderWith(t.subject(), values, t.fallbacks(), false, &empty));
  out.set_text(RenderWith(t.text(), values, t.fallbacks(), false, &empty));
  out.set_html(RenderWith(t.html(), values, t.fallbacks(), true, &empty));
  for (const std::string& name : empty) out.add_empty_variables(name);
  if (t.channel() == v1::CHANNEL_SMS || t.channel() == v1::CHANNEL_WHATSAPP) {
    v1::SmsEncoding encoding = v1::SMS_ENCODING_UNSPECIFIED;
    int segments = 0;
    CountSmsSegments(out.text(), &encoding, &segments);
    out.set_sms_encoding(encoding);
    out.set_sms_segments(segments);
  }
  return out;
}

std::string RenderText(const std::string& text, const TemplateValues& values) {
  std::set<std::string> empty;
  return RenderWith(text, values, google::protobuf::Map<std::string, std::string>(), false, &empty);
}

const v1::Template* ChooseVariant(const std::vector<v1::Template>& candidates,
                                  absl::string_view locale) {
  if (candidates.empty()) return nullptr;
  const std::string lower = absl::AsciiStrToLower(locale);
  const std::string language = lower.substr(0, lower.find('-'));
  const auto find = [&candidates](const std::function<bool(const std::string&)>& fits) {
    for (const v1::Template& t : candidates) {
      if (fits(absl::AsciiStrToLower(t.locale()))) return &t;
    }
    return static_cast<const v1::Template*>(nullptr);
  };
  const v1::Template* chosen = nullptr;
  if (!language.empty()) {
    chosen = find([&](const std::string& l) { return l == lower; });
    if (chosen == nullptr) chosen = find([&](const std::string& l) { return l == language; });
    if (chosen == nullptr) {  // the language of another region
      chosen = find([&](const std::string& l) { return absl::StartsWith(l, language + "-"); });
    }
  }
  if (chosen == nullptr) chosen = find([](const std::string& l) { return l == "en"; });
  return chosen != nullptr ? chosen : &candidates.front();
}

void CountSmsSegments(const std::string& text, v1::SmsEncoding* encoding, int* segments) {
  int septets = 0;
  int units = 0;  // UTF-16 code units for UCS-2
  bool gsm = true;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const std::string ch = text.substr(i, n);
    i += n;
    units += n == 4 ? 2 : 1;
    if (GsmBasic().count(ch) > 0) {
      septets += 1;
    } else if (GsmExtension().count(ch) > 0) {
      septets += 2;
    } else {
      gsm = false;
    }
  }
  *encoding = gsm ? v1::SMS_ENCODING_GSM_7 : v1::SMS_ENCODING_UCS_2;
  const int length = gsm ? septets : units;
  const int single = gsm ? 160 : 70;
  const int part = gsm ? 153 : 67;
  if (length == 0) {
    *segments = 0;
  } else if (length <= single) {
    *segments = 1;
  } else {
    *segments = (length + part - 1) / part;
  }
}

}  // namespace crm::interaction
