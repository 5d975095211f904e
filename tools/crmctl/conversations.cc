// crmctl conversations list | get | messages | timeline | receive | send |
// status | label | merge.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api/enum_text.h"
#include "common/base/crypto.h"
#include "crm/interaction/v1/conversation_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

namespace crm::crmctl {
namespace {

namespace v1 = crm::interaction::v1;
using google::protobuf::util::TimeUtil;

// One line per conversation: name, channel, status, messages, last
// message time, labels, subject.
void PrintConversation(const v1::Conversation& c) {
  std::printf(
      "%s  %-9s %-7s %3lld  %s  %s%s\n", c.name().c_str(), api::EnumText(c.channel()).c_str(),
      api::EnumText(c.status()).c_str(), static_cast<long long>(c.message_count()),
      When(c.last_message_time()).c_str(),
      c.labels().empty() ? "" : absl::StrCat("[", absl::StrJoin(c.labels(), ","), "] ").c_str(),
      c.subject().c_str());
}

// One message: time, direction arrow, channel, author, first line of text.
void PrintMessage(const v1::Message& m) {
  std::string text = m.text().empty() ? m.html() : m.text();
  text = std::string(absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
  if (text.size() > 100) text = text.substr(0, 97) + "...";
  std::printf("%s  %s %-9s %-9s %-10s %s\n", When(m.create_time()).c_str(),
              m.direction() == v1::DIRECTION_INBOUND ? "<-" : "->",
              api::EnumText(m.channel()).c_str(), api::EnumText(m.author_kind()).c_str(),
              api::EnumText(m.delivery_status()).c_str(), text.c_str());
}

int List(v1::ConversationService::Stub& stub) {
  v1::ListConversationsRequest request;
  request.set_filter(absl::GetFlag(FLAGS_filter));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  size_t total = 0;
  for (;;) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::ListConversationsResponse response;
    grpc::Status s = stub.ListConversations(&ctx, request, &response);
    if (!s.ok()) return Report(s);
    for (const auto& c : response.conversations()) PrintConversation(c);
    total += response.conversations_size();
    if (response.next_page_token().empty()) break;
    if (!absl::GetFlag(FLAGS_all)) {
      std::fprintf(stderr, "more: --page_token %s\n", response.next_page_token().c_str());
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  std::fprintf(stderr, "%zu conversations\n", total);
  return 0;
}

int Timeline(v1::ConversationService::Stub& stub, const std::string& customer) {
  v1::ListTimelineRequest request;
  request.set_customer(customer);
  request.set_filter(absl::GetFlag(FLAGS_filter));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::ListTimelineResponse response;
  grpc::Status s = stub.ListTimeline(&ctx, request, &response);
  if (!s.ok()) return Report(s);
  std::string last;
  for (const auto& e : response.entries()) {
    if (e.conversation().name() != last) {
      std::printf("%s  %s\n", e.conversation().name().c_str(), e.conversation().subject().c_str());
      last = e.conversation().name();
    }
    std::printf("  ");
    PrintMessage(e.message());
  }
  if (!response.next_page_token().empty()) {
    std::fprintf(stderr, "more: --page_token %s\n", response.next_page_token().c_str());
  }
  return 0;
}

int Receive(v1::ConversationService::Stub& stub) {
  v1::ReceiveMessageRequest request;
  request.set_channel(
      ParseEnum<v1::Channel>(v1::Channel_descriptor(), "CHANNEL_", absl::GetFlag(FLAGS_channel)));
  const std::string raw_file = absl::GetFlag(FLAGS_raw_file);
  if (!raw_file.empty()) {
    std::ostringstream raw;
    if (raw_file == "-") {
      raw << std::cin.rdbuf();
    } else {
      std::ifstream in(raw_file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "error: cannot read %s\n", raw_file.c_str());
        return 2;
      }
      raw << in.rdbuf();
    }
    request.set_raw_email(raw.str());
    if (request.channel() == v1::CHANNEL_UNSPECIFIED) request.set_channel(v1::CHANNEL_EMAIL);
  } else {
    request.set_from(absl::GetFlag(FLAGS_from));
    request.set_text(absl::GetFlag(FLAGS_body));
    request.set_subject(absl::GetFlag(FLAGS_subject));
    request.set_thread_id(absl::GetFlag(FLAGS_thread_id));
    request.set_customer(absl::GetFlag(FLAGS_requester));
    // Without an id of the channel's, each call is a new message.
    const std::string id = absl::GetFlag(FLAGS_external_id);
    request.set_external_id(id.empty() ? absl::StrCat("crmctl-", crypto::NewUuid()) : id);
  }
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::ReceiveMessageResponse out;
  grpc::Status s = stub.ReceiveMessage(&ctx, request, &out);
  if (!s.ok()) return Report(s);
  PrintConversation(out.conversation());
  PrintMessage(out.message());
  std::printf("customer %s%s%s%s\n", out.conversation().customer().c_str(),
              out.customer_created() ? " (new)" : "",
              out.conversation_created() ? ", new conversation" : "",
              out.replayed() ? ", already received" : "");
  return 0;
}

// conversations send [NAME]: a reply in conversation NAME, or with
// --requester and --channel a message to a customer.
int Send(v1::ConversationService::Stub& stub, const std::string& conversation) {
  v1::SendMessageRequest request;
  request.set_conversation(conversation);
  if (conversation.empty()) {
    request.set_customer(absl::GetFlag(FLAGS_requester));
    request.set_channel(
        ParseEnum<v1::Channel>(v1::Channel_descriptor(), "CHANNEL_", absl::GetFlag(FLAGS_channel)));
  }
  request.set_purpose(ParseEnum<v1::Purpose>(
      v1::Purpose_descriptor(), "PURPOSE_",
      absl::GetFlag(FLAGS_purpose).empty() ? "transactional" : absl::GetFlag(FLAGS_purpose)));
  const std::string kind = absl::GetFlag(FLAGS_author_kind);
  request.set_author_kind(ParseEnum<v1::AuthorKind>(v1::AuthorKind_descriptor(), "AUTHOR_KIND_",
                                                    kind.empty() ? "agent" : kind));
  request.set_author(absl::GetFlag(FLAGS_author));
  request.set_subject(absl::GetFlag(FLAGS_subject));
  request.set_text(absl::GetFlag(FLAGS_body));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::SendMessageResponse out;
  grpc::Status s = stub.SendMessage(&ctx, request, &out);
  if (!s.ok()) return Report(s);
  PrintConversation(out.conversation());
  PrintMessage(out.message());
  return 0;
}

}  // namespace

int Conversations(const std::vector<char*>& args) {
  if (args.size() < 3) {
    std::fprintf(stderr,
                 "usage: crmctl conversations "
                 "list|get|messages|timeline|receive|send|status|label|open-ticket|"
                 "merge [NAME] [flags]\n");
    return 2;
  }
  auto stub = v1::ConversationService::NewStub(Channel());
  const std::string verb = args[2];
  if (verb == "list") return List(*stub);
  if (verb == "receive") return Receive(*stub);
  if (verb == "send") return Send(*stub, args.size() >= 4 ? args[3] : "");
  if (args.size() < 4) {
    std::fprintf(stderr, "usage: crmctl conversations %s NAME\n", verb.c_str());
    return 2;
  }
  const std::string name = args[3];
  if (verb == "timeline") return Timeline(*stub, name);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  if (verb == "get") {
    v1::GetConversationRequest request;
    request.set_name(name);
    v1::Conversation out;
    grpc::Status s = stub->GetConversation(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("%s\n", Json(out).c_str());
    return 0;
  }
  if (verb == "messages") {
    v1::ListMessagesRequest request;
    request.set_parent(name);
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListMessagesResponse out;
    grpc::Status s = stub->ListMessages(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    for (const auto& m : out.messages()) PrintMessage(m);
    if (!out.next_page_token().empty()) {
      std::fprintf(stderr, "more: --page_token %s\n", out.next_page_token().c_str());
    }
    return 0;
  }
  if (verb == "status" || verb == "label") {
    v1::UpdateConversationRequest request;
    request.mutable_conversation()->set_name(name);
    request.mutable_conversation()->set_etag(absl::GetFlag(FLAGS_etag));
    if (verb == "status") {
      request.mutable_conversation()->set_status(
          ParseEnum<v1::ConversationStatus>(v1::ConversationStatus_descriptor(),
                                            "CONVERSATION_STATUS_", absl::GetFlag(FLAGS_status)));
      request.mutable_update_mask()->add_paths("status");
      if (const int minutes = absl::GetFlag(FLAGS_snooze_minutes); minutes > 0) {
        *request.mutable_conversation()->mutable_snooze_until_time() =
            TimeUtil::GetCurrentTime() + TimeUtil::MinutesToDuration(minutes);
        request.mutable_update_mask()->add_paths("snooze_until_time");
      }
    } else {
      for (absl::string_view l :
           absl::StrSplit(absl::GetFlag(FLAGS_tags), ',', absl::SkipWhitespace())) {
        request.mutable_conversation()->add_labels(std::string(l));
      }
      request.mutable_update_mask()->add_paths("labels");
    }
    v1::Conversation out;
    grpc::Status s = stub->UpdateConversation(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    PrintConversation(out);
    return 0;
  }
  if (verb == "open-ticket") {
    v1::OpenTicketRequest request;
    request.set_conversation(name);
    request.set_subject(absl::GetFlag(FLAGS_subject));
    v1::OpenTicketResponse out;
    grpc::Status s = stub->OpenTicket(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("%s%s\n", out.ticket().c_str(), out.created() ? " (opened)" : " (already open)");
    return 0;
  }
  if (verb == "merge") {
    v1::MergeConversationsRequest request;
    request.set_source(name);
    request.set_target(absl::GetFlag(FLAGS_into));
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::MergeConversationsResponse out;
    grpc::Status s = stub->MergeConversations(&ctx, request, &out);
    if (!s.ok()) return Report(s);
    std::printf("moved %lld messages\n", static_cast<long long>(out.moved_messages()));
    PrintConversation(out.target());
    return 0;
  }
  std::fprintf(stderr, "unknown verb: conversations %s\n", verb.c_str());
  return 2;
}

}  // namespace crm::crmctl
