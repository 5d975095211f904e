#include "services/interaction/conversation_domain.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "common/base/status.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kMaxAddress = 254;
constexpr size_t kMaxExternalId = 255;
constexpr size_t kMaxBody = 1000000;
constexpr size_t kMaxSubject = 998;
constexpr int kMaxAttachments = 50;
constexpr int kMaxReferences = 100;
constexpr int kMaxLabels = 20;
constexpr char kTokenAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kTokenLength = 10;

std::string PhoneDigits(absl::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  return out;
}

// A channel's own id of a person: printable ASCII without spaces.
absl::Status CheckHandle(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > kMaxAddress) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxAddress, " characters"));
  }
  for (char c : value) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": printable characters without spaces only"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAttachments(const google::protobuf::RepeatedPtrField<v1::Attachment>& list,
                              absl::string_view field) {
  if (list.size() > kMaxAttachments) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kMaxAttachments));
  }
  for (int i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    const v1::Attachment& a = list[i];
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".filename"), a.filename(), 255));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".content_type"), a.content_type(), 255));
    CRM_RETURN_IF_ERROR(api::CheckText(absl::StrCat(at, ".url"), a.url(), 2048));
    if (a.size_bytes() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".size_bytes: must not be negative"));
    }
  }
  return absl::OkStatus();
}

// Text that may hold line breaks and tabs (bodies): valid UTF-8 only.
absl::Status CheckBody(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxBody) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kMaxBody, " bytes"));
  }
  if (!api::IsValidUtf8(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckLabels(const google::protobuf::RepeatedPtrField<std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(absl::StrCat("conversation.labels: at most ", kMaxLabels));
  }
  for (int i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    const bool ok = !l.empty() && l.size() <= 64 && std::all_of(l.begin(), l.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("conversation.labels[", i, "]: 1 to 64 characters of [a-z0-9_-]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ContactAddress> ContactOf(v1::Channel channel, absl::string_view address,
                                         absl::string_view field) {
  const std::string trimmed(absl::StripAsciiWhitespace(address));
  if (trimmed.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  const bool looks_like_email = absl::StrContains(trimmed, '@');
  switch (channel) {
    case v1::CHANNEL_EMAIL:
      CRM_RETURN_IF_ERROR(api::CheckEmail(field, trimmed));
      return ContactAddress{"EMAIL", absl::AsciiStrToLower(trimmed)};
    case v1::CHANNEL_LIVE_CHAT:
    case v1::CHANNEL_WEB_FORM:
      if (looks_like_email) {
        CRM_RETURN_IF_ERROR(api::CheckEmail(field, trimmed));
        return ContactAddress{"EMAIL", absl::AsciiStrToLower(trimmed)};
      }
      [[fallthrough]];
    case v1::CHANNEL_SMS:
    case v1::CHANNEL_WHATSAPP:
    case v1::CHANNEL_PHONE: {
      const std::string phone = PhoneDigits(trimmed);
      CRM_RETURN_IF_ERROR(api::CheckE164(field, phone));
      return ContactAddress{"PHONE", phone};
    }
    case v1::CHANNEL_MESSENGER:
    case v1::CHANNEL_INSTAGRAM:
      CRM_RETURN_IF_ERROR(CheckHandle(field, trimmed));
      return ContactAddress{absl::AsciiStrToLower(api::EnumText(channel)), trimmed};
    default:
      return absl::InvalidArgumentError("channel: required");
  }
}

absl::Status ValidateReceive(const v1::ReceiveMessageRequest& r) {
  CRM_RETURN_IF_ERROR(api::RequiredEnum("channel", r.channel()));
  if (!r.channel_account().empty()) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("channel_account", r.channel_account(), "channelAccounts", &id));
  }
  if (r.customer().empty()) {
    CRM_RETURN_IF_ERROR(ContactOf(r.channel(), r.from(), "from").status());
  } else {
    CRM_RETURN_IF_ERROR(api::CheckText("from", r.from(), kMaxAddress));
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("customer", r.customer(), "customers", &id));
  }
  if (!r.conversation().empty()) {
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("conversation", r.conversation(), "conversations", &id));
  }
  CRM_RETURN_IF_ERROR(api::CheckText("sender_name", r.sender_name(), 200));
  CRM_RETURN_IF_ERROR(api::CheckText("to", r.to(), kMaxAddress));
  if (r.external_id().empty()) return absl::InvalidArgumentError("external_id: required");
  CRM_RETURN_IF_ERROR(api::CheckText("external_id", r.external_id(), kMaxExternalId));
  CRM_RETURN_IF_ERROR(api::CheckText("thread_id", r.thread_id(), kMaxExternalId));
  CRM_RETURN_IF_ERROR(api::CheckText("subject", r.subject(), kMaxSubject));
  CRM_RETURN_IF_ERROR(CheckBody("text", r.text()));
  CRM_RETURN_IF_ERROR(CheckBody("html", r.html()));
  if (r.channel() != v1::CHANNEL_EMAIL && !r.html().empty()) {
    return absl::InvalidArgumentError("html: only e-mail messages have an HTML body");
  }
  CRM_RETURN_IF_ERROR(CheckAttachments(r.attachments(), "attachments"));
  if (r.text().empty() && r.html().empty() && r.attachments().empty()) {
    return absl::InvalidArgumentError("text: a message needs a text, an HTML body or attachments");
  }
  CRM_RETURN_IF_ERROR(api::CheckText("in_reply_to", r.in_reply_to(), kMaxExternalId));
  if (r.references_size() > kMaxReferences) {
    return absl::InvalidArgumentError(absl::StrCat("references: at most ", kMaxReferences));
  }
  for (int i = 0; i < r.references_size(); ++i) {
    CRM_RETURN_IF_ERROR(
        api::CheckText(absl::StrCat("references[", i, "]"), r.references(i), kMaxExternalId));
  }
  if (r.has_sent_time() &&
      (r.sent_time().seconds() < 0 || r.sent_time().seconds() > TimeUtil::kTimestampMaxSeconds)) {
    return absl::InvalidArgumentError("sent_time: out of range");
  }
  return absl::OkStatus();
}

absl::Status ValidateConversationUpdate(const v1::Conversation& patch,
                                        const std::vector<std::string>& paths, absl::Time now) {
  if (paths.empty()) return absl::InvalidArgumentError("update_mask: required");
  bool status = false, snooze = false;  // paths named
  for (const std::string& path : paths) {
    if (path == "subject") {
      CRM_RETURN_IF_ERROR(api::CheckText("conversation.subject", patch.subject(), 200));
    } else if (path == "status") {
      status = true;
      CRM_RETURN_IF_ERROR(api::RequiredEnum("conversation.status", patch.status()));
    } else if (path == "snooze_until_time") {
      snooze = true;
    } else if (path == "assignee") {
      if (!patch.assignee().empty()) {
        std::string id;
        CRM_RETURN_IF_ERROR(
            api::ParseResourceName("conversation.assignee", patch.assignee(), "agents", &id));
      }
    } else if (path == "labels") {
      CRM_RETURN_IF_ERROR(CheckLabels(patch.labels()));
    } else if (path == "ticket") {
      if (!patch.ticket().empty()) {
        std::string id;
        CRM_RETURN_IF_ERROR(
            api::ParseResourceName("conversation.ticket", patch.ticket(), "tickets", &id));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: ", path,
                       " cannot be updated (subject, status, snooze_until_time, assignee, "
                       "labels, ticket)"));
    }
  }
  if (snooze && patch.has_snooze_until_time()) {
    const absl::Time until = absl::FromUnixSeconds(patch.snooze_until_time().seconds());
    if (until <= now) {
      return absl::InvalidArgumentError("conversation.snooze_until_time: must be in the future");
    }
    if (until > now + absl::Hours(24 * 366)) {
      return absl::InvalidArgumentError("conversation.snooze_until_time: at most a year from now");
    }
  }
  if (status && patch.status() == v1::CONVERSATION_STATUS_SNOOZED &&
      !(snooze && patch.has_snooze_until_time())) {
    return absl::InvalidArgumentError(
        "conversation.snooze_until_time: required with status SNOOZED");
  }
  if (snooze && patch.has_snooze_until_time() && status &&
      patch.status() != v1::CONVERSATION_STATUS_SNOOZED) {
    return absl::InvalidArgumentError("conversation.snooze_until_time: only with status SNOOZED");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Conversation> ApplyConversationUpdate(const v1::Conversation& current,
                                                         const v1::Conversation& patch,
                                                         const std::vector<std::string>& paths) {
  v1::Conversation next = current;
  for (const std::string& path : paths) {
    if (path == "subject") next.set_subject(patch.subject());
    if (path == "status") next.set_status(patch.status());
    if (path == "snooze_until_time") *next.mutable_snooze_until_time() = patch.snooze_until_time();
    if (path == "assignee") next.set_assignee(patch.assignee());
    if (path == "labels") {
      std::set<std::string> unique(patch.labels().begin(), patch.labels().end());
      next.clear_labels();
      for (const std::string& l : unique) next.add_labels(l);
    }
    if (path == "ticket") next.set_ticket(patch.ticket());
  }
  if (next.status() != v1::CONVERSATION_STATUS_SNOOZED) {
    if (next.has_snooze_until_time() && current.status() != v1::CONVERSATION_STATUS_SNOOZED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "conversation.snooze_until_time: ", current.name(), " is not snoozed; set status too"));
    }
    next.clear_snooze_until_time();
  }
  return next;
}

std::string NewConversationToken() {
  const std::string bytes = crypto::RandomBytes(kTokenLength);
  std::string token;
  for (char b : bytes) token.push_back(kTokenAlphabet[static_cast<unsigned char>(b) % 32]);
  return token;
}

std::string TokenInSubject(absl::string_view subject) {
  size_t at = 0;
  while ((at = subject.find("[#", at)) != absl::string_view::npos) {
    const absl::string_view rest = subject.substr(at + 2);
    if (rest.size() > kTokenLength && rest[kTokenLength] == ']') {
      const absl::string_view token = rest.substr(0, kTokenLength);
      if (std::all_of(token.begin(), token.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); })) {
        return std::string(token);
      }
    }
    at += 2;
  }
  return "";
}

std::string SubjectWithToken(absl::string_view subject, absl::string_view token) {
  if (TokenInSubject(subject) == token) return std::string(subject);
  if (subject.empty()) return absl::StrCat("[#", token, "]");
  return absl::StrCat(subject, " [#", token, "]");
}

std::string BareMessageId(absl::string_view id) {
  id = absl::StripAsciiWhitespace(id);
  absl::ConsumePrefix(&id, "<");
  absl::ConsumeSuffix(&id, ">");
  return std::string(id);
}

std::vector<std::string> ThreadCandidates(const v1::ReceiveMessageRequest& r) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  const auto add = [&](absl::string_view id) {
    std::string bare = BareMessageId(id);
    if (!bare.empty() && seen.insert(bare).second) out.push_back(std::move(bare));
  };
  add(r.in_reply_to());
  for (int i = r.references_size() - 1; i >= 0; --i) add(r.references(i));
  return out;
}

void SplitName(absl::string_view name, std::string* given, std::string* family) {
  name = absl::StripAsciiWhitespace(name);
  const size_t space = name.rfind(' ');
  if (space == absl::string_view::npos) {
    *given = std::string(name);
    family->clear();
    return;
  }
  *given = std::string(absl::StripAsciiWhitespace(name.substr(0, space)));
  *family = std::string(name.substr(space + 1));
}

}  // namespace crm::interaction
