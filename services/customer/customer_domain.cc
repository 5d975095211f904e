#include "services/customer/customer_domain.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/customer/identity_domain.h"

namespace crm::customer {

using crm::customer::v1::AttributeValue;
using crm::customer::v1::Customer;

namespace {

std::string F(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

bool IsAttributeKey(absl::string_view key) {
  if (key.empty() || key.size() > 64 || !absl::ascii_islower(key[0])) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

absl::Status ValidateAttributeMap(
    const google::protobuf::Map<std::string, v1::AttributeValue>& attributes,
    absl::string_view path, int max) {
  if (static_cast<int>(attributes.size()) > max) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": at most ", max, " entries"));
  }
  for (const auto& [key, value] : attributes) {
    const std::string field = absl::StrCat(path, "[", key, "]");
    if (!IsAttributeKey(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": key '", absl::CHexEscape(key.substr(0, 64)),
                       "' must be 1 to 64 characters of [a-z0-9_] starting with a letter"));
    }
    switch (value.kind_case()) {
      case AttributeValue::kStringValue:
        CRM_RETURN_IF_ERROR(api::CheckText(field, value.string_value(), 1024));
        break;
      case AttributeValue::kNumberValue:
        if (!std::isfinite(value.number_value())) {
          return absl::InvalidArgumentError(absl::StrCat(field, ": must be a finite number"));
        }
        break;
      case AttributeValue::kBoolValue:
        break;
      case AttributeValue::kTimestampValue: {
        const auto& t = value.timestamp_value();
        if (t.seconds() < -62135596800 || t.seconds() > 253402300799 || t.nanos() < 0 ||
            t.nanos() > 999999999) {
          return absl::InvalidArgumentError(absl::StrCat(field, ": timestamp out of range"));
        }
        break;
      }
      case AttributeValue::KIND_NOT_SET:
        return absl::InvalidArgumentError(absl::StrCat(field, ": no value set"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCustomer(const Customer& c, absl::string_view prefix) {
  if (!c.external_id().empty()) {
    CRM_RETURN_IF_ERROR(api::CheckText(F(prefix, "external_id"), c.external_id(), 128));
  }
  if (!c.email().empty()) CRM_RETURN_IF_ERROR(api::CheckEmail(F(prefix, "email"), c.email()));
  if (!c.phone().empty()) CRM_RETURN_IF_ERROR(api::CheckE164(F(prefix, "phone"), c.phone()));
  CRM_RETURN_IF_ERROR(api::CheckText(F(prefix, "given_name"), c.given_name(), 200));
  CRM_RETURN_IF_ERROR(api::CheckText(F(prefix, "family_name"), c.family_name(), 200));
  if (!c.locale().empty()) {
    CRM_RETURN_IF_ERROR(api::CheckLocale(F(prefix, "locale"), c.locale()));
  }
  if (!c.country().empty()) {
    CRM_RETURN_IF_ERROR(api::CheckCountryCode(F(prefix, "country"), c.country()));
  }
  if (c.tags_size() > kMaxTags) {
    return absl::InvalidArgumentError(
        absl::StrCat(F(prefix, "tags"), ": at most ", kMaxTags, " tags"));
  }
  for (int i = 0; i < c.tags_size(); ++i) {
    CRM_RETURN_IF_ERROR(
        api::CheckToken(absl::StrCat(F(prefix, "tags"), "[", i, "]"), c.tags(i), 64));
  }
  CRM_RETURN_IF_ERROR(
      ValidateAttributeMap(c.attributes(), F(prefix, "attributes"), kMaxAttributes));
  return ValidateProfileDetails(c, prefix, absl::Now());
}

void NormalizeCustomer(Customer* c) {
  std::set<std::string> tags(c->tags().begin(), c->tags().end());
  c->clear_tags();
  for (const auto& t : tags) c->add_tags(t);
  if (c->has_preferences()) {
    auto* p = c->mutable_preferences();
    std::set<std::string> categories(p->categories().begin(), p->categories().end());
    p->clear_categories();
    for (const auto& t : categories) p->add_categories(t);
  }
}

absl::Status ValidateProfileDetails(const Customer& c, absl::string_view prefix, absl::Time now) {
  if (c.addresses_size() > 20) {
    return absl::InvalidArgumentError(absl::StrCat(F(prefix, "addresses"), ": at most 20"));
  }
  std::set<int> defaults;
  for (int i = 0; i < c.addresses_size(); ++i) {
    const auto& a = c.addresses(i);
    const std::string f = absl::StrCat(F(prefix, "addresses"), "[", i, "]");
    CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(f, ".kind"), a.kind()));
    if (!a.has_address()) return absl::InvalidArgumentError(absl::StrCat(f, ".address: required"));
    const auto& pa = a.address();
    if (pa.lines_size() > 3) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".address.lines: at most 3"));
    }
    for (int l = 0; l < pa.lines_size(); ++l) {
      CRM_RETURN_IF_ERROR(
          api::CheckText(absl::StrCat(f, ".address.lines[", l, "]"), pa.lines(l), 200));
    }
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".address.city"), pa.city(), 100));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".address.region"), pa.region(), 100));
    CRM_RETURN_IF_ERROR(
        api::CheckText(absl::StrCat(f, ".address.postal_code"), pa.postal_code(), 20));
    CRM_RETURN_IF_ERROR(api::CheckCountryCode(absl::StrCat(f, ".address.country"), pa.country()));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(f, ".label"), a.label(), 64));
    if (a.is_default() && !defaults.insert(a.kind()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".is_default: another address of this kind is already the default"));
    }
  }
  const auto& d = c.demographics();
  if (!d.birth_date().empty()) {
    const std::string f = absl::StrCat(F(prefix, "demographics"), ".birth_date");
    absl::Time t;
    std::string err;
    if (d.birth_date().size() != 10 ||
        !absl::ParseTime("%Y-%m-%d", d.birth_date(), absl::UTCTimeZone(), &t, &err)) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": must be a date YYYY-MM-DD"));
    }
    if (t < absl::FromCivil(absl::CivilDay(1900, 1, 1), absl::UTCTimeZone()) || t > now) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": must be between 1900-01-01 and today"));
    }
  }
  CRM_RETURN_IF_ERROR(
      api::OptionalEnum(absl::StrCat(F(prefix, "demographics"), ".gender"), d.gender()));
  const auto& p = c.preferences();
  if (!p.language().empty()) {
    CRM_RETURN_IF_ERROR(
        api::CheckLocale(absl::StrCat(F(prefix, "preferences"), ".language"), p.language()));
  }
  CRM_RETURN_IF_ERROR(api::OptionalEnum(
      absl::StrCat(F(prefix, "preferences"), ".preferred_channel"), p.preferred_channel()));
  if (p.categories_size() > 50) {
    return absl::InvalidArgumentError(
        absl::StrCat(F(prefix, "preferences"), ".categories: at most 50"));
  }
  for (int i = 0; i < p.categories_size(); ++i) {
    CRM_RETURN_IF_ERROR(api::CheckToken(
        absl::StrCat(F(prefix, "preferences"), ".categories[", i, "]"), p.categories(i), 64));
  }
  return absl::OkStatus();
}

absl::Status ApplyUpdateMask(const Customer& patch, const google::protobuf::FieldMask& mask,
                             Customer* target) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: required; name the fields to change");
  }
  for (const auto& path : mask.paths()) {
    if (path == "email") {
      target->set_email(patch.email());
    } else if (path == "phone") {
      target->set_phone(patch.phone());
    } else if (path == "given_name") {
      target->set_given_name(patch.given_name());
    } else if (path == "family_name") {
      target->set_family_name(patch.family_name());
    } else if (path == "locale") {
      target->set_locale(patch.locale());
    } else if (path == "country") {
      target->set_country(patch.country());
    } else if (path == "tags") {
      *target->mutable_tags() = patch.tags();
    } else if (path == "attributes") {
      *target->mutable_attributes() = patch.attributes();
    } else if (path == "addresses") {
      *target->mutable_addresses() = patch.addresses();
    } else if (path == "demographics") {
      *target->mutable_demographics() = patch.demographics();
    } else if (path == "preferences") {
      *target->mutable_preferences() = patch.preferences();
    } else if (path == "external_id" || path == "name" || path == "create_time" ||
               path == "facts" || path == "erase_time" || path == "update_time" ||
               path == "delete_time" || path == "etag") {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: field '", path, "' cannot be updated"));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: unknown field '", absl::CHexEscape(path.substr(0, 64)), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateBehaviorEvent(v1::BehaviorEvent* e, absl::Time now, absl::string_view path) {
  if (e->event_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".event_id: required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(path, ".event_id"), e->event_id(), 128));
  const int named = (e->customer().empty() ? 0 : 1) + (e->has_identity() ? 1 : 0) +
                    (e->anonymous_id().empty() ? 0 : 1);
  if (named != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".customer: give exactly one of customer, identity, anonymous_id"));
  }
  if (!e->customer().empty()) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName(absl::StrCat(path, ".customer"), e->customer(), "customers", &id));
  } else if (e->has_identity()) {
    CRM_RETURN_IF_ERROR(NormalizeIdentity(e->mutable_identity(), absl::StrCat(path, ".identity")));
  } else {
    CRM_RETURN_IF_ERROR(
        NormalizeAnonymousId(e->mutable_anonymous_id(), absl::StrCat(path, ".anonymous_id")));
  }
  CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(path, ".type"), e->type()));
  if (e->type() == v1::BEHAVIOR_EVENT_TYPE_CUSTOM) {
    CRM_RETURN_IF_ERROR(api::CheckToken(absl::StrCat(path, ".custom_name"), e->custom_name(), 64));
  } else if (!e->custom_name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".custom_name: only with BEHAVIOR_EVENT_TYPE_CUSTOM"));
  }
  if (!e->has_event_time()) {
    e->mutable_event_time()->set_seconds(absl::ToUnixSeconds(now));
  } else if (e->event_time().seconds() < 0 || e->event_time().nanos() < 0 ||
             e->event_time().nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".event_time: out of range"));
  } else if (absl::FromUnixSeconds(e->event_time().seconds()) > now + absl::Minutes(5)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".event_time: must not be in the future"));
  }
  return ValidateAttributeMap(e->properties(), absl::StrCat(path, ".properties"), 50);
}

std::string ChannelName(v1::ConsentChannel channel) {
  switch (channel) {
    case v1::CONSENT_CHANNEL_EMAIL:
      return "email";
    case v1::CONSENT_CHANNEL_SMS:
      return "sms";
    case v1::CONSENT_CHANNEL_PUSH:
      return "push";
    case v1::CONSENT_CHANNEL_PHONE:
      return "phone";
    case v1::CONSENT_CHANNEL_WHATSAPP:
      return "whatsapp";
    default:
      return "unspecified";
  }
}

std::string PurposeName(v1::ConsentPurpose purpose) {
  switch (purpose) {
    case v1::CONSENT_PURPOSE_MARKETING:
      return "marketing";
    case v1::CONSENT_PURPOSE_TRANSACTIONAL:
      return "transactional";
    default:
      return "unspecified";
  }
}

absl::Status ValidateConsent(v1::Consent* c, absl::Time now, absl::string_view prefix) {
  CRM_RETURN_IF_ERROR(api::RequiredEnum(F(prefix, "channel"), c->channel()));
  CRM_RETURN_IF_ERROR(api::RequiredEnum(F(prefix, "purpose"), c->purpose()));
  CRM_RETURN_IF_ERROR(api::RequiredEnum(F(prefix, "status"), c->status()));
  CRM_RETURN_IF_ERROR(api::CheckToken(F(prefix, "source"), c->source(), 64));
  CRM_RETURN_IF_ERROR(api::CheckToken(F(prefix, "text_version"), c->text_version(), 64));
  if (!c->has_consent_time()) {
    c->mutable_consent_time()->set_seconds(absl::ToUnixSeconds(now));
    c->mutable_consent_time()->set_nanos(
        static_cast<int32_t>((absl::ToUnixNanos(now) % 1000000000 + 1000000000) % 1000000000));
  }
  const auto& t = c->consent_time();
  if (t.seconds() < 0 || t.nanos() < 0 || t.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(F(prefix, "consent_time"), ": out of range"));
  }
  if (absl::FromUnixSeconds(t.seconds()) > now + absl::Minutes(5)) {
    return absl::InvalidArgumentError(
        absl::StrCat(F(prefix, "consent_time"), ": must not be in the future"));
  }
  c->clear_record_time();
  return absl::OkStatus();
}

ConsentDecision DecideConsent(const Customer& customer, v1::ConsentChannel channel,
                              v1::ConsentPurpose purpose, const v1::Consent* current) {
  const std::string what = absl::StrCat(PurposeName(purpose), " ", ChannelName(channel));
  if (customer.has_delete_time()) return {false, "the customer is deleted"};
  if (channel == v1::CONSENT_CHANNEL_EMAIL && customer.email().empty()) {
    return {false, "the customer has no e-mail address"};
  }
  if ((channel == v1::CONSENT_CHANNEL_SMS || channel == v1::CONSENT_CHANNEL_PHONE ||
       channel == v1::CONSENT_CHANNEL_WHATSAPP) &&
      customer.phone().empty()) {
    return {false, "the customer has no phone number"};
  }
  if (current == nullptr) {
    if (purpose == v1::CONSENT_PURPOSE_TRANSACTIONAL) {
      return {true, absl::StrCat("no ", what,
                                 " consent recorded; transactional contact needs "
                                 "none")};
    }
    return {false, absl::StrCat("no ", what, " consent recorded")};
  }
  const bool granted = current->status() == v1::CONSENT_STATUS_GRANTED;
  return {granted, absl::StrCat(what, granted ? " granted" : " denied", " via ", current->source(),
                                " (text ", current->text_version(), ")")};
}

namespace {

// Top-level fields of a customer as JSON values, keyed by proto field name.
std::map<std::string, std::string> FieldValues(const Customer& c) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(c, &json, print);
  google::protobuf::Struct fields;
  google::protobuf::util::JsonStringToMessage(json, &fields);
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : fields.fields()) {
    if (key == "name" || key == "create_time" || key == "update_time" || key == "etag" ||
        key == "facts") {
      continue;
    }
    std::string v;
    google::protobuf::util::MessageToJsonString(value, &v);
    if (v == "{}" || v == "[]") continue;  // an empty message or list is no value
    out[key] = v;
  }
  return out;
}

}  // namespace

std::vector<v1::FieldChange> DiffCustomers(const Customer& before, const Customer& after) {
  const auto old_values = FieldValues(before);
  const auto new_values = FieldValues(after);
  std::set<std::string> keys;
  for (const auto& [k, v] : old_values) keys.insert(k);
  for (const auto& [k, v] : new_values) keys.insert(k);
  std::vector<v1::FieldChange> changes;
  for (const auto& k : keys) {
    auto o = old_values.find(k);
    auto n = new_values.find(k);
    const std::string ov = o == old_values.end() ? "" : o->second;
    const std::string nv = n == new_values.end() ? "" : n->second;
    if (ov == nv) continue;
    v1::FieldChange change;
    change.set_field(k);
    change.set_old_value(ov);
    change.set_new_value(nv);
    changes.push_back(std::move(change));
  }
  return changes;
}

namespace {

// consent.<channel>.<purpose>: the current decision's status name, or NULL
// when none is recorded (so `!= "CONSENT_STATUS_GRANTED"` includes "never
// asked").
std::vector<api::FilterField> ConsentFilterFields() {
  std::vector<api::FilterField> out;
  for (int channel = v1::CONSENT_CHANNEL_EMAIL; channel <= v1::CONSENT_CHANNEL_WHATSAPP;
       ++channel) {
    for (int purpose = v1::CONSENT_PURPOSE_MARKETING; purpose <= v1::CONSENT_PURPOSE_TRANSACTIONAL;
         ++purpose) {
      out.push_back(
          {absl::StrCat("consent.", ChannelName(static_cast<v1::ConsentChannel>(channel)), ".",
                        PurposeName(static_cast<v1::ConsentPurpose>(purpose))),
           absl::StrCat("(SELECT CASE r.status WHEN 1 THEN 'CONSENT_STATUS_GRANTED' ELSE "
                        "'CONSENT_STATUS_DENIED' END FROM customer.consent_records r WHERE "
                        "r.tenant_id = c.tenant_id AND r.customer_id = c.id AND r.channel = ",
                        channel, " AND r.purpose = ", purpose,
                        " ORDER BY r.consent_time DESC, r.id DESC LIMIT 1)"),
           api::FieldType::kString, false});
    }
  }
  return out;
}

}  // namespace

const std::vector<api::FilterField>& CustomerFilterFields() {
  using api::FieldType;
  static const auto* fields = [] {
    auto* all = new std::vector<api::FilterField>{
        {"email", "c.email", FieldType::kString, true, "c.email_norm"},
        {"external_id", "c.external_id", FieldType::kString, false},
        {"phone", "c.phone", FieldType::kString, false},
        {"given_name", "c.given_name", FieldType::kString, true, "c.given_name_norm"},
        {"family_name", "c.family_name", FieldType::kString, true, "c.family_name_norm"},
        {"locale", "c.locale", FieldType::kString, false},
        {"country", "c.country", FieldType::kString, false},
        {"tags", "c.tags", FieldType::kStringList, false,
         // Uncorrelated, so that Postgres joins it rather than probing per
         // customer; row-level security keeps it to the caller's tenant.
         "c.id IN (SELECT t.customer_id FROM customer.customer_tags t WHERE t.tag = {})"},
        {"create_time", "c.create_time", FieldType::kTimestamp, false},
        {"update_time", "c.update_time", FieldType::kTimestamp, false},
        {"demographics.gender", "(c.demographics->>'gender')", FieldType::kString, false},
        {"demographics.birth_date", "(c.demographics->>'birthDate')", FieldType::kString, false},
        {"preferences.language", "(c.preferences->>'language')", FieldType::kString, false},
        {"preferences.preferred_channel", "(c.preferences->>'preferredChannel')",
         FieldType::kString, false},
        {"preferences.categories", "(c.preferences->'categories')", FieldType::kJsonStringList,
         false},
        {"facts.order_count", "c.order_count", FieldType::kNumber, false},
        {"facts.total_spent_minor", "c.total_spent_minor", FieldType::kNumber, false},
        {"facts.first_order_time", "c.first_order_time", FieldType::kTimestamp, false},
        {"facts.last_order_time", "c.last_order_time", FieldType::kTimestamp, false},
        {"facts.last_seen_time", "c.last_seen_time", FieldType::kTimestamp, false},
    };
    for (auto& f : ConsentFilterFields()) all->push_back(std::move(f));
    return all;
  }();
  return *fields;
}

}  // namespace crm::customer
