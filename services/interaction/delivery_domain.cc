#include "services/interaction/delivery_domain.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/enum_text.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "services/interaction/conversation_domain.h"

namespace crm::interaction {
namespace {

absl::Status CheckHost(const std::string& field, const std::string& host) {
  CRM_RETURN_IF_ERROR(api::CheckText(field, host, 253));
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']') {
      return absl::InvalidArgumentError(absl::StrCat(field, ": a host name or address"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSecretName(const std::string& field, const std::string& name) {
  if (IsValidSecretName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field,
      ": 1 to 128 characters of [A-Za-z0-9_.-], the name of a file in the secrets directory"));
}

absl::Status ValidateInbound(const v1::InboundMailSettings& in, absl::string_view field) {
  const auto at = [field](absl::string_view f) { return absl::StrCat(field, ".", f); };
  if (!in.webhook_secret().empty()) {
    CRM_RETURN_IF_ERROR(CheckSecretName(at("webhook_secret"), in.webhook_secret()));
  }
  if (!in.has_imap()) return absl::OkStatus();
  const v1::ImapSettings& imap = in.imap();
  if (imap.host().empty()) return absl::InvalidArgumentError(at("imap.host: required"));
  CRM_RETURN_IF_ERROR(CheckHost(at("imap.host"), imap.host()));
  if (imap.port() < 0 || imap.port() > 65535) {
    return absl::InvalidArgumentError(at("imap.port: 1 to 65535"));
  }
  CRM_RETURN_IF_ERROR(api::OptionalEnum(at("imap.security"), imap.security()));
  if (imap.username().empty()) return absl::InvalidArgumentError(at("imap.username: required"));
  CRM_RETURN_IF_ERROR(api::CheckText(at("imap.username"), imap.username(), 254));
  CRM_RETURN_IF_ERROR(CheckSecretName(at("imap.password_secret"), imap.password_secret()));
  if (imap.mailbox().size() > 100 ||
      !std::all_of(imap.mailbox().begin(), imap.mailbox().end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' ||
               c == '.' || c == '/' || c == '-';
      })) {
    return absl::InvalidArgumentError(
        at("imap.mailbox: up to 100 characters of letters, digits, space and _ . / -"));
  }
  if (imap.poll_interval_seconds() != 0 &&
      (imap.poll_interval_seconds() < 10 || imap.poll_interval_seconds() > 3600)) {
    return absl::InvalidArgumentError(at("imap.poll_interval_seconds: 10 to 3600"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidSecretName(absl::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

absl::Status ValidateChannelAccount(const v1::ChannelAccount& a, absl::string_view field) {
  const auto at = [field](absl::string_view f) { return absl::StrCat(field, ".", f); };
  CRM_RETURN_IF_ERROR(api::RequiredEnum(at("channel"), a.channel()));
  if (a.display_name().empty()) return absl::InvalidArgumentError(at("display_name: required"));
  CRM_RETURN_IF_ERROR(api::CheckText(at("display_name"), a.display_name(), 200));
  CRM_RETURN_IF_ERROR(api::CheckText(at("sender_name"), a.sender_name(), 200));
  if (a.channel() == v1::CHANNEL_EMAIL) {
    CRM_RETURN_IF_ERROR(api::CheckEmail(at("sender"), a.sender()));
    if (!a.has_smtp() || a.smtp().host().empty()) {
      return absl::InvalidArgumentError(at("smtp.host: required for e-mail"));
    }
    const v1::SmtpSettings& smtp = a.smtp();
    CRM_RETURN_IF_ERROR(CheckHost(at("smtp.host"), smtp.host()));
    if (smtp.port() < 0 || smtp.port() > 65535) {
      return absl::InvalidArgumentError(at("smtp.port: 1 to 65535"));
    }
    CRM_RETURN_IF_ERROR(api::OptionalEnum(at("smtp.security"), smtp.security()));
    CRM_RETURN_IF_ERROR(api::CheckText(at("smtp.username"), smtp.username(), 254));
    if (!smtp.username().empty() && smtp.password_secret().empty()) {
      return absl::InvalidArgumentError(at("smtp.password_secret: required with a username"));
    }
    if (!smtp.password_secret().empty()) {
      CRM_RETURN_IF_ERROR(CheckSecretName(at("smtp.password_secret"), smtp.password_secret()));
    }
    return ValidateInbound(a.inbound(), at("inbound"));
  }
  if (a.has_smtp()) return absl::InvalidArgumentError(at("smtp: only for e-mail"));
  if (a.has_inbound()) return absl::InvalidArgumentError(at("inbound: only for e-mail"));
  const v1::ProviderSettings& p = a.provider();
  std::vector<v1::ProviderKind> kinds;
  switch (a.channel()) {
    case v1::CHANNEL_SMS:
      kinds = {v1::PROVIDER_KIND_TWILIO, v1::PROVIDER_KIND_GENERIC};
      break;
    case v1::CHANNEL_WHATSAPP:
      kinds = {v1::PROVIDER_KIND_WHATSAPP_CLOUD, v1::PROVIDER_KIND_GENERIC};
      break;
    case v1::CHANNEL_MESSENGER:
    case v1::CHANNEL_INSTAGRAM:
      kinds = {v1::PROVIDER_KIND_GENERIC};
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          at("channel"), ": ", api::EnumText(a.channel()), " has no channel accounts"));
  }
  CRM_RETURN_IF_ERROR(ContactOf(a.channel(), a.sender(), at("sender")).status());
  if (std::find(kinds.begin(), kinds.end(), p.kind()) == kinds.end()) {
    std::vector<std::string> names;
    for (auto k : kinds) names.push_back(v1::ProviderKind_Name(k));
    return absl::InvalidArgumentError(at(absl::StrCat(
        "provider.kind: ", absl::StrJoin(names, " or "), " for ", api::EnumText(a.channel()))));
  }
  if (!p.base_url().empty() && !absl::StartsWith(p.base_url(), "https://") &&
      !absl::StartsWith(p.base_url(), "http://")) {
    return absl::InvalidArgumentError(at("provider.base_url: an http(s) URL"));
  }
  if (p.kind() == v1::PROVIDER_KIND_GENERIC && p.base_url().empty()) {
    return absl::InvalidArgumentError(at("provider.base_url: required for a generic provider"));
  }
  CRM_RETURN_IF_ERROR(api::CheckText(at("provider.base_url"), p.base_url(), 500));
  const bool needs_account = p.kind() != v1::PROVIDER_KIND_GENERIC;
  if ((needs_account || !p.account_id().empty()) &&
      (p.account_id().empty() || p.account_id().size() > 64 ||
       !std::all_of(p.account_id().begin(), p.account_id().end(),
                    [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }))) {
    return absl::InvalidArgumentError(at(
        "provider.account_id: 1 to 64 letters and digits (Twilio: the account SID; WhatsApp: the "
        "phone number id)"));
  }
  const auto secret = [&](const char* name, const std::string& value,
                          bool required) -> absl::Status {
    if (value.empty() && !required) return absl::OkStatus();
    if (!IsValidSecretName(value)) {
      return absl::InvalidArgumentError(
          at(absl::StrCat("provider.", name, ": the name of a file in the secrets directory")));
    }
    return absl::OkStatus();
  };
  CRM_RETURN_IF_ERROR(secret("token_secret", p.token_secret(), true));
  CRM_RETURN_IF_ERROR(
      secret("webhook_secret", p.webhook_secret(), p.kind() != v1::PROVIDER_KIND_TWILIO));
  CRM_RETURN_IF_ERROR(secret("verify_token_secret", p.verify_token_secret(),
                             p.kind() == v1::PROVIDER_KIND_WHATSAPP_CLOUD));
  return absl::OkStatus();
}

absl::Status CheckChannelAccountPaths(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("update_mask: required");
  for (const std::string& p : paths) {
    if (p != "display_name" && p != "sender" && p != "sender_name" && p != "is_default" &&
        p != "smtp" && p != "inbound" && p != "provider") {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: ", p,
                       " cannot be updated (display_name, sender, sender_name, is_default, smtp, "
                       "inbound, provider)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSuppression(const v1::Suppression& s) {
  CRM_RETURN_IF_ERROR(api::RequiredEnum("suppression.reason", s.reason()));
  CRM_RETURN_IF_ERROR(api::CheckText("suppression.source", s.source(), 200));
  const v1::Channel channel =
      absl::StrContains(s.address(), '@') ? v1::CHANNEL_EMAIL : v1::CHANNEL_SMS;
  return ContactOf(channel, s.address(), "suppression.address").status();
}

absl::Status ParseSuppressionName(absl::string_view name, std::string* kind, std::string* address) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "suppressions/")) {
    return absl::InvalidArgumentError("name: must be suppressions/{EMAIL|PHONE}:{address}");
  }
  const size_t colon = rest.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError("name: must be suppressions/{EMAIL|PHONE}:{address}");
  }
  *kind = std::string(rest.substr(0, colon));
  if (*kind != "EMAIL" && *kind != "PHONE") {
    return absl::InvalidArgumentError("name: the kind is EMAIL or PHONE");
  }
  auto contact = ContactOf(*kind == "EMAIL" ? v1::CHANNEL_EMAIL : v1::CHANNEL_SMS,
                           rest.substr(colon + 1), "name");
  CRM_RETURN_IF_ERROR(contact.status());
  *address = contact->address;
  return absl::OkStatus();
}

absl::Status ValidateSend(const v1::SendMessageRequest& r) {
  std::string id;
  if (!r.conversation().empty()) {
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("conversation", r.conversation(), "conversations", &id));
    if (!r.customer().empty() || r.channel() != v1::CHANNEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "conversation: give a conversation, or a customer and a channel, not both");
    }
  } else {
    if (r.customer().empty()) {
      return absl::InvalidArgumentError("customer: required without a conversation");
    }
    CRM_RETURN_IF_ERROR(api::ParseResourceName("customer", r.customer(), "customers", &id));
    CRM_RETURN_IF_ERROR(api::RequiredEnum("channel", r.channel()));
    if (r.channel() != v1::CHANNEL_EMAIL && r.channel() != v1::CHANNEL_SMS &&
        r.channel() != v1::CHANNEL_WHATSAPP) {
      return absl::InvalidArgumentError(
          absl::StrCat("channel: sending on ", api::EnumText(r.channel()),
                       " is not supported yet (EMAIL, SMS, WHATSAPP)"));
    }
  }
  if (!r.channel_account().empty()) {
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("channel_account", r.channel_account(), "channelAccounts", &id));
  }
  CRM_RETURN_IF_ERROR(api::RequiredEnum("purpose", r.purpose()));
  CRM_RETURN_IF_ERROR(api::RequiredEnum("author_kind", r.author_kind()));
  if (r.author_kind() == v1::AUTHOR_KIND_CUSTOMER) {
    return absl::InvalidArgumentError(
        "author_kind: AGENT, SYSTEM or CAMPAIGN (customers' messages arrive by ReceiveMessage)");
  }
  CRM_RETURN_IF_ERROR(api::CheckText("author", r.author(), 200));
  CRM_RETURN_IF_ERROR(api::CheckText("to", r.to(), 254));
  CRM_RETURN_IF_ERROR(api::CheckText("subject", r.subject(), 998));
  const bool templated = !r.template_().empty() || !r.template_key().empty();
  if (!r.template_().empty() && !r.template_key().empty()) {
    return absl::InvalidArgumentError("template_key: give a template or a key, not both");
  }
  if (!r.template_().empty()) {
    CRM_RETURN_IF_ERROR(api::ParseResourceName("template", r.template_(), "templates", &id));
  }
  CRM_RETURN_IF_ERROR(api::CheckText("template_key", r.template_key(), 64));
  if (!r.order().empty())
    CRM_RETURN_IF_ERROR(api::ParseResourceName("order", r.order(), "orders", &id));
  if (templated) {
    for (const auto& [field, set] : {std::pair<const char*, bool>{"text", !r.text().empty()},
                                     {"html", !r.html().empty()},
                                     {"subject", !r.subject().empty()}}) {
      if (set) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": comes from the template; leave it empty"));
      }
    }
    return absl::OkStatus();
  }
  if (!r.order().empty() || !r.offer().empty()) {
    return absl::InvalidArgumentError("order: only with a template");
  }
  if (r.text().empty()) return absl::InvalidArgumentError("text: required");
  if (r.text().size() > 1000000 || !api::IsValidUtf8(r.text())) {
    return absl::InvalidArgumentError("text: valid UTF-8, at most 1,000,000 bytes");
  }
  if (r.html().size() > 1000000 || !api::IsValidUtf8(r.html())) {
    return absl::InvalidArgumentError("html: valid UTF-8, at most 1,000,000 bytes");
  }
  return absl::OkStatus();
}

bool Suppresses(v1::SuppressionReason reason, v1::Purpose purpose) {
  if (reason == v1::SUPPRESSION_REASON_HARD_BOUNCE) return true;
  return purpose != v1::PURPOSE_TRANSACTIONAL;
}

absl::Duration RetryDelay(int attempt, absl::Duration base) {
  absl::Duration delay = base;
  for (int i = 1; i < attempt && delay < absl::Hours(1); ++i) delay *= 2;
  return std::min(delay, absl::Hours(1));
}

v1::DeliveryStatus StatusOfTwilio(absl::string_view status, absl::string_view error_code,
                                  bool* suppress) {
  *suppress = false;
  if (status == "sent") return v1::DELIVERY_STATUS_SENT;
  if (status == "delivered") return v1::DELIVERY_STATUS_DELIVERED;
  if (status == "read") return v1::DELIVERY_STATUS_OPENED;
  if (status == "undelivered" || status == "failed") {
    // 30005 unknown destination, 30006 landline or unreachable carrier,
    // 21610 the recipient replied STOP: the number cannot take messages.
    if (error_code == "30005" || error_code == "30006" || error_code == "21610") {
      *suppress = true;
      return v1::DELIVERY_STATUS_BOUNCED;
    }
    return v1::DELIVERY_STATUS_FAILED;
  }
  return v1::DELIVERY_STATUS_UNSPECIFIED;
}

absl::Status ValidateDeliveryEvent(const v1::RecordDeliveryEventRequest& r) {
  CRM_RETURN_IF_ERROR(api::RequiredEnum("channel", r.channel()));
  if (r.external_id().empty()) return absl::InvalidArgumentError("external_id: required");
  CRM_RETURN_IF_ERROR(api::CheckText("external_id", r.external_id(), 998));
  switch (r.status()) {
    case v1::DELIVERY_STATUS_SENT:
    case v1::DELIVERY_STATUS_DELIVERED:
    case v1::DELIVERY_STATUS_OPENED:
    case v1::DELIVERY_STATUS_CLICKED:
    case v1::DELIVERY_STATUS_BOUNCED:
    case v1::DELIVERY_STATUS_FAILED:
    case v1::DELIVERY_STATUS_COMPLAINED:
      break;
    default:
      return absl::InvalidArgumentError(
          "status: SENT, DELIVERED, OPENED, CLICKED, BOUNCED, FAILED or COMPLAINED");
  }
  if (r.permanent() && r.status() != v1::DELIVERY_STATUS_BOUNCED) {
    return absl::InvalidArgumentError("permanent: only for BOUNCED");
  }
  return api::CheckText("reason", r.reason(), 500);
}

bool MovesForward(v1::DeliveryStatus current, v1::DeliveryStatus next) {
  const auto rank = [](v1::DeliveryStatus s) {
    switch (s) {
      case v1::DELIVERY_STATUS_QUEUED:
        return 0;
      case v1::DELIVERY_STATUS_SENT:
        return 1;
      case v1::DELIVERY_STATUS_DELIVERED:
        return 2;
      case v1::DELIVERY_STATUS_OPENED:
        return 3;
      case v1::DELIVERY_STATUS_CLICKED:
        return 4;
      default:
        return 5;  // BOUNCED, FAILED, COMPLAINED: final
    }
  };
  return rank(next) > rank(current);
}

SendOutcome ClassifySmtp(bool ok, int smtp_code, bool recipient_stage) {
  if (ok) return SendOutcome::kSent;
  if (smtp_code >= 500 && smtp_code < 600) {
    return recipient_stage ? SendOutcome::kBounced : SendOutcome::kFailed;
  }
  return SendOutcome::kRetry;  // 4xx, or no answer at all
}

}  // namespace crm::interaction
