// Enum values as the short upper-case names stored in columns and written
// in filters ("EMAIL" for CHANNEL_EMAIL), from the generated descriptor, so
// a value added to a contract needs no new mapping code.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace crm::api {

namespace internal {
// "CHANNEL_" for an enum whose zero value is CHANNEL_UNSPECIFIED.
inline absl::string_view EnumPrefix(const google::protobuf::EnumDescriptor* d) {
  absl::string_view zero = d->FindValueByNumber(0)->name();
  if (absl::EndsWith(zero, "UNSPECIFIED")) zero.remove_suffix(sizeof("UNSPECIFIED") - 1);
  return zero;
}
}  // namespace internal

// "EMAIL" for CHANNEL_EMAIL; "" for a number the enum does not define.
template <typename E>
std::string EnumText(E value) {
  const auto* d = google::protobuf::GetEnumDescriptor<E>();
  const auto* v = d->FindValueByNumber(static_cast<int>(value));
  if (v == nullptr) return "";
  absl::string_view name = v->name();
  absl::ConsumePrefix(&name, internal::EnumPrefix(d));
  return std::string(name);
}

// CHANNEL_EMAIL for "EMAIL"; the zero value for text it does not know.
template <typename E>
E EnumOf(absl::string_view text) {
  const auto* d = google::protobuf::GetEnumDescriptor<E>();
  const auto* v = d->FindValueByName(std::string(internal::EnumPrefix(d)) + std::string(text));
  return v == nullptr ? static_cast<E>(0) : static_cast<E>(v->number());
}

}  // namespace crm::api
