#include "services/customer/identity_domain.h"

#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/customer/customer_domain.h"

namespace crm::customer {

using google::protobuf::FieldDescriptor;
using v1::Customer;
using v1::Identity;
using v1::MergeStrategy;

namespace {

// Profile fields decided by a strategy; tags are always united and
// attributes are decided per key.
const std::vector<std::string>& MergeableFields() {
  static const auto* fields = new std::vector<std::string>{
      "external_id", "email",   "phone",     "given_name",   "family_name",
      "locale",      "country", "addresses", "demographics", "preferences"};
  return *fields;
}

const FieldDescriptor* Field(const std::string& name) {
  return Customer::descriptor()->FindFieldByName(name);
}

// How much of field `f` is filled in: 0 when empty.
size_t Completeness(const Customer& c, const FieldDescriptor* f) {
  const auto* r = Customer::GetReflection();
  if (f->is_repeated()) return static_cast<size_t>(r->FieldSize(c, f));
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) return r->GetString(c, f).size();
  if (!r->HasField(c, f)) return 0;
  std::vector<const FieldDescriptor*> set;
  const auto& m = r->GetMessage(c, f);
  m.GetReflection()->ListFields(m, &set);
  return set.size();
}

// Replaces field `name` of `to` with that of `from` (empty included).
void CopyField(const Customer& from, const std::string& name, Customer* to) {
  google::protobuf::FieldMask mask;
  mask.add_paths(name);
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  const auto* f = Field(name);
  Customer::GetReflection()->ClearField(to, f);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(from, mask, options, to);
}

bool SameField(const Customer& a, const Customer& b, const std::string& name) {
  Customer only_a, only_b;
  CopyField(a, name, &only_a);
  CopyField(b, name, &only_b);
  return google::protobuf::util::MessageDifferencer::Equals(only_a, only_b);
}

bool Newer(const Customer& a, const Customer& b) {
  using google::protobuf::util::TimeUtil;
  return TimeUtil::TimestampToMicroseconds(a.update_time()) >
         TimeUtil::TimestampToMicroseconds(b.update_time());
}

// Which profile supplies a field under `strategy` (EXPLICIT handled apart).
const Customer& Pick(MergeStrategy strategy, const Customer& survivor, const Customer& merged,
                     size_t survivor_fill, size_t merged_fill) {
  switch (strategy) {
    case v1::MERGE_STRATEGY_SURVIVOR:
      return survivor;
    case v1::MERGE_STRATEGY_MOST_RECENT: {
      const Customer& recent = Newer(merged, survivor) ? merged : survivor;
      const Customer& other = &recent == &survivor ? merged : survivor;
      const size_t recent_fill = &recent == &survivor ? survivor_fill : merged_fill;
      return recent_fill > 0 ? recent : other;
    }
    case v1::MERGE_STRATEGY_MOST_COMPLETE:
      return merged_fill > survivor_fill ? merged : survivor;
    default:
      return survivor_fill > 0 ? survivor : merged;
  }
}

}  // namespace

absl::Status NormalizeIdentity(Identity* identity, absl::string_view path) {
  const std::string value_field = absl::StrCat(path, ".value");
  const std::string source_field = absl::StrCat(path, ".source");
  std::string value(absl::StripAsciiWhitespace(identity->value()));
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(value_field, ": required"));
  switch (identity->kind()) {
    case v1::IDENTITY_KIND_EMAIL:
      value = absl::AsciiStrToLower(value);
      CRM_RETURN_IF_ERROR(api::CheckEmail(value_field, value));
      break;
    case v1::IDENTITY_KIND_PHONE: {
      std::string digits;
      for (char c : value) {
        if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') digits += c;
      }
      value = digits;
      CRM_RETURN_IF_ERROR(api::CheckE164(value_field, value));
      break;
    }
    case v1::IDENTITY_KIND_EXTERNAL_ID:
    case v1::IDENTITY_KIND_ANONYMOUS_ID:
      CRM_RETURN_IF_ERROR(api::CheckText(value_field, value, 254));
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".kind: required (EMAIL, PHONE, EXTERNAL_ID or ANONYMOUS_ID)"));
  }
  if (identity->kind() == v1::IDENTITY_KIND_EXTERNAL_ID) {
    CRM_RETURN_IF_ERROR(api::CheckToken(source_field, identity->source(), 64));
  } else if (!identity->source().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_field, ": only EXTERNAL_ID identities have a source"));
  }
  identity->set_value(value);
  identity->clear_create_time();
  return absl::OkStatus();
}

Identity AnonymousIdentity(const std::string& value) {
  Identity identity;
  identity.set_kind(v1::IDENTITY_KIND_ANONYMOUS_ID);
  identity.set_value(value);
  return identity;
}

absl::Status NormalizeAnonymousId(std::string* value, absl::string_view path) {
  Identity identity = AnonymousIdentity(*value);
  CRM_RETURN_IF_ERROR(NormalizeIdentity(&identity, path));
  *value = identity.value();
  return absl::OkStatus();
}

std::string IdentityKey(const Identity& identity) {
  return absl::StrCat(static_cast<int>(identity.kind()), "/", identity.source(), "/",
                      identity.value());
}

bool IsAnonymousProfile(const Customer& c) {
  if (!c.email().empty() || !c.phone().empty() || !c.external_id().empty() ||
      !c.given_name().empty() || !c.family_name().empty()) {
    return false;
  }
  for (const auto& identity : c.identities()) {
    if (identity.kind() != v1::IDENTITY_KIND_ANONYMOUS_ID) return false;
  }
  return true;
}

absl::StatusOr<Customer> MergeProfiles(const Customer& survivor, const Customer& merged,
                                       const v1::MergeCustomersRequest& request) {
  std::map<std::string, MergeStrategy> strategy;
  for (int i = 0; i < request.rules_size(); ++i) {
    const auto& rule = request.rules(i);
    const std::string path = absl::StrCat("rules[", i, "]");
    const auto& fields = MergeableFields();
    if (rule.field() != "attributes" &&
        std::find(fields.begin(), fields.end(), rule.field()) == fields.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".field: '", rule.field(), "' cannot be merged by rule"));
    }
    if (!v1::MergeStrategy_IsValid(rule.strategy())) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".strategy: unknown"));
    }
    if (!strategy.emplace(rule.field(), rule.strategy()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".field: '", rule.field(), "' has more than one rule"));
    }
  }
  if (!v1::MergeStrategy_IsValid(request.default_strategy())) {
    return absl::InvalidArgumentError("default_strategy: unknown");
  }
  auto strategy_of = [&](const std::string& field) {
    auto it = strategy.find(field);
    return it == strategy.end() ? request.default_strategy() : it->second;
  };

  Customer result = survivor;
  for (const auto& name : MergeableFields()) {
    const MergeStrategy s = strategy_of(name);
    if (s == v1::MERGE_STRATEGY_EXPLICIT) {
      CopyField(request.explicit_values(), name, &result);
      continue;
    }
    const auto* f = Field(name);
    const Customer& from =
        Pick(s, survivor, merged, Completeness(survivor, f), Completeness(merged, f));
    CopyField(from, name, &result);
  }

  // Attributes: the union; a key both have is decided by the strategy.
  const MergeStrategy attributes = strategy_of("attributes");
  if (attributes == v1::MERGE_STRATEGY_EXPLICIT) {
    *result.mutable_attributes() = request.explicit_values().attributes();
  } else {
    for (const auto& [key, value] : merged.attributes()) {
      const bool survivor_has = survivor.attributes().count(key) > 0;
      const bool take_merged = !survivor_has || (attributes == v1::MERGE_STRATEGY_MOST_RECENT &&
                                                 Newer(merged, survivor));
      if (take_merged) (*result.mutable_attributes())[key] = value;
    }
  }
  for (const auto& tag : merged.tags()) result.add_tags(tag);
  NormalizeCustomer(&result);
  CRM_RETURN_IF_ERROR(ValidateCustomer(result, "merged profile"));
  if (result.attributes_size() > kMaxAttributes) {
    return absl::FailedPreconditionError("merged profile.attributes: more than 100 after merging");
  }
  return result;
}

std::vector<Identity> DisplacedIdentifiers(const Customer& survivor, const Customer& merged,
                                           const Customer& result) {
  std::vector<Identity> out;
  std::set<std::string> seen;
  auto add = [&](v1::IdentityKind kind, const std::string& source, const std::string& value,
                 const std::string& kept) {
    if (value.empty()) return;
    Identity identity;
    identity.set_kind(kind);
    identity.set_source(source);
    identity.set_value(value);
    if (!NormalizeIdentity(&identity, "identity").ok()) return;
    Identity current = identity;
    current.set_value(kept);
    if (!kept.empty() && NormalizeIdentity(&current, "identity").ok() &&
        current.value() == identity.value()) {
      return;
    }
    if (seen.insert(IdentityKey(identity)).second) out.push_back(identity);
  };
  for (const Customer* c : {&survivor, &merged}) {
    add(v1::IDENTITY_KIND_EMAIL, "", c->email(), result.email());
    add(v1::IDENTITY_KIND_PHONE, "", c->phone(), result.phone());
    add(v1::IDENTITY_KIND_EXTERNAL_ID, kShopSource, c->external_id(), result.external_id());
  }
  return out;
}

Customer RestoreSurvivor(const Customer& before_merge, const Customer& after_merge,
                         const Customer& current) {
  Customer out = current;
  std::vector<std::string> fields = MergeableFields();
  fields.push_back("tags");
  fields.push_back("attributes");
  for (const auto& name : fields) {
    if (SameField(current, after_merge, name)) CopyField(before_merge, name, &out);
  }
  return out;
}

}  // namespace crm::customer
