// Reading protobuf's JSON mapping back into a message, fast: what stores keep
// in jsonb columns (written with protobuf's MessageToJsonString) is read on
// every row, and protobuf 3.21's JsonStringToMessage (JSON → stream →
// binary → parse) cost a fifth of a GetCustomer. This parses once with
// nlohmann::json and sets fields through protobuf reflection.
//
// Accepts what the mapping produces: json_name or field name keys, strings,
// numbers (64-bit integers also as strings), booleans, enums by name or
// number, repeated fields, string-keyed maps, and google.protobuf.Timestamp;
// other well-known types are handed to protobuf's own parser. Unknown keys
// are ignored, as stored rows may predate a field's removal.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// Merges `json` into `message`; INVALID_ARGUMENT naming the field that does
// not fit its type (the fields before it stay set).
absl::Status MergeJson(absl::string_view json, google::protobuf::Message* message);

// `message` in protobuf's JSON mapping (MessageToJsonString), as stores keep
// it in jsonb columns.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace crm::api
