// Typed custom ticket fields and followers without the database: what a
// field definition must hold, the shape of a ticket's values and their fit
// to the definitions, and the followers a ticket may have (docs/ticketing.md,
// "Custom fields and followers").
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/repeated_field.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing {

inline constexpr int kMaxTicketFields = 100;
inline constexpr int kMaxCustomFieldValues = 50;
inline constexpr int kMaxFollowers = 50;

using CustomFields = google::protobuf::Map<std::string, v1::CustomFieldValue>;

// 1 to 64 of [a-z0-9_], starting with a letter; INVALID_ARGUMENT names
// `field`.
absl::Status CheckFieldKey(absl::string_view field, absl::string_view key);

// Validates a new field definition and normalises its options (lower case,
// unique, in the order given); INVALID_ARGUMENT names the field under `path`.
absl::Status ValidateTicketField(v1::TicketField* field, absl::string_view path);

// The shape of a ticket's values, without their definitions: at most 50,
// keys as CheckFieldKey, exactly one member each, texts valid, numbers
// finite, dates `YYYY-MM-DD`. INVALID_ARGUMENT names `path["key"]`.
absl::Status CheckCustomFieldShapes(const CustomFields& values, absl::string_view path);

// Each value against its field: the key is one of `fields` and the value
// has the field's type (a dropdown's one of its options).
absl::Status CheckCustomFieldValues(const CustomFields& values,
                                    const std::map<std::string, v1::TicketField>& fields,
                                    absl::string_view path);

// A value as text for rules and filters: the text, date or option, the
// number as the shortest text that reads back the same, `true`/`false`;
// "" when `key` has no value.
std::string CustomFieldText(const CustomFields& values, const std::string& key);

// `agents/{id}` each, left sorted and unique, at most 50.
absl::Status NormaliseFollowers(google::protobuf::RepeatedPtrField<std::string>* followers,
                                absl::string_view path);

std::string CustomFieldTypeText(v1::CustomFieldType type);
v1::CustomFieldType CustomFieldTypeOf(absl::string_view text);
// The JSON member a value of `type` is kept in (`textValue`, …).
const char* CustomFieldMember(v1::CustomFieldType type);

}  // namespace crm::ticketing
