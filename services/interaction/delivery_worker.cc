#include "services/interaction/delivery_worker.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "services/interaction/email_builder.h"

namespace crm::interaction {
DeliveryWorker::DeliveryWorker(DeliveryStore& store, const SecretFiles& secrets,
                               const api::PageTokenCodec& tokens, DeliveryOptions options)
    : store_(store), secrets_(secrets), tokens_(tokens), options_(std::move(options)) {}

absl::StatusOr<absl::Duration> DeliveryWorker::Step() {
  CRM_ASSIGN_OR_RETURN(std::vector<Claimed> claimed, store_.Claim(options_.batch, options_.lease));
  if (claimed.empty()) {
    CRM_ASSIGN_OR_RETURN(std::optional<absl::Time> next, store_.NextDue());
    if (!next) return options_.poll;
    return std::clamp(*next - absl::Now(), absl::ZeroDuration(), options_.poll);
  }
  std::vector<Attempt> attempts;
  attempts.reserve(claimed.size());
  for (Claimed& c : claimed) attempts.push_back(Deliver(std::move(c)));
  CRM_RETURN_IF_ERROR(store_.Record(attempts));
  return absl::ZeroDuration();
}

Attempt DeliveryWorker::Deliver(Claimed claimed) {
  Attempt attempt;
  attempt.claimed = std::move(claimed);
  const v1::Message& m = attempt.claimed.message;
  if (!attempt.claimed.account) {
    attempt.status = v1::DELIVERY_STATUS_FAILED;
    attempt.reason = attempt.claimed.account_error;
    return attempt;
  }
  if (m.channel() == v1::CHANNEL_EMAIL) {
    SendEmail(*attempt.claimed.account, &attempt);
  } else {
    SendThroughProvider(*attempt.claimed.account, &attempt);
  }
  if (attempt.status != v1::DELIVERY_STATUS_QUEUED) return attempt;
  // A retry, unless that was the last attempt.
  if (m.attempts() >= options_.max_attempts) {
    attempt.status = v1::DELIVERY_STATUS_FAILED;
    attempt.reason = absl::StrCat("gave up after ", m.attempts(), " attempts: ", attempt.reason);
    return attempt;
  }
  attempt.retry_at = absl::Now() + RetryDelay(m.attempts(), options_.backoff);
  attempt.reason = absl::StrCat("attempt ", m.attempts(), " failed: ", attempt.reason);
  return attempt;
}

namespace {

// The attempt's status for an outcome; QUEUED for a retry.
void Settle(SendOutcome outcome, const std::string& detail, const std::string& recipient,
            bool suppress, Attempt* attempt) {
  switch (outcome) {
    case SendOutcome::kSent:
      attempt->status = v1::DELIVERY_STATUS_SENT;
      return;
    case SendOutcome::kBounced:
      attempt->status = v1::DELIVERY_STATUS_BOUNCED;
      attempt->reason = detail;
      if (suppress) attempt->suppress = recipient;
      return;
    case SendOutcome::kFailed:
      attempt->status = v1::DELIVERY_STATUS_FAILED;
      attempt->reason = detail;
      return;
    case SendOutcome::kRetry:
      attempt->status = v1::DELIVERY_STATUS_QUEUED;
      attempt->reason = detail;
      return;
  }
}

}  // namespace

void DeliveryWorker::SendEmail(const v1::ChannelAccount& account, Attempt* attempt) {
  const v1::Message& m = attempt->claimed.message;
  std::string password;
  if (!account.smtp().username().empty()) {
    auto secret = secrets_.Read(account.smtp().password_secret(), "smtp.password_secret");
    if (!secret.ok()) {  // the operator may add the file: retry
      attempt->status = v1::DELIVERY_STATUS_QUEUED;
      attempt->reason = std::string(secret.status().message());
      return;
    }
    password = *std::move(secret);
  }
  OutgoingEmail email;
  email.from_address = account.sender();
  email.from_name = account.sender_name();
  email.to = m.to();
  email.subject = m.subject();
  email.text = m.text();
  email.html = m.html();
  email.message_id = m.external_id();
  email.in_reply_to = m.in_reply_to();
  email.references.assign(m.references().begin(), m.references().end());
  email.date = absl::FromUnixSeconds(m.create_time().seconds());
  if (m.purpose() == v1::PURPOSE_MARKETING && !options_.public_base_url.empty()) {
    email.unsubscribe_url =
        absl::StrCat(options_.public_base_url, "/unsubscribe/",
                     UnsubscribeToken(tokens_, attempt->claimed.tenant, m.name()));
  }
  const SmtpResult sent = smtp_.Send(account.smtp(), password, account.sender(), m.to(),
                                     BuildEmail(email), options_.send_timeout);
  Settle(sent.outcome, sent.detail, m.to(), true, attempt);
}

void DeliveryWorker::SendThroughProvider(const v1::ChannelAccount& account, Attempt* attempt) {
  const v1::Message& m = attempt->claimed.message;
  const v1::ProviderSettings& provider = account.provider();
  auto token = secrets_.Read(provider.token_secret(), "provider.token_secret");
  if (!token.ok()) {  // the operator may add the file: retry
    attempt->status = v1::DELIVERY_STATUS_QUEUED;
    attempt->reason = std::string(token.status().message());
    return;
  }
  std::string callback;
  if (!options_.public_base_url.empty()) {
    callback = absl::StrCat(options_.public_base_url, "/webhooks/", attempt->claimed.tenant, "/",
                            account.name().substr(account.name().rfind('/') + 1));
  }
  ProviderResult sent;
  switch (provider.kind()) {
    case v1::PROVIDER_KIND_TWILIO:
      sent = provider_.SendTwilio(provider, *token, account.sender(), m.to(), m.text(), callback,
                                  options_.send_timeout);
      break;
    case v1::PROVIDER_KIND_WHATSAPP_CLOUD:
      sent = provider_.SendWhatsApp(provider, *token, m.to(), m.text(), options_.send_timeout);
      break;
    case v1::PROVIDER_KIND_GENERIC: {
      auto secret = secrets_.Read(provider.webhook_secret(), "provider.webhook_secret");
      if (!secret.ok()) {
        attempt->status = v1::DELIVERY_STATUS_QUEUED;
        attempt->reason = std::string(secret.status().message());
        return;
      }
      GenericMessage message;
      message.id = m.name();
      message.channel = api::EnumText(m.channel());
      message.from = account.sender();
      message.to = m.to();
      message.text = m.text();
      message.status_callback = callback;
      sent = provider_.SendGeneric(provider, *token, *secret, message, options_.send_timeout);
      break;
    }
    default:
      sent.outcome = SendOutcome::kFailed;
      sent.detail = "the account has no provider";
  }
  attempt->external_id = sent.external_id;
  Settle(sent.outcome, sent.detail, m.to(), sent.suppress, attempt);
}

}  // namespace crm::interaction
