// crmctl accounts list | new | show | update | delete, and suppressions list | add |
// remove: the interaction service's channel accounts and suppression list.
#include <grpcpp/client_context.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "crm/interaction/v1/channel_account_service.grpc.pb.h"
#include "crm/interaction/v1/delivery_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::interaction::v1;

void PrintAccount(const v1::ChannelAccount& a) {
  std::string where;
  if (a.has_smtp()) {
    where = absl::StrCat(a.smtp().host(), ":", a.smtp().port() == 0 ? 587 : a.smtp().port(), " ",
                         api::EnumText(a.smtp().security()));
  }
  std::printf("%s  %-9s %-7s %-30s %s  %s\n", a.name().c_str(), api::EnumText(a.channel()).c_str(),
              a.is_default() ? "default" : "", a.sender().c_str(), a.display_name().c_str(),
              where.c_str());
  if (a.inbound().has_imap()) {
    const v1::ImapSettings& imap = a.inbound().imap();
    const v1::MailboxStatus& status = a.mailbox_status();
    std::string state = "not polled yet";
    if (status.has_last_poll_time()) {
      state =
          absl::StrCat("polled ", When(status.last_poll_time()), ", ", status.received_messages(),
                       " received, ", status.skipped_messages(), " skipped",
                       status.last_error().empty() ? "" : ", error: ", status.last_error());
    }
    std::printf("    inbound imap %s@%s:%d/%s  %s\n", imap.username().c_str(), imap.host().c_str(),
                imap.port() != 0                           ? imap.port()
                : imap.security() == v1::SMTP_SECURITY_TLS ? 993
                                                           : 143,
                imap.mailbox().empty() ? "INBOX" : imap.mailbox().c_str(), state.c_str());
  }
  if (!a.inbound().webhook_secret().empty()) {
    std::printf("    inbound webhook (signed with secret %s)\n",
                a.inbound().webhook_secret().c_str());
  }
}

}  // namespace

int Accounts(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr, "usage: crmctl accounts list|new|show|update|delete [NAME] [--json J]\n");
    return 2;
  }
  auto stub = v1::ChannelAccountService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "list") {
    v1::ListChannelAccountsResponse out;
    grpc::Status s = stub->ListChannelAccounts(&ctx, {}, &out);
    if (!s.ok()) return Report(s);
    for (const auto& a : out.accounts()) PrintAccount(a);
    return 0;
  }
  if (verb == "new") {
    v1::CreateChannelAccountRequest request;
    if (!FromJsonFlag(request.mutable_account())) return 2;
    v1::ChannelAccount out;
    grpc::Status s = stub->CreateChannelAccount(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintAccount(out);
    return 0;
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl accounts %s NAME\n", verb.c_str());
    return 2;
  }
  if (verb == "show") {
    v1::GetChannelAccountRequest request;
    request.set_name(args[3]);
    v1::ChannelAccount out;
    grpc::Status s = stub->GetChannelAccount(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("%s\n", Json(out).c_str());
    return 0;
  }
  if (verb == "update") {
    // The account's top-level fields the JSON sets are updated.
    v1::UpdateChannelAccountRequest request;
    if (!FromJsonFlag(request.mutable_account())) return 2;
    request.mutable_account()->set_name(args[3]);
    request.mutable_account()->set_etag(absl::GetFlag(FLAGS_etag));
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    request.account().GetReflection()->ListFields(request.account(), &fields);
    for (const auto* field : fields) {
      if (field->name() != "name" && field->name() != "etag") {
        request.mutable_update_mask()->add_paths(field->name());
      }
    }
    v1::ChannelAccount out;
    grpc::Status s = stub->UpdateChannelAccount(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintAccount(out);
    return 0;
  }
  if (verb == "delete") {
    v1::DeleteChannelAccountRequest request;
    request.set_name(args[3]);
    request.set_etag(absl::GetFlag(FLAGS_etag));
    v1::DeleteChannelAccountResponse out;
    grpc::Status s = stub->DeleteChannelAccount(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("deleted; %lld queued messages failed\n",
                static_cast<long long>(out.failed_messages()));
    return 0;
  }
  std::fprintf(stderr, "unknown verb: accounts %s\n", verb.c_str());
  return 2;
}

int Suppressions(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl suppressions list [--filter F] | add ADDRESS --status REASON | "
                 "remove NAME\n");
    return 2;
  }
  auto stub = v1::DeliveryService::NewStub(Channel());
  const std::string verb = args[2];
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "list") {
    v1::ListSuppressionsRequest request;
    request.set_filter(absl::GetFlag(FLAGS_filter));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListSuppressionsResponse out;
    grpc::Status s = stub->ListSuppressions(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    for (const auto& x : out.suppressions()) {
      std::printf("%-40s %-12s %s\n", x.address().c_str(), api::EnumText(x.reason()).c_str(),
                  x.source().c_str());
    }
    if (!out.next_page_token().empty()) {
      std::fprintf(stderr, "more: --page_token %s\n", out.next_page_token().c_str());
    }
    return 0;
  }
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl suppressions %s ADDRESS|NAME\n", verb.c_str());
    return 2;
  }
  if (verb == "add") {
    v1::CreateSuppressionRequest request;
    request.mutable_suppression()->set_address(args[3]);
    request.mutable_suppression()->set_reason(ParseEnum<v1::SuppressionReason>(
        v1::SuppressionReason_descriptor(), "SUPPRESSION_REASON_", absl::GetFlag(FLAGS_status)));
    request.mutable_suppression()->set_source(absl::GetFlag(FLAGS_source));
    v1::Suppression out;
    grpc::Status s = stub->CreateSuppression(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("%s  %s\n", out.name().c_str(), api::EnumText(out.reason()).c_str());
    return 0;
  }
  if (verb == "remove") {
    v1::DeleteSuppressionRequest request;
    request.set_name(args[3]);
    v1::DeleteSuppressionResponse out;
    grpc::Status s = stub->DeleteSuppression(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("removed\n");
    return 0;
  }
  std::fprintf(stderr, "unknown verb: suppressions %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
