#include "services/ticketing/ticket_domain.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/ticketing/ticket_fields.h"

namespace crm::ticketing {
namespace {

using v1::Status;

// The generated name without its prefix: STATUS_ON_HOLD → ON_HOLD.
std::string Short(const std::string& name, absl::string_view prefix) {
  absl::string_view view = name;
  absl::ConsumePrefix(&view, prefix);
  return std::string(view);
}

template <typename E>
E Parse(bool (*parse)(const std::string&, E*), absl::string_view prefix, absl::string_view text) {
  E value{};
  return parse(absl::StrCat(prefix, text), &value) ? value : E{};
}

absl::Status CheckOptionalName(absl::string_view field, const std::string& name,
                               absl::string_view collection) {
  if (name.empty()) return absl::OkStatus();
  std::string id;
  return api::ParseResourceName(field, name, collection, &id);
}

}  // namespace

bool IsOpen(v1::Status s) {
  return s == v1::STATUS_NEW || s == v1::STATUS_OPEN || s == v1::STATUS_PENDING ||
         s == v1::STATUS_ON_HOLD;
}

std::string IdOf(const std::string& name) { return name.substr(name.find('/') + 1); }

absl::Status NormaliseLabels(google::protobuf::RepeatedPtrField<std::string>* labels,
                             absl::string_view field, size_t max) {
  std::set<std::string> unique;
  for (const std::string& label : *labels) {
    const std::string lower = absl::AsciiStrToLower(label);
    const bool ok =
        !lower.empty() && lower.size() <= 64 && std::all_of(lower.begin(), lower.end(), [](char c) {
          return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
        });
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": \"", label.substr(0, 64),
                                                     "\" is not 1 to 64 characters of [a-z0-9_-]"));
    }
    unique.insert(lower);
  }
  if (unique.size() > max)
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", max));
  labels->Clear();
  for (const std::string& label : unique) labels->Add(std::string(label));
  return absl::OkStatus();
}

bool CanMove(Status from, Status to) {
  if (from == to || to == v1::STATUS_NEW || to == v1::STATUS_UNSPECIFIED) return false;
  switch (from) {
    case v1::STATUS_NEW:
    case v1::STATUS_OPEN:
    case v1::STATUS_PENDING:
    case v1::STATUS_ON_HOLD:
      return to != v1::STATUS_CLOSED;
    case v1::STATUS_SOLVED:
      return to == v1::STATUS_OPEN || to == v1::STATUS_CLOSED;
    default:  // CLOSED is final
      return false;
  }
}

absl::Status PrepareNewTicket(v1::Ticket* t, absl::string_view path) {
  std::string id;
  if (t->requester().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".requester: required"));
  }
  CRM_RETURN_IF_ERROR(
      api::ParseResourceName(absl::StrCat(path, ".requester"), t->requester(), "customers", &id));
  CRM_RETURN_IF_ERROR(CheckOptionalName(absl::StrCat(path, ".order"), t->order(), "orders"));
  CRM_RETURN_IF_ERROR(CheckOptionalName(absl::StrCat(path, ".source_conversation"),
                                        t->source_conversation(), "conversations"));
  CRM_RETURN_IF_ERROR(CheckOptionalName(absl::StrCat(path, ".group"), t->group(), "groups"));
  t->clear_assignee();  // routing or AssignTicket sets it
  if (t->subject().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".subject: required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(path, ".subject"), t->subject(), 200));
  if (!t->description().empty() && !api::IsValidUtf8(t->description())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".description: not valid UTF-8"));
  }
  CRM_RETURN_IF_ERROR(
      api::CheckMaxLength(absl::StrCat(path, ".description"), t->description(), 65536));
  CRM_RETURN_IF_ERROR(api::OptionalEnum(absl::StrCat(path, ".channel"), t->channel()));
  CRM_RETURN_IF_ERROR(api::OptionalEnum(absl::StrCat(path, ".type"), t->type()));
  CRM_RETURN_IF_ERROR(api::OptionalEnum(absl::StrCat(path, ".priority"), t->priority()));
  CRM_RETURN_IF_ERROR(NormaliseLabels(t->mutable_tags(), absl::StrCat(path, ".tags"), 32));
  CRM_RETURN_IF_ERROR(NormaliseFollowers(t->mutable_followers(), absl::StrCat(path, ".followers")));
  if (!t->language().empty()) {
    CRM_RETURN_IF_ERROR(api::CheckLocale(absl::StrCat(path, ".language"), t->language()));
  }
  CRM_RETURN_IF_ERROR(
      CheckCustomFieldShapes(t->custom_fields(), absl::StrCat(path, ".custom_fields")));
  if (t->channel() == v1::CHANNEL_UNSPECIFIED) t->set_channel(v1::CHANNEL_API);
  if (t->type() == v1::TICKET_TYPE_UNSPECIFIED) t->set_type(v1::TICKET_TYPE_QUESTION);
  if (t->priority() == v1::PRIORITY_UNSPECIFIED) t->set_priority(v1::PRIORITY_NORMAL);
  t->set_status(v1::STATUS_NEW);
  return absl::OkStatus();
}

absl::Status ValidateTicketUpdate(v1::Ticket* patch, const std::vector<std::string>& paths,
                                  absl::string_view path) {
  if (paths.empty()) {
    return absl::InvalidArgumentError("update_mask: required; name the fields to change");
  }
  for (const std::string& field : paths) {
    const std::string at = absl::StrCat(path, ".", field);
    absl::string_view key = field;
    if (absl::ConsumePrefix(&key, "custom_fields.")) {
      CRM_RETURN_IF_ERROR(CheckFieldKey(absl::StrCat("update_mask: ", field), key));
      continue;  // checked with the values below
    }
    const auto* end = std::end(kUpdatableTicketFields);
    if (std::find(std::begin(kUpdatableTicketFields), end, field) == end) {
      return absl::InvalidArgumentError(absl::StrCat(
          "update_mask: '", absl::CHexEscape(field.substr(0, 64)),
          "' cannot be updated (subject, description, priority, type, tags, order, followers, "
          "language, custom_fields, custom_fields.<key>)"));
    }
    if (field == "subject") {
      if (patch->subject().empty())
        return absl::InvalidArgumentError(absl::StrCat(at, ": required"));
      CRM_RETURN_IF_ERROR(api::CheckText(at, patch->subject(), 200));
    } else if (field == "description") {
      if (!api::IsValidUtf8(patch->description())) {
        return absl::InvalidArgumentError(absl::StrCat(at, ": not valid UTF-8"));
      }
      CRM_RETURN_IF_ERROR(api::CheckMaxLength(at, patch->description(), 65536));
    } else if (field == "priority") {
      CRM_RETURN_IF_ERROR(api::RequiredEnum(at, patch->priority()));
    } else if (field == "type") {
      CRM_RETURN_IF_ERROR(api::RequiredEnum(at, patch->type()));
    } else if (field == "tags") {
      CRM_RETURN_IF_ERROR(NormaliseLabels(patch->mutable_tags(), at, 32));
    } else if (field == "order") {
      CRM_RETURN_IF_ERROR(CheckOptionalName(at, patch->order(), "orders"));
    } else if (field == "followers") {
      CRM_RETURN_IF_ERROR(NormaliseFollowers(patch->mutable_followers(), at));
    } else if (field == "language" && !patch->language().empty()) {
      CRM_RETURN_IF_ERROR(api::CheckLocale(at, patch->language()));
    }
  }
  return CheckCustomFieldShapes(patch->custom_fields(), absl::StrCat(path, ".custom_fields"));
}

void ApplyTicketUpdate(const v1::Ticket& patch, const std::vector<std::string>& paths,
                       v1::Ticket* ticket) {
  for (const std::string& field : paths) {
    if (field == "subject") ticket->set_subject(patch.subject());
    if (field == "description") ticket->set_description(patch.description());
    if (field == "priority") ticket->set_priority(patch.priority());
    if (field == "type") ticket->set_type(patch.type());
    if (field == "tags") *ticket->mutable_tags() = patch.tags();
    if (field == "order") ticket->set_order(patch.order());
    if (field == "followers") *ticket->mutable_followers() = patch.followers();
    if (field == "language") ticket->set_language(patch.language());
    if (field == "custom_fields") *ticket->mutable_custom_fields() = patch.custom_fields();
    absl::string_view key = field;
    if (absl::ConsumePrefix(&key, "custom_fields.")) {
      auto it = patch.custom_fields().find(std::string(key));
      if (it == patch.custom_fields().end()) {
        ticket->mutable_custom_fields()->erase(std::string(key));
      } else {
        (*ticket->mutable_custom_fields())[std::string(key)] = it->second;
      }
    }
  }
}

absl::StatusOr<v1::Priority> EscalatedPriority(v1::Priority current, v1::Priority asked,
                                               bool new_group) {
  if (asked == v1::PRIORITY_UNSPECIFIED) {
    if (current == v1::PRIORITY_URGENT) {
      if (new_group) return current;
      return absl::FailedPreconditionError(
          "priority: the ticket is URGENT already; escalate it to another group");
    }
    return static_cast<v1::Priority>(current + 1);
  }
  if (asked < current || (asked == current && !new_group)) {
    return absl::FailedPreconditionError(
        absl::StrCat("priority: ", PriorityText(asked), " is not above ", PriorityText(current)));
  }
  return asked;
}

absl::Status ValidateCustomStatus(const v1::CustomStatus& s, absl::string_view path) {
  if (s.label().empty()) return absl::InvalidArgumentError(absl::StrCat(path, ".label: required"));
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(path, ".label"), s.label(), 64));
  CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(path, ".category"), s.category()));
  if (s.category() == v1::STATUS_NEW) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".category: NEW has no custom statuses (a ticket leaves it at once)"));
  }
  return api::CheckText(absl::StrCat(path, ".description"), s.description(), 500);
}

absl::Status ValidateRating(const v1::SatisfactionRating& r, absl::string_view path) {
  if (r.rating_case() == v1::SatisfactionRating::RATING_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": good or score is required"));
  }
  if (r.rating_case() == v1::SatisfactionRating::kScore && (r.score() < 1 || r.score() > 5)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".score: 1 to 5"));
  }
  return api::CheckText(absl::StrCat(path, ".comment"), r.comment(), 2000);
}

absl::Status ValidateComment(const v1::Comment& c, absl::string_view path) {
  CRM_RETURN_IF_ERROR(api::RequiredEnum(absl::StrCat(path, ".author_kind"), c.author_kind()));
  if (c.author().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".author: required"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(path, ".author"), c.author(), 200));
  if (c.body().empty()) return absl::InvalidArgumentError(absl::StrCat(path, ".body: required"));
  if (!api::IsValidUtf8(c.body())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".body: not valid UTF-8"));
  }
  CRM_RETURN_IF_ERROR(api::CheckMaxLength(absl::StrCat(path, ".body"), c.body(), 65536));
  if (c.attachments_size() > 20) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".attachments: at most 20"));
  }
  for (int i = 0; i < c.attachments_size(); ++i) {
    const v1::Attachment& a = c.attachments(i);
    const std::string at = absl::StrCat(path, ".attachments[", i, "]");
    if (a.file_name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".file_name: required"));
    }
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".file_name"), a.file_name(), 255));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".content_type"), a.content_type(), 255));
    if (a.size_bytes() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".size_bytes: must be >= 0"));
    }
    if (!absl::StartsWith(a.uri(), "https://") && !absl::StartsWith(a.uri(), "s3://")) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".uri: must start https:// or s3://"));
    }
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".uri"), a.uri(), 2048));
  }
  return absl::OkStatus();
}

std::string StatusText(v1::Status s) { return Short(v1::Status_Name(s), "STATUS_"); }
std::string PriorityText(v1::Priority p) { return Short(v1::Priority_Name(p), "PRIORITY_"); }
std::string TypeText(v1::TicketType t) { return Short(v1::TicketType_Name(t), "TICKET_TYPE_"); }
std::string ChannelText(v1::Channel c) { return Short(v1::Channel_Name(c), "CHANNEL_"); }
std::string AuthorKindText(v1::AuthorKind k) {
  return Short(v1::AuthorKind_Name(k), "AUTHOR_KIND_");
}
v1::Status StatusOf(absl::string_view text) { return Parse(&v1::Status_Parse, "STATUS_", text); }
v1::Priority PriorityOf(absl::string_view text) {
  return Parse(&v1::Priority_Parse, "PRIORITY_", text);
}
v1::TicketType TypeOf(absl::string_view text) {
  return Parse(&v1::TicketType_Parse, "TICKET_TYPE_", text);
}
v1::Channel ChannelOf(absl::string_view text) {
  return Parse(&v1::Channel_Parse, "CHANNEL_", text);
}
v1::AuthorKind AuthorKindOf(absl::string_view text) {
  return Parse(&v1::AuthorKind_Parse, "AUTHOR_KIND_", text);
}

}  // namespace crm::ticketing
