// Pure rules of conversations and messages: what a valid inbound message
// and conversation update are, how a sender's address is normalised per
// channel, and the e-mail subject token. No I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/interaction/v1/conversation_service.pb.h"

namespace crm::interaction {

inline constexpr char kSchema[] = "interaction";

// An address on a channel, as the customer service knows it: `kind` is
// EMAIL or PHONE (identities of those kinds) or the social channel's name
// (an EXTERNAL_ID identity with that source); `address` is normalised.
struct ContactAddress {
  std::string kind;
  std::string address;
};

// The sender of a message on `channel` as a contact address; `field` names
// the address in errors. E-mail in lower case, phones in E.164 (spaces,
// dashes, dots and brackets removed), social ids as given. LIVE_CHAT and
// WEB_FORM take an e-mail address or a phone number.
absl::StatusOr<ContactAddress> ContactOf(v1::Channel channel, absl::string_view address,
                                         absl::string_view field);

// Checks a ReceiveMessage request as the service has it after parsing a raw
// e-mail (so `raw_email` is no longer looked at): INVALID_ARGUMENT naming
// the field.
absl::Status ValidateReceive(const v1::ReceiveMessageRequest& request);

// The paths UpdateConversation takes, and the patch's values for them:
// INVALID_ARGUMENT naming the field; `now` for the snooze time.
absl::Status ValidateConversationUpdate(const v1::Conversation& patch,
                                        const std::vector<std::string>& paths, absl::Time now);
// `current` with the patch's values at `paths` (validated); leaving
// SNOOZED clears the snooze time. FAILED_PRECONDITION for a snooze time on a
// conversation that is not snoozed.
absl::StatusOr<v1::Conversation> ApplyConversationUpdate(const v1::Conversation& current,
                                                         const v1::Conversation& patch,
                                                         const std::vector<std::string>& paths);

// A new conversation token: 10 characters of lower-case base32 from a
// cryptographic random source.
std::string NewConversationToken();
// The token of an e-mail subject's `[#token]`, or "" when it has none.
std::string TokenInSubject(absl::string_view subject);
// `subject` with the conversation's token appended, unless it has it.
std::string SubjectWithToken(absl::string_view subject, absl::string_view token);

// The Message-IDs an inbound e-mail answers, most recent first
// (In-Reply-To, then References newest to oldest), without duplicates.
std::vector<std::string> ThreadCandidates(const v1::ReceiveMessageRequest& request);

// `<id>` → `id`, trimmed.
std::string BareMessageId(absl::string_view id);

// Splits a display name into given and family name at its last space.
void SplitName(absl::string_view name, std::string* given, std::string* family);

}  // namespace crm::interaction
