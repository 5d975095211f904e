#include "services/interaction/email_parser.h"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "services/interaction/conversation_domain.h"

namespace crm::interaction {
namespace {

struct Unref {
  void operator()(gpointer p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

// Text that is not valid UTF-8 after charset conversion (a wrong or missing
// charset label) is read as Latin-1, which every byte string is.
std::string AsUtf8(std::string text) {
  if (api::IsValidUtf8(text)) return text;
  gsize written = 0;
  gchar* converted = g_convert(text.data(), static_cast<gssize>(text.size()), "UTF-8", "ISO-8859-1",
                               nullptr, &written, nullptr);
  if (converted == nullptr) return "";
  std::string out(converted, written);
  g_free(converted);
  return out;
}

// The decoded bytes of a part (transfer encoding undone), converted from
// its charset to UTF-8 when `text`.
std::string PartContent(GMimePart* part, bool text) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return "";
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  GPtr<GMimeStream> filtered(g_mime_stream_filter_new(mem.get()));
  const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  if (text && charset != nullptr && g_ascii_strcasecmp(charset, "utf-8") != 0) {
    GMimeFilter* convert = g_mime_filter_charset_new(charset, "UTF-8");
    if (convert != nullptr) {
      g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), convert);
      g_object_unref(convert);
    }
  }
  g_mime_data_wrapper_write_to_stream(content, filtered.get());
  g_mime_stream_flush(filtered.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  std::string out(reinterpret_cast<const char*>(bytes->data), bytes->len);
  return text ? AsUtf8(std::move(out)) : out;
}

struct Walk {
  v1::ReceiveMessageRequest* request;
};

void VisitPart(GMimeObject* /*parent*/, GMimeObject* object, gpointer data) {
  auto* walk = static_cast<Walk*>(data);
  if (!GMIME_IS_PART(object)) return;  // multiparts and attached messages' envelopes
  GMimePart* part = GMIME_PART(object);
  GMimeContentType* type = g_mime_object_get_content_type(object);
  const bool attachment = g_mime_part_is_attachment(part);
  if (!attachment && g_mime_content_type_is_type(type, "text", "plain") &&
      walk->request->text().empty()) {
    walk->request->set_text(PartContent(part, true));
    return;
  }
  if (!attachment && g_mime_content_type_is_type(type, "text", "html") &&
      walk->request->html().empty()) {
    walk->request->set_html(PartContent(part, true));
    return;
  }
  v1::Attachment* a = walk->request->add_attachments();
  const char* filename = g_mime_part_get_filename(part);
  a->set_filename(filename == nullptr ? "" : AsUtf8(filename));
  gchar* mime_type = g_mime_content_type_get_mime_type(type);
  a->set_content_type(absl::AsciiStrToLower(mime_type));
  g_free(mime_type);
  a->set_size_bytes(static_cast<int64_t>(PartContent(part, false).size()));
}

// The first mailbox of `list`: its address and display name.
bool FirstMailbox(InternetAddressList* list, std::string* address, std::string* name) {
  if (list == nullptr) return false;
  for (int i = 0; i < internet_address_list_length(list); ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (addr == nullptr || *addr == '\0') continue;
    *address = addr;
    const char* display = internet_address_get_name(ia);
    if (name != nullptr && display != nullptr) *name = AsUtf8(display);
    return true;
  }
  return false;
}

std::vector<std::string> MessageIds(GMimeObject* message, const char* header) {
  std::vector<std::string> ids;
  const char* value = g_mime_object_get_header(message, header);
  if (value == nullptr) return ids;
  GMimeReferences* refs = g_mime_references_parse(nullptr, value);
  if (refs == nullptr) return ids;
  for (int i = 0; i < g_mime_references_length(refs); ++i) {
    ids.push_back(g_mime_references_get_message_id(refs, i));
  }
  g_mime_references_free(refs);
  return ids;
}

}  // namespace

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

absl::Status ParseRawEmail(absl::string_view raw, v1::ReceiveMessageRequest* request) {
  if (raw.size() > kMaxRawEmailBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_email: at most ", kMaxRawEmailBytes, " bytes"));
  }
  InitGMime();
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (message == nullptr) {
    return absl::InvalidArgumentError("raw_email: not an RFC 5322 message");
  }
  std::string from, name;
  if (!FirstMailbox(g_mime_message_get_from(message.get()), &from, &name)) {
    return absl::InvalidArgumentError("raw_email: the message has no From address");
  }
  request->set_from(from);
  request->set_sender_name(name);
  std::string to;
  if (FirstMailbox(g_mime_message_get_to(message.get()), &to, nullptr)) request->set_to(to);
  const char* subject = g_mime_message_get_subject(message.get());
  if (subject != nullptr) request->set_subject(AsUtf8(subject));
  const char* message_id = g_mime_message_get_message_id(message.get());
  if (message_id != nullptr && *message_id != '\0') {
    request->set_external_id(BareMessageId(message_id));
  } else {
    request->set_external_id(absl::StrCat("sha256:", crypto::Sha256Hex(raw)));
  }
  GMimeObject* object = GMIME_OBJECT(message.get());
  const std::vector<std::string> in_reply_to = MessageIds(object, "In-Reply-To");
  if (!in_reply_to.empty()) request->set_in_reply_to(in_reply_to.front());
  for (std::string& id : MessageIds(object, "References")) {
    request->add_references(std::move(id));
  }
  GDateTime* date = g_mime_message_get_date(message.get());
  if (date != nullptr) request->mutable_sent_time()->set_seconds(g_date_time_to_unix(date));
  Walk walk{request};
  g_mime_message_foreach(message.get(), VisitPart, &walk);
  return absl::OkStatus();
}

}  // namespace crm::interaction
