// crmctl chat: a live chat from a terminal. Each line typed is a message;
// what the other participants write, their typing and read receipts are
// printed as they arrive. End with Ctrl-D (or the end of piped input).
//
//   crmctl chat conversations/ID --author agents/ID     join as an agent
//   crmctl chat conversations/ID                        join as the customer
//   crmctl chat --requester customers/ID [--subject S]  start a chat
//   [--after N]: show messages after N only (default: the whole chat)
#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/crypto.h"
#include "crm/interaction/v1/chat_service.grpc.pb.h"
#include "tools/crmctl/cli.h"

ABSL_FLAG(int64_t, after, 0, "chat: show the messages after this chat_seq (0: the whole chat)");

namespace crm::crmctl {
namespace {

namespace v1 = crm::interaction::v1;
using google::protobuf::util::TimeUtil;

// What the reader thread has seen, for the main thread's exit.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  int64_t last_seq = 0;
  int64_t last_acked = 0;
  bool joined = false;
  bool ended = false;
};

void Print(const v1::ChatSessionResponse& frame, const std::string& me) {
  switch (frame.frame_case()) {
    case v1::ChatSessionResponse::kJoined: {
      const auto& j = frame.joined();
      std::printf("joined %s as %s (%lld messages)\n", j.conversation().name().c_str(),
                  j.participant().c_str(), static_cast<long long>(j.last_seq()));
      for (const auto& r : j.reads()) {
        std::printf("  %s has read up to #%lld\n", r.participant().c_str(),
                    static_cast<long long>(r.seq()));
      }
      break;
    }
    case v1::ChatSessionResponse::kMessage: {
      const auto& m = frame.message();
      std::printf("#%lld %s %s: %s\n", static_cast<long long>(m.chat_seq()),
                  TimeUtil::ToString(m.create_time()).substr(11, 8).c_str(),
                  m.author() == me ? "you" : m.author().c_str(), m.text().c_str());
      break;
    }
    case v1::ChatSessionResponse::kTyping:
      std::printf("  %s %s\n", frame.typing().participant().c_str(),
                  frame.typing().typing() ? "is typing..." : "stopped typing");
      break;
    case v1::ChatSessionResponse::kRead:
      std::printf("  %s read up to #%lld\n", frame.read().participant().c_str(),
                  static_cast<long long>(frame.read().seq()));
      break;
    default:
      break;
  }
  std::fflush(stdout);
}

}  // namespace

int Chat(const std::vector<char*>& args) {
  v1::ChatSessionRequest join;
  v1::ChatJoin* j = join.mutable_join();
  if (args.size() >= 3) {
    j->set_conversation(args[2]);
  } else {
    j->set_customer(absl::GetFlag(FLAGS_requester));
    j->set_subject(absl::GetFlag(FLAGS_subject));
  }
  const std::string agent = absl::GetFlag(FLAGS_author);
  j->set_role(agent.empty() ? v1::CHAT_ROLE_CUSTOMER : v1::CHAT_ROLE_AGENT);
  j->set_agent(agent);
  j->set_after_seq(absl::GetFlag(FLAGS_after));

  auto stub = v1::ChatService::NewStub(Channel());
  grpc::ClientContext ctx;
  PrepareStream(&ctx);
  auto stream = stub->ChatSession(&ctx);
  if (!stream->Write(join)) return Report(stream->Finish());

  Seen seen;
  std::string me;
  std::thread reader([&] {
    v1::ChatSessionResponse frame;
    while (stream->Read(&frame)) {
      std::unique_lock<std::mutex> lock(seen.mu);
      if (frame.has_joined()) {
        me = frame.joined().participant();
        seen.joined = true;
      } else if (frame.has_message()) {
        seen.last_seq = frame.message().chat_seq();
      } else if (frame.has_ack()) {
        seen.last_acked = std::max(seen.last_acked, frame.ack().chat_seq());
        seen.cv.notify_all();
        continue;  // the message itself is printed when it arrives
      }
      Print(frame, me);
      seen.cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(seen.mu);
    seen.ended = true;
    seen.cv.notify_all();
  });

  std::string line;
  int sent = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    v1::ChatSessionRequest frame;
    if (line == "/typing") {
      frame.mutable_typing()->set_typing(true);
    } else if (line == "/read") {
      std::lock_guard<std::mutex> lock(seen.mu);
      frame.mutable_read()->set_seq(seen.last_seq);
    } else {
      frame.mutable_send()->set_client_message_id(crypto::NewUuid());
      frame.mutable_send()->set_text(line);
      ++sent;
    }
    if (!stream->Write(frame)) break;
  }
  // Before leaving, wait (a little) to see the last message sent come back.
  {
    std::unique_lock<std::mutex> lock(seen.mu);
    seen.cv.wait_for(lock, std::chrono::seconds(5), [&] {
      return seen.ended ||
             (seen.joined &&
              (sent == 0 || (seen.last_acked > 0 && seen.last_seq >= seen.last_acked)));
    });
  }
  stream->WritesDone();
  reader.join();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return Report(status);
  return 0;
}

}  // namespace crm::crmctl
