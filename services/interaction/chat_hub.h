// Live chat streams (ChatService.ChatSession). A process keeps one room per
// chat that has participants connected to it: the room caches the chat's
// latest messages and fans each out to its streams, so a message costs one
// read per process, not one per participant. Rooms learn of new messages
// and of typing and read receipts from a db::Listener on kChatChannel, which
// every replica's writes notify. No thread is held per stream: reads and
// writes use gRPC's callback API and database work runs on the executor.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "common/db/listener.h"
#include "common/server/executor.h"
#include "crm/interaction/v1/chat_service.grpc.pb.h"
#include "services/interaction/chat_domain.h"
#include "services/interaction/conversation_store.h"
#include "services/interaction/customer_directory.h"

namespace crm::interaction {

class ChatStream;
struct ChatRoom;

class ChatHub {
 public:
  ChatHub(ConversationStore& store, CustomerDirectory& customers, server::Executor& executor,
          std::string listen_url);
  ~ChatHub();

  // Starts listening.
  void Start();
  // Ends every stream with UNAVAILABLE (clients resume on another replica
  // with after_seq) and stops listening. Idempotent.
  void Stop();

  grpc::ServerBidiReactor<v1::ChatSessionRequest, v1::ChatSessionResponse>* Open(
      grpc::CallbackServerContext* ctx);

  // For ChatStream.
  ConversationStore& store() { return store_; }
  CustomerDirectory& customers() { return customers_; }
  server::Executor& executor() { return executor_; }
  // Registers a joined stream with its chat's room (made when it is the
  // first), and returns the room.
  std::shared_ptr<ChatRoom> Enter(const std::string& tenant, const std::string& conversation_id,
                                  int64_t last_seq, ChatStream* stream);
  void Leave(const std::shared_ptr<ChatRoom>& room, ChatStream* stream);
  void Forget(ChatStream* stream);
  // A message up to `seq` is stored in the chat: the room reads it (when it
  // has not yet) and fans it out. `message`, when this process stored it,
  // is the message itself: a room that has every message before it takes
  // it without a read.
  void Published(const std::string& tenant, const std::string& conversation_id, int64_t seq,
                 const v1::Message* message = nullptr);

 private:
  void OnSignal(const std::string& payload);
  void Refresh(const std::shared_ptr<ChatRoom>& room);
  void RefreshTask(const std::shared_ptr<ChatRoom>& room);
  std::shared_ptr<ChatRoom> Find(const std::string& tenant, const std::string& conversation_id);
  // Rooms whose refresh could not be queued (or, `all`, every room: after
  // the listener reconnected).
  void RefreshRooms(bool all);

  ConversationStore& store_;
  CustomerDirectory& customers_;
  server::Executor& executor_;
  db::Listener listener_;
  std::mutex mu_;
  bool stopping_ = false;
  std::set<ChatStream*> streams_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ChatRoom>> rooms_;
};

class ChatServiceImpl final : public v1::ChatService::CallbackService {
 public:
  explicit ChatServiceImpl(ChatHub& hub) : hub_(hub) {}
  grpc::ServerBidiReactor<v1::ChatSessionRequest, v1::ChatSessionResponse>* ChatSession(
      grpc::CallbackServerContext* ctx) override {
    return hub_.Open(ctx);
  }

 private:
  ChatHub& hub_;
};

}  // namespace crm::interaction
