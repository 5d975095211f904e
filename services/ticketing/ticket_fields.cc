#include "services/ticketing/ticket_fields.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/ticket_domain.h"

namespace crm::ticketing {
namespace {

using v1::CustomFieldValue;

std::string At(absl::string_view path, const std::string& key) {
  return absl::StrCat(path, "[\"", key.substr(0, 64), "\"]");
}

bool IsDate(const std::string& text) {
  absl::CivilDay day;
  return text.size() == 10 && absl::ParseCivilTime(text, &day) &&
         absl::FormatCivilTime(day) == text;
}

// The member a value of `type` must have.
CustomFieldValue::ValueCase CaseOf(v1::CustomFieldType type) {
  switch (type) {
    case v1::CUSTOM_FIELD_TYPE_TEXT:
      return CustomFieldValue::kTextValue;
    case v1::CUSTOM_FIELD_TYPE_NUMBER:
      return CustomFieldValue::kNumberValue;
    case v1::CUSTOM_FIELD_TYPE_BOOLEAN:
      return CustomFieldValue::kBoolValue;
    case v1::CUSTOM_FIELD_TYPE_DATE:
      return CustomFieldValue::kDateValue;
    case v1::CUSTOM_FIELD_TYPE_DROPDOWN:
      return CustomFieldValue::kOptionValue;
    default:
      return CustomFieldValue::VALUE_NOT_SET;
  }
}

}  // namespace

absl::Status CheckFieldKey(absl::string_view field, absl::string_view key) {
  const bool ok = !key.empty() && key.size() <= 64 && absl::ascii_islower(key[0]) &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", key.substr(0, 64), "\" is not 1 to 64 of [a-z0-9_] starting with a letter"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTicketField(v1::TicketField* f, absl::string_view path) {
  const auto at = [path](absl::string_view field) { return absl::StrCat(path, ".", field); };
  CRM_RETURN_IF_ERROR(CheckFieldKey(at("key"), f->key()));
  if (f->display_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at("display_name"), ": required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(at("display_name"), f->display_name(), 100));
  CRM_RETURN_IF_ERROR(api::RequiredEnum(at("type"), f->type()));
  CRM_RETURN_IF_ERROR(api::CheckText(at("description"), f->description(), 500));
  if (f->type() != v1::CUSTOM_FIELD_TYPE_DROPDOWN) {
    if (!f->options().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at("options"), ": only a DROPDOWN field has options"));
    }
    return absl::OkStatus();
  }
  if (f->options().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at("options"), ": a DROPDOWN needs options"));
  }
  if (f->options_size() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(at("options"), ": at most 100"));
  }
  std::vector<std::string> options;
  for (int i = 0; i < f->options_size(); ++i) {
    google::protobuf::RepeatedPtrField<std::string> one;
    one.Add(std::string(f->options(i)));
    CRM_RETURN_IF_ERROR(NormaliseLabels(&one, absl::StrCat(at("options"), "[", i, "]"), 1));
    if (std::find(options.begin(), options.end(), one.Get(0)) != options.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at("options"), "[", i, "]: \"", one.Get(0), "\" is given twice"));
    }
    options.push_back(one.Get(0));
  }
  f->clear_options();
  for (const std::string& o : options) f->add_options(o);
  return absl::OkStatus();
}

absl::Status CheckCustomFieldShapes(const CustomFields& values, absl::string_view path) {
  if (static_cast<int>(values.size()) > kMaxCustomFieldValues) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": at most ", kMaxCustomFieldValues));
  }
  for (const auto& [key, value] : values) {
    const std::string at = At(path, key);
    CRM_RETURN_IF_ERROR(CheckFieldKey(at, key));
    switch (value.value_case()) {
      case CustomFieldValue::kTextValue:
        CRM_RETURN_IF_ERROR(api::CheckText(at, value.text_value(), 1024));
        break;
      case CustomFieldValue::kNumberValue:
        if (!std::isfinite(value.number_value())) {
          return absl::InvalidArgumentError(absl::StrCat(at, ": not a finite number"));
        }
        break;
      case CustomFieldValue::kBoolValue:
        break;
      case CustomFieldValue::kDateValue:
        if (!IsDate(value.date_value())) {
          return absl::InvalidArgumentError(
              absl::StrCat(at, ": \"", value.date_value().substr(0, 32), "\" is not YYYY-MM-DD"));
        }
        break;
      case CustomFieldValue::kOptionValue:
        CRM_RETURN_IF_ERROR(api::CheckText(at, value.option_value(), 64));
        break;
      case CustomFieldValue::VALUE_NOT_SET:
        return absl::InvalidArgumentError(absl::StrCat(at, ": a value is required"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCustomFieldValues(const CustomFields& values,
                                    const std::map<std::string, v1::TicketField>& fields,
                                    absl::string_view path) {
  for (const auto& [key, value] : values) {
    const std::string at = At(path, key);
    auto it = fields.find(key);
    if (it == fields.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": the tenant has no ticket field \"", key, "\""));
    }
    const v1::TicketField& field = it->second;
    if (value.value_case() != CaseOf(field.type())) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ": the field is ", CustomFieldTypeText(field.type()), ", so ",
          CustomFieldValue::descriptor()->FindFieldByNumber(CaseOf(field.type()))->name(),
          " is required"));
    }
    if (field.type() == v1::CUSTOM_FIELD_TYPE_DROPDOWN &&
        std::find(field.options().begin(), field.options().end(), value.option_value()) ==
            field.options().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": \"", value.option_value(), "\" is not one of the field's options"));
    }
  }
  return absl::OkStatus();
}

std::string CustomFieldText(const CustomFields& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return "";
  const CustomFieldValue& v = it->second;
  switch (v.value_case()) {
    case CustomFieldValue::kTextValue:
      return v.text_value();
    case CustomFieldValue::kNumberValue:
      return absl::StrCat(v.number_value());
    case CustomFieldValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case CustomFieldValue::kDateValue:
      return v.date_value();
    case CustomFieldValue::kOptionValue:
      return v.option_value();
    case CustomFieldValue::VALUE_NOT_SET:
      break;
  }
  return "";
}

absl::Status NormaliseFollowers(google::protobuf::RepeatedPtrField<std::string>* followers,
                                absl::string_view path) {
  std::set<std::string> unique;
  for (int i = 0; i < followers->size(); ++i) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName(absl::StrCat(path, "[", i, "]"), followers->Get(i), "agents", &id));
    unique.insert(absl::StrCat("agents/", id));
  }
  if (static_cast<int>(unique.size()) > kMaxFollowers) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": at most ", kMaxFollowers));
  }
  followers->Clear();
  for (const std::string& f : unique) followers->Add(std::string(f));
  return absl::OkStatus();
}

std::string CustomFieldTypeText(v1::CustomFieldType type) {
  absl::string_view name = v1::CustomFieldType_Name(type);
  absl::ConsumePrefix(&name, "CUSTOM_FIELD_TYPE_");
  return std::string(name);
}

v1::CustomFieldType CustomFieldTypeOf(absl::string_view text) {
  v1::CustomFieldType type = v1::CUSTOM_FIELD_TYPE_UNSPECIFIED;
  v1::CustomFieldType_Parse(absl::StrCat("CUSTOM_FIELD_TYPE_", text), &type);
  return type;
}

const char* CustomFieldMember(v1::CustomFieldType type) {
  switch (CaseOf(type)) {
    case CustomFieldValue::kTextValue:
      return "textValue";
    case CustomFieldValue::kNumberValue:
      return "numberValue";
    case CustomFieldValue::kBoolValue:
      return "boolValue";
    case CustomFieldValue::kDateValue:
      return "dateValue";
    case CustomFieldValue::kOptionValue:
      return "optionValue";
    default:
      return "";
  }
}

}  // namespace crm::ticketing
