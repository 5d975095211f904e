// Outbound e-mail as a well-formed MIME message, built with GMime:
// multipart/alternative text and HTML (or text alone), UTF-8 encoded as
// needed (RFC 2047 words in headers, quoted-printable or base64 bodies),
// Message-ID, In-Reply-To and References on replies, and on marketing mail
// List-Unsubscribe with List-Unsubscribe-Post (RFC 8058). CRLF line ends.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crm::interaction {

struct OutgoingEmail {
  std::string from_address;
  std::string from_name;  // may be empty
  std::string to;
  std::string subject;
  std::string text;
  std::string html;        // empty: a text/plain message
  std::string message_id;  // without angle brackets
  std::string in_reply_to;
  std::vector<std::string> references;  // oldest first
  absl::Time date;
  // The one-click unsubscribe link (HTTPS); empty: no List-Unsubscribe.
  std::string unsubscribe_url;
};

std::string BuildEmail(const OutgoingEmail& email);

// A new Message-ID for mail from `sender` (its domain) for message `id`.
std::string MessageIdFor(const std::string& id, const std::string& sender);

}  // namespace crm::interaction
