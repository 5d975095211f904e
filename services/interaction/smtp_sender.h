// E-mail out over SMTP with libcurl (STARTTLS, TLS, AUTH): one sender per
// delivery thread, whose connection libcurl keeps open between messages
// to the same server.
#pragma once

#include <memory>
#include <string>

#include "crm/interaction/v1/channel_account.pb.h"
#include "services/interaction/delivery_domain.h"

namespace crm::interaction {

struct SmtpResult {
  SendOutcome outcome = SendOutcome::kRetry;
  int code = 0;        // the server's last reply code, 0 when none came
  std::string detail;  // what went wrong, for the delivery history
};

// libcurl's one-time global setup (the SMTP sender and the provider client
// call it).
void InitCurl();
// How a mail connection (SMTP or IMAP) on `curl` (a CURL*) is secured:
// never in clear unless `security` is NONE or STARTTLS_IF_OFFERED.
void SetMailSecurity(void* curl, v1::SmtpSecurity security);

class SmtpSender {
 public:
  SmtpSender();
  ~SmtpSender();
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  // Sends `mime` (a whole RFC 5322 message) from `from` to `to` through
  // `smtp`, with `password` when it names a user; gives up on a server
  // that has not answered within `timeout`.
  SmtpResult Send(const v1::SmtpSettings& smtp, const std::string& password,
                  const std::string& from, const std::string& to, const std::string& mime,
                  absl::Duration timeout);

 private:
  void* curl_;  // CURL*, reused so that its connection is
};

}  // namespace crm::interaction
