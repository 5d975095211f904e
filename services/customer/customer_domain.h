// Pure customer rules: validation, update masks, etags, filterable fields.
// No I/O, so every rule is unit-tested directly.
#pragma once

#include <google/protobuf/field_mask.pb.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/filter.h"
#include "crm/customer/v1/behavior.pb.h"
#include "crm/customer/v1/consent.pb.h"
#include "crm/customer/v1/customer.pb.h"
#include "crm/customer/v1/history.pb.h"

namespace crm::customer {

inline constexpr int kMaxTags = 50;
inline constexpr int kMaxAttributes = 100;

// Typed custom values (customer attributes, event properties): keys of
// [a-z0-9_] starting with a letter, at most `max`, each value set and sane.
absl::Status ValidateAttributeMap(
    const google::protobuf::Map<std::string, crm::customer::v1::AttributeValue>& attributes,
    absl::string_view path, int max);

// Checks every writable field of `c`; messages name the field under
// `prefix` (e.g. "customer.email: ...").
absl::Status ValidateCustomer(const crm::customer::v1::Customer& c, absl::string_view prefix);

// Checks addresses, demographics and preferences (part of ValidateCustomer;
// `now` bounds the birth date).
absl::Status ValidateProfileDetails(const crm::customer::v1::Customer& c, absl::string_view prefix,
                                    absl::Time now);

// Sorts and de-duplicates tags and preferred categories.
void NormalizeCustomer(crm::customer::v1::Customer* c);

// Copies the fields named in `mask` from `patch` into `target`.
// INVALID_ARGUMENT for an empty mask, an unknown or immutable field.
absl::Status ApplyUpdateMask(const crm::customer::v1::Customer& patch,
                             const google::protobuf::FieldMask& mask,
                             crm::customer::v1::Customer* target);

// Checks a consent to record at `now`; fills in consent_time when unset.
absl::Status ValidateConsent(crm::customer::v1::Consent* consent, absl::Time now,
                             absl::string_view prefix);

struct ConsentDecision {
  bool allowed = false;
  std::string reason;
};

// The contact rule: marketing needs a current grant, transactional is
// allowed unless currently denied, e-mail needs an address, SMS and phone a
// number, and a deleted customer may not be contacted. `current` is the
// latest record for the channel and purpose, or null.
ConsentDecision DecideConsent(const crm::customer::v1::Customer& customer,
                              crm::customer::v1::ConsentChannel channel,
                              crm::customer::v1::ConsentPurpose purpose,
                              const crm::customer::v1::Consent* current);

// "email", "sms", ...; "marketing", "transactional".
std::string ChannelName(crm::customer::v1::ConsentChannel channel);
std::string PurposeName(crm::customer::v1::ConsentPurpose purpose);

// The API fields whose value differs between `before` and `after`, each with
// its old and new value as JSON. Output-only bookkeeping (name, times, etag,
// facts) is left out; every other field, present or future, is compared.
std::vector<crm::customer::v1::FieldChange> DiffCustomers(const crm::customer::v1::Customer& before,
                                                          const crm::customer::v1::Customer& after);

// Checks one behavioural event at `now`, filling event_time when unset.
// The message names the field under `path` (e.g. "events[3]").
absl::Status ValidateBehaviorEvent(crm::customer::v1::BehaviorEvent* event, absl::Time now,
                                   absl::string_view path);

// The fields ListCustomers may filter on, with the SQL they compile to.
const std::vector<api::FilterField>& CustomerFilterFields();

}  // namespace crm::customer
