#include "services/interaction/whatsapp.h"

#include <google/protobuf/util/time_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/crypto.h"

namespace crm::interaction {
namespace {

using nlohmann::json;

std::string Text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The first error's code and title of a webhook status or an API answer.
std::pair<int64_t, std::string> FirstError(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return {0, ""};
  const json* e = &*it;
  if (e->is_array()) {
    if (e->empty()) return {0, ""};
    e = &(*e)[0];
  }
  if (!e->is_object()) return {0, ""};
  int64_t code = 0;
  if (const auto c = e->find("code"); c != e->end() && c->is_number_integer()) {
    code = c->get<int64_t>();
  }
  std::string title = Text(*e, "title");
  if (title.empty()) title = Text(*e, "message");
  return {code, title};
}

// 131026: the number is not on WhatsApp or cannot receive messages.
constexpr int64_t kUndeliverable = 131026;

}  // namespace

std::string WhatsAppSendBody(absl::string_view to, absl::string_view text) {
  std::string digits;
  for (char c : to) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  const json body = {{"messaging_product", "whatsapp"},
                     {"recipient_type", "individual"},
                     {"to", digits},
                     {"type", "text"},
                     {"text", {{"preview_url", false}, {"body", std::string(text)}}}};
  return body.dump();
}

WhatsAppSendResult WhatsAppSendOutcome(long http_status, absl::string_view response_body) {
  WhatsAppSendResult r;
  const json j = json::parse(response_body, nullptr, /*allow_exceptions=*/false);
  if (http_status >= 200 && http_status < 300) {
    if (j.is_object()) {
      if (const auto m = j.find("messages"); m != j.end() && m->is_array() && !m->empty()) {
        r.external_id = Text((*m)[0], "id");
      }
    }
    if (r.external_id.empty()) {
      r.detail = "WhatsApp accepted the message without an id";
      return r;  // retry: we cannot follow it
    }
    r.outcome = SendOutcome::kSent;
    return r;
  }
  const auto [code, title] = j.is_object() ? FirstError(j, "error") : std::make_pair(0L, "");
  r.detail = absl::StrCat("WhatsApp ", http_status, code != 0 ? absl::StrCat(" error ", code) : "",
                          title.empty() ? "" : absl::StrCat(": ", title));
  if (code == kUndeliverable) {
    r.outcome = SendOutcome::kBounced;
    r.suppress = true;
    return r;
  }
  const bool throttled = http_status == 429 || code == 130429 || code == 80007 || code == 4;
  if (http_status >= 400 && http_status < 500 && !throttled && http_status != 401 &&
      http_status != 403) {
    r.outcome = SendOutcome::kFailed;  // a retry cannot fix the request
    return r;
  }
  return r;  // throttled, the token (the operator renews it), the server: retry
}

std::string WhatsAppSignature(absl::string_view app_secret, absl::string_view body) {
  return absl::StrCat("sha256=", absl::BytesToHexString(crypto::HmacSha256(app_secret, body)));
}

absl::StatusOr<WhatsAppWebhook> ParseWhatsAppWebhook(absl::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || Text(j, "object") != "whatsapp_business_account") {
    return absl::InvalidArgumentError("object: not a whatsapp_business_account webhook");
  }
  WhatsAppWebhook out;
  const auto entries = j.find("entry");
  if (entries == j.end() || !entries->is_array()) return out;
  for (const json& entry : *entries) {
    const auto changes = entry.find("changes");
    if (changes == entry.end() || !changes->is_array()) continue;
    for (const json& change : *changes) {
      const auto value = change.find("value");
      if (value == change.end() || !value->is_object()) continue;
      std::map<std::string, std::string> names;  // wa_id → profile name
      if (const auto contacts = value->find("contacts");
          contacts != value->end() && contacts->is_array()) {
        for (const json& c : *contacts) {
          if (const auto p = c.find("profile"); p != c.end() && p->is_object()) {
            names[Text(c, "wa_id")] = Text(*p, "name");
          }
        }
      }
      if (const auto messages = value->find("messages");
          messages != value->end() && messages->is_array()) {
        for (const json& m : *messages) {
          v1::ReceiveMessageRequest r;
          r.set_channel(v1::CHANNEL_WHATSAPP);
          const std::string from = Text(m, "from");
          r.set_from(from.empty() ? "" : absl::StrCat("+", from));
          r.set_sender_name(names[from]);
          r.set_external_id(Text(m, "id"));
          int64_t seconds = 0;
          if (absl::SimpleAtoi(Text(m, "timestamp"), &seconds) && seconds > 0) {
            *r.mutable_sent_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(seconds);
          }
          const std::string type = Text(m, "type");
          if (const auto t = m.find(type); t != m.end() && t->is_object()) {
            if (type == "text") {
              r.set_text(Text(*t, "body"));
            } else if (type == "button") {
              r.set_text(Text(*t, "text"));
            } else {
              r.set_text(Text(*t, "caption"));
              if (!Text(*t, "id").empty()) {
                v1::Attachment* a = r.add_attachments();
                a->set_filename(Text(*t, "filename").empty() ? Text(*t, "id")
                                                             : Text(*t, "filename"));
                a->set_content_type(Text(*t, "mime_type"));
                a->set_url(absl::StrCat("whatsapp-media:", Text(*t, "id")));
              }
            }
          }
          if (const auto ctx = m.find("context"); ctx != m.end() && ctx->is_object()) {
            r.set_in_reply_to(Text(*ctx, "id"));
          }
          out.messages.push_back(std::move(r));
        }
      }
      if (const auto statuses = value->find("statuses");
          statuses != value->end() && statuses->is_array()) {
        for (const json& s : *statuses) {
          WhatsAppStatus st;
          st.external_id = Text(s, "id");
          const std::string status = Text(s, "status");
          if (status == "sent") {
            st.status = v1::DELIVERY_STATUS_SENT;
          } else if (status == "delivered") {
            st.status = v1::DELIVERY_STATUS_DELIVERED;
          } else if (status == "read") {
            st.status = v1::DELIVERY_STATUS_OPENED;
          } else if (status == "failed") {
            const auto [code, title] = FirstError(s, "errors");
            st.suppress = code == kUndeliverable;
            st.status = st.suppress ? v1::DELIVERY_STATUS_BOUNCED : v1::DELIVERY_STATUS_FAILED;
            st.reason = absl::StrCat("error ", code, title.empty() ? "" : ": ", title);
          }
          if (!st.external_id.empty() && st.status != v1::DELIVERY_STATUS_UNSPECIFIED) {
            out.statuses.push_back(std::move(st));
          }
        }
      }
    }
  }
  return out;
}

}  // namespace crm::interaction
