// Templates without I/O: which variables exist, checking a template's
// Mustache and variables when it is saved, rendering it (HTML-escaped for
// e-mail HTML, plain elsewhere) with fallbacks for empty values, choosing
// the locale variant for a customer, and counting SMS segments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/customer/v1/customer.pb.h"
#include "crm/customer/v1/order.pb.h"
#include "crm/interaction/v1/template_service.pb.h"

namespace crm::interaction {

// Whether `name` (e.g. "customer.given_name") is a template variable.
bool IsTemplateVariable(absl::string_view name);

// The variables a Mustache text uses; INVALID_ARGUMENT naming `field` for a
// syntax error.
absl::StatusOr<std::vector<std::string>> VariablesOf(const std::string& text,
                                                     absl::string_view field);

// A template as created or updated: INVALID_ARGUMENT naming the field (and
// the variable that does not exist).
absl::Status ValidateTemplate(const v1::Template& t, absl::string_view field);
absl::Status ValidateCannedResponse(const v1::CannedResponse& c);

// Variable name → value.
using TemplateValues = std::map<std::string, std::string>;
TemplateValues ValuesOf(const crm::customer::v1::Customer& customer,
                        const crm::customer::v1::Order* order,
                        const google::protobuf::Map<std::string, std::string>& offer);

// The subject, text and HTML of `t` with `values`; `empty_variables` lists
// those that were empty (their fallback, if any, used).
v1::RenderTemplateResponse Render(const v1::Template& t, const TemplateValues& values);
// A text (canned response) rendered plain.
std::string RenderText(const std::string& text, const TemplateValues& values);

// The variant for `locale` among `candidates` (one key and channel): the
// exact locale, then its language, then that language in another region,
// then `en`, then the first.
const v1::Template* ChooseVariant(const std::vector<v1::Template>& candidates,
                                  absl::string_view locale);

// The SMS encoding of `text` and how many messages it takes.
void CountSmsSegments(const std::string& text, v1::SmsEncoding* encoding, int* segments);

}  // namespace crm::interaction
