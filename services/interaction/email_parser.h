// Inbound e-mail (RFC 5322 and MIME) into the parts of a message, with
// GMime: multipart structure, quoted-printable and base64 transfer
// encodings, charsets converted to UTF-8, RFC 2047 encoded headers, and
// the Message-ID / In-Reply-To / References that thread it.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "crm/interaction/v1/conversation_service.pb.h"

namespace crm::interaction {

inline constexpr size_t kMaxRawEmailBytes = 25 * 1024 * 1024;

// Fills `request`'s from, sender_name, to, subject, text, html,
// attachments, external_id (the Message-ID, or "sha256:<hex>" of the
// message when it has none), in_reply_to, references and sent_time from
// `raw`. INVALID_ARGUMENT naming `raw_email` when it is not a message with
// a sender.
absl::Status ParseRawEmail(absl::string_view raw, v1::ReceiveMessageRequest* request);

// GMime's one-time initialisation (the parser and the builder call it).
void InitGMime();

}  // namespace crm::interaction
