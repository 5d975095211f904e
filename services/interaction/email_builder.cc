#include "services/interaction/email_builder.h"

#include <gmime/gmime.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/interaction/email_parser.h"

namespace crm::interaction {
namespace {

GMimeObject* TextPart(const char* subtype, const std::string& text) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  g_mime_text_part_set_text(part, text.c_str());  // labels the charset (us-ascii or utf-8)
  return GMIME_OBJECT(part);
}

std::string Bracketed(const std::string& id) { return absl::StrCat("<", id, ">"); }

// A header written as given: GMime would encode a long unstructured value
// (a URL) as RFC 2047 words, which no mail client reads as a link. `value`
// is printable ASCII, each line (folded with "\n ") at most 998 characters.
void SetRawHeader(GMimeObject* object, const char* name, const std::string& value) {
  g_mime_object_set_header(object, name, "", nullptr);
  GMimeHeader* header = g_mime_header_list_get_header(g_mime_object_get_header_list(object), name);
  g_mime_header_set_raw_value(header, absl::StrCat(" ", value, "\n").c_str());
}

}  // namespace

std::string MessageIdFor(const std::string& id, const std::string& sender) {
  const size_t at = sender.rfind('@');
  const std::string domain = at == std::string::npos ? "localhost" : sender.substr(at + 1);
  return absl::StrCat(id, "@", domain);
}

std::string BuildEmail(const OutgoingEmail& e) {
  InitGMime();
  GMimeMessage* message = g_mime_message_new(TRUE);
  GMimeObject* object = GMIME_OBJECT(message);
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_FROM,
                             e.from_name.empty() ? nullptr : e.from_name.c_str(),
                             e.from_address.c_str());
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, nullptr, e.to.c_str());
  g_mime_message_set_subject(message, e.subject.c_str(), "utf-8");
  g_mime_message_set_message_id(message, e.message_id.c_str());
  GDateTime* date = g_date_time_new_from_unix_utc(absl::ToUnixSeconds(e.date));
  g_mime_message_set_date(message, date);
  g_date_time_unref(date);
  // Written as given, one id per line: GMime would reparse them and drop
  // every id after one it does not take for a msg-id.
  if (!e.in_reply_to.empty()) SetRawHeader(object, "In-Reply-To", Bracketed(e.in_reply_to));
  if (!e.references.empty()) {
    std::vector<std::string> ids;
    for (const std::string& r : e.references) ids.push_back(Bracketed(r));
    SetRawHeader(object, "References", absl::StrJoin(ids, "\n "));
  }
  if (!e.unsubscribe_url.empty()) {
    SetRawHeader(object, "List-Unsubscribe", Bracketed(e.unsubscribe_url));
    g_mime_object_set_header(object, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click",
                             nullptr);
  }
  GMimeObject* body = TextPart("plain", e.text);
  if (!e.html.empty()) {
    GMimeMultipart* alternative = g_mime_multipart_new_with_subtype("alternative");
    g_mime_multipart_add(alternative, body);
    g_object_unref(body);
    GMimeObject* html = TextPart("html", e.html);
    g_mime_multipart_add(alternative, html);
    g_object_unref(html);
    body = GMIME_OBJECT(alternative);
  }
  g_mime_message_set_mime_part(message, body);
  g_object_unref(body);
  // Every part fit for 7-bit transport: quoted-printable or base64 as the
  // content suits.
  g_mime_object_encode(object, GMIME_ENCODING_CONSTRAINT_7BIT);
  GMimeFormatOptions* options = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
  char* text = g_mime_object_to_string(object, options);
  std::string out(text);
  g_free(text);
  g_mime_format_options_free(options);
  g_object_unref(message);
  return out;
}

}  // namespace crm::interaction
