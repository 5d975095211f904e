#include "common/api/json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Json = nlohmann::json;

absl::Status Mismatch(const std::string& path, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": expected ", want));
}

absl::Status MergeObject(const Json& object, Message* message, const std::string& path);

template <typename T>
absl::Status ToInteger(const Json& v, const std::string& path, T* out) {
  if (v.is_number_integer()) {
    *out = v.get<T>();
    return absl::OkStatus();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) == d && d >= static_cast<double>(std::numeric_limits<T>::min()) &&
        d <= static_cast<double>(std::numeric_limits<T>::max())) {
      *out = static_cast<T>(d);
      return absl::OkStatus();
    }
  }
  if (v.is_string() && absl::SimpleAtoi(v.get_ref<const std::string&>(), out)) {
    return absl::OkStatus();
  }
  return Mismatch(path, "an integer");
}

absl::Status ToDouble(const Json& v, const std::string& path, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return absl::OkStatus();
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") *out = std::numeric_limits<double>::infinity();
    if (s == "-Infinity") *out = -std::numeric_limits<double>::infinity();
    if (s == "NaN" || s == "Infinity" || s == "-Infinity" || absl::SimpleAtod(s, out)) {
      return absl::OkStatus();
    }
  }
  return Mismatch(path, "a number");
}

// Sets (or adds, when repeated) one scalar or message value of `field`.
absl::Status SetValue(const Json& v, Message* message, const FieldDescriptor* field,
                      const std::string& path) {
  const Reflection* r = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!v.is_string()) return Mismatch(path, "a string");
      std::string s = v.get<std::string>();
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        std::string decoded;
        if (!absl::Base64Unescape(s, &decoded) && !absl::WebSafeBase64Unescape(s, &decoded)) {
          return Mismatch(path, "base64");
        }
        s = std::move(decoded);
      }
      repeated ? r->AddString(message, field, std::move(s))
               : r->SetString(message, field, std::move(s));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!v.is_boolean()) return Mismatch(path, "true or false");
      repeated ? r->AddBool(message, field, v.get<bool>())
               : r->SetBool(message, field, v.get<bool>());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t x = 0;
      if (auto s = ToInteger(v, path, &x); !s.ok()) return s;
      repeated ? r->AddInt32(message, field, x) : r->SetInt32(message, field, x);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t x = 0;
      if (auto s = ToInteger(v, path, &x); !s.ok()) return s;
      repeated ? r->AddInt64(message, field, x) : r->SetInt64(message, field, x);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t x = 0;
      if (auto s = ToInteger(v, path, &x); !s.ok()) return s;
      repeated ? r->AddUInt32(message, field, x) : r->SetUInt32(message, field, x);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t x = 0;
      if (auto s = ToInteger(v, path, &x); !s.ok()) return s;
      repeated ? r->AddUInt64(message, field, x) : r->SetUInt64(message, field, x);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double x = 0;
      if (auto s = ToDouble(v, path, &x); !s.ok()) return s;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(message, field, x) : r->SetDouble(message, field, x);
      } else {
        const float f = static_cast<float>(x);
        repeated ? r->AddFloat(message, field, f) : r->SetFloat(message, field, f);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* value = nullptr;
      if (v.is_string()) {
        value = field->enum_type()->FindValueByName(v.get_ref<const std::string&>());
      } else if (v.is_number_integer()) {
        value = field->enum_type()->FindValueByNumber(v.get<int>());
      }
      // Unknown names are skipped, as protobuf's parser does with
      // ignore_unknown_fields: a value removed from the enum reads as unset.
      if (value == nullptr) return absl::OkStatus();
      repeated ? r->AddEnum(message, field, value) : r->SetEnum(message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* child = repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field);
      const Descriptor* type = field->message_type();
      if (type->full_name() == "google.protobuf.Timestamp") {
        if (!v.is_string()) return Mismatch(path, "an RFC 3339 time");
        google::protobuf::Timestamp t;
        if (!google::protobuf::util::TimeUtil::FromString(v.get_ref<const std::string&>(), &t)) {
          return Mismatch(path, "an RFC 3339 time");
        }
        child->CopyFrom(t);
        return absl::OkStatus();
      }
      if (type->file()->name().rfind("google/protobuf/", 0) == 0) {
        // Other well-known types have special JSON forms: protobuf's parser.
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;
        auto status = google::protobuf::util::JsonStringToMessage(v.dump(), child, options);
        if (!status.ok()) return Mismatch(path, type->full_name());
        return absl::OkStatus();
      }
      if (!v.is_object()) return Mismatch(path, "an object");
      return MergeObject(v, child, path);
    }
  }
  return Mismatch(path, "a known type");
}

absl::Status MergeField(const Json& v, Message* message, const FieldDescriptor* field,
                        const std::string& path) {
  if (v.is_null()) return absl::OkStatus();  // null: the field stays unset
  if (field->is_map()) {
    if (!v.is_object()) return Mismatch(path, "an object");
    const Descriptor* entry_type = field->message_type();
    const FieldDescriptor* key = entry_type->map_key();
    const FieldDescriptor* value = entry_type->map_value();
    for (const auto& [k, item] : v.items()) {
      Message* entry = message->GetReflection()->AddMessage(message, field);
      const std::string item_path = absl::StrCat(path, ".", k);
      if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        entry->GetReflection()->SetString(entry, key, k);
      } else if (auto s = SetValue(Json(k), entry, key, item_path); !s.ok()) {
        return s;
      }
      if (auto s = SetValue(item, entry, value, item_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    if (!v.is_array()) return Mismatch(path, "an array");
    for (size_t i = 0; i < v.size(); ++i) {
      if (auto s = SetValue(v[i], message, field, absl::StrCat(path, "[", i, "]")); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  return SetValue(v, message, field, path);
}

absl::Status MergeObject(const Json& object, Message* message, const std::string& path) {
  const Descriptor* type = message->GetDescriptor();
  for (const auto& [key, value] : object.items()) {
    const FieldDescriptor* field = type->FindFieldByCamelcaseName(key);
    if (field == nullptr) field = type->FindFieldByName(key);
    if (field == nullptr) continue;  // unknown: ignored
    const std::string field_path = path.empty() ? key : absl::StrCat(path, ".", key);
    if (auto s = MergeField(value, message, field, field_path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeJson(absl::string_view json, google::protobuf::Message* message) {
  if (message->GetDescriptor()->file()->name().rfind("google/protobuf/", 0) == 0) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), message, options);
    if (!status.ok()) return absl::InvalidArgumentError(std::string(status.message()));
    return absl::OkStatus();
  }
  Json parsed = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
  if (!parsed.is_object()) return Mismatch("(root)", "an object");
  return MergeObject(parsed, message, "");
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

}  // namespace crm::api
