// The rules of tickets and comments, without the database: what a new
// ticket and a comment must hold, and which status moves are allowed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crm/ticketing/v1/ticket.pb.h"

namespace crm::ticketing {

inline constexpr char kSchema[] = "ticketing";

// Whether a ticket may move from `from` to `to` (docs/ticketing.md):
// NEW → OPEN, PENDING, ON_HOLD, SOLVED; OPEN, PENDING and ON_HOLD among
// themselves and → SOLVED; SOLVED → OPEN, CLOSED; CLOSED → nothing. A move
// to the status a ticket is in is not a move (false).
bool CanMove(v1::Status from, v1::Status to);

// Whether a ticket in `status` is still being worked: NEW, OPEN, PENDING,
// ON_HOLD (it counts against its assignee's capacity and can be routed).
bool IsOpen(v1::Status status);

// The id of a resource name: `tickets/{id}` → `{id}`.
std::string IdOf(const std::string& name);

// Labels as ticket tags are written (also group skill tags and agent
// skills): lower-cased, 1 to 64 of [a-z0-9_-], at most `max`, left sorted
// and unique; INVALID_ARGUMENT names `field`.
absl::Status NormaliseLabels(google::protobuf::RepeatedPtrField<std::string>* labels,
                             absl::string_view field, size_t max);

// Fills the defaults of a new ticket (channel API, type QUESTION, priority
// NORMAL, status NEW), normalises its tags (lower case, sorted, unique) and
// validates it; INVALID_ARGUMENT names the field under `path`.
absl::Status PrepareNewTicket(v1::Ticket* ticket, absl::string_view path);

// The fields UpdateTicket changes.
// (`custom_fields.<key>` sets or removes one custom field.)
inline constexpr const char* kUpdatableTicketFields[] = {
    "subject", "description", "priority", "type",         "tags",
    "order",   "followers",   "language", "custom_fields"};

// Validates the fields of `patch` that `paths` name (at least one, each in
// kUpdatableTicketFields) and normalises its tags; INVALID_ARGUMENT names
// the field under `path`, or update_mask.
absl::Status ValidateTicketUpdate(v1::Ticket* patch, const std::vector<std::string>& paths,
                                  absl::string_view path);

// Copies the fields `paths` name from `patch` onto `ticket`.
void ApplyTicketUpdate(const v1::Ticket& patch, const std::vector<std::string>& paths,
                       v1::Ticket* ticket);

// The priority an escalation raises `current` to: `asked`, or one step up
// when UNSPECIFIED. FAILED_PRECONDITION when that is not above `current`
// (an urgent ticket escalates only to a new group: `new_group`).
absl::StatusOr<v1::Priority> EscalatedPriority(v1::Priority current, v1::Priority asked,
                                               bool new_group);

// Validates a custom status to create (label 1 to 64 characters, a
// category other than NEW, description up to 500); INVALID_ARGUMENT names
// the field under `path`.
absl::Status ValidateCustomStatus(const v1::CustomStatus& status, absl::string_view path);

// Validates a satisfaction rating (good or a score of 1 to 5, a comment up
// to 2,000 characters); INVALID_ARGUMENT names the field under `path`.
absl::Status ValidateRating(const v1::SatisfactionRating& rating, absl::string_view path);

// Validates a comment to add; INVALID_ARGUMENT names the field under `path`.
absl::Status ValidateComment(const v1::Comment& comment, absl::string_view path);

// Enum values as stored and filtered: the name without its prefix
// (STATUS_ON_HOLD ↔ "ON_HOLD").
std::string StatusText(v1::Status status);
std::string PriorityText(v1::Priority priority);
std::string TypeText(v1::TicketType type);
std::string ChannelText(v1::Channel channel);
std::string AuthorKindText(v1::AuthorKind kind);
v1::Status StatusOf(absl::string_view text);
v1::Priority PriorityOf(absl::string_view text);
v1::TicketType TypeOf(absl::string_view text);
v1::Channel ChannelOf(absl::string_view text);
v1::AuthorKind AuthorKindOf(absl::string_view text);

}  // namespace crm::ticketing
