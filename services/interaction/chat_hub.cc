#include "services/interaction/chat_hub.h"

#include <prometheus/gauge.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/base/metrics.h"
#include "common/base/status.h"
#include "common/server/call.h"

namespace crm::interaction {

using Frame = v1::ChatSessionResponse;
using FramePtr = std::shared_ptr<const Frame>;

namespace {

// Messages a room keeps for streams that are a little behind.
constexpr size_t kRoomCache = 256;
// Messages read from the database at a time.
constexpr int kReadBatch = 200;
// Frames a stream may have waiting to be written: a catch-up pauses above
// kCatchUpPause; live traffic beyond kMaxQueued ends the stream (the client
// reads too slowly) with RESOURCE_EXHAUSTED, and it resumes with after_seq.
constexpr size_t kCatchUpPause = 400;
constexpr size_t kMaxQueued = 4000;

prometheus::Gauge& OpenStreams() {
  static auto& gauge = prometheus::BuildGauge()
                           .Name("crm_interaction_chat_streams")
                           .Help("Live chat streams open in this process")
                           .Register(metrics::Registry())
                           .Add({});
  return gauge;
}

FramePtr MessageFrame(v1::Message message) {
  auto frame = std::make_shared<Frame>();
  *frame->mutable_message() = std::move(message);
  return frame;
}

}  // namespace

struct ChatRoom {
  ChatRoom(std::string t, std::string c, int64_t seq)
      : tenant(std::move(t)), conversation_id(std::move(c)), base(seq), high(seq) {}
  const std::string tenant;
  const std::string conversation_id;
  std::mutex mu;
  std::set<ChatStream*> streams;
  // Every message with base < chat_seq <= high, in order.
  std::deque<std::pair<int64_t, FramePtr>> recent;
  int64_t base;
  int64_t high;
  bool refreshing = false;
  bool refresh_again = false;
  bool retry = false;
};

// One ChatSession. Lifetime: deleted when gRPC has called OnDone and no
// task of ours is queued or running. Locks: hub, then room, then stream;
// never the other way round.
class ChatStream final : public grpc::ServerBidiReactor<v1::ChatSessionRequest, Frame> {
 public:
  ChatStream(ChatHub* hub, server::CallScope scope) : hub_(hub), scope_(std::move(scope)) {
    OpenStreams().Increment();
    StartRead(&in_);
  }
  ~ChatStream() override { OpenStreams().Decrement(); }

  const std::string& participant() const { return participant_; }

  // Server stopping.
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "server shutting down; reconnect with join.after_seq"));
  }

  // Messages after `after`, complete (from the room, under its lock).
  void Offer(int64_t after, const std::vector<std::pair<int64_t, FramePtr>>& frames) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!joined_ || finishing_ || catching_up_) return;  // the catch-up will find them
    if (cursor_ < after) {
      StartCatchUpLocked();  // missed some: read them in order first
      return;
    }
    for (const auto& [seq, frame] : frames) {
      if (seq <= cursor_) continue;
      out_.push_back(frame);
      cursor_ = seq;
    }
    if (out_.size() > kMaxQueued) {
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "client reads too slowly; reconnect with join.after_seq"));
      return;
    }
    PumpLocked();
  }

  // A typing notice or read receipt (from the room, under its lock).
  void OfferSignal(FramePtr frame) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!joined_ || finishing_ || out_.size() > kMaxQueued) return;
    out_.push_back(std::move(frame));
    PumpLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side: leave once everything is written
      std::lock_guard<std::mutex> lock(mu_);
      close_when_written_ = true;
      PumpLocked();
      return;
    }
    switch (in_.frame_case()) {
      case v1::ChatSessionRequest::kJoin:
        return Run([this] { return Join(in_.join()); });
      case v1::ChatSessionRequest::kSend:
        return Run([this] { return Send(in_.send()); });
      case v1::ChatSessionRequest::kTyping:
        return Run([this] { return Typing(in_.typing()); });
      case v1::ChatSessionRequest::kRead:
        return Run([this] { return Read(in_.read()); });
      case v1::ChatSessionRequest::FRAME_NOT_SET:
        break;
    }
    Fail(absl::InvalidArgumentError("frame: one of join, send, typing or read is required"));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
      return;
    }
    out_.pop_front();
    if (paused_catch_up_ && out_.empty()) {
      paused_catch_up_ = false;
      catching_up_ = false;
      StartCatchUpLocked();
    }
    PumpLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
  }

  void OnDone() override {
    std::shared_ptr<ChatRoom> room;
    {
      std::lock_guard<std::mutex> lock(mu_);
      room = room_;
    }
    if (room != nullptr) hub_->Leave(room, this);
    hub_->Forget(this);
    bool del;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      del = tasks_ == 0;
    }
    if (del) delete this;
  }

 private:
  // Handles the frame just read on the executor, then reads the next one:
  // a client's frames take effect in the order it sent them.
  void Run(std::function<absl::Status()> work) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finishing_) return;
      ++tasks_;
    }
    const bool queued = hub_->executor().TrySubmit([this, work = std::move(work)] {
      const absl::Status status = work();
      bool del;
      {
        std::lock_guard<std::mutex> lock(mu_);
        --tasks_;
        if (!status.ok()) {
          FinishLocked(ToGrpcStatus(status));
        } else if (!finishing_) {
          StartRead(&in_);
        }
        del = done_ && tasks_ == 0;
      }
      if (del) delete this;
    });
    if (!queued) {
      std::lock_guard<std::mutex> lock(mu_);
      --tasks_;
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "server busy; reconnect with join.after_seq"));
    }
  }

  void Fail(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(ToGrpcStatus(status));
  }

  absl::Status Join(const v1::ChatJoin& join) {
    if (joined_) return absl::FailedPreconditionError("join: already joined");
    CRM_RETURN_IF_ERROR(ValidateChatJoin(join));
    ChatState state;
    if (join.conversation().empty()) {
      CRM_ASSIGN_OR_RETURN(std::string customer,
                           hub_->customers().Check(scope_, join.customer(), "join.customer"));
      CRM_ASSIGN_OR_RETURN(state, hub_->store().StartChat(scope_.tenant, customer, join.subject()));
    } else {
      CRM_ASSIGN_OR_RETURN(
          state, hub_->store().OpenChat(scope_.tenant, api::LastSegment(join.conversation())));
    }
    if (join.after_seq() > state.last_seq) {
      return absl::InvalidArgumentError(
          absl::StrCat("join.after_seq: beyond the chat's last message (", state.last_seq, ")"));
    }
    conversation_id_ = api::LastSegment(state.conversation.name());
    role_ = join.role();
    participant_ = ChatParticipant(join, state.conversation.customer());
    auto joined = std::make_shared<Frame>();
    auto* j = joined->mutable_joined();
    j->set_last_seq(state.last_seq);
    j->set_participant(participant_);
    for (auto& read : state.reads) *j->add_reads() = std::move(read);
    *j->mutable_conversation() = std::move(state.conversation);
    std::shared_ptr<ChatRoom> room =
        hub_->Enter(scope_.tenant, conversation_id_, state.last_seq, this);
    std::lock_guard<std::mutex> lock(mu_);
    room_ = std::move(room);
    joined_ = true;
    cursor_ = join.after_seq();
    out_.push_back(std::move(joined));
    PumpLocked();
    StartCatchUpLocked();
    return absl::OkStatus();
  }

  absl::Status Send(const v1::ChatSend& send) {
    if (!joined_) return absl::FailedPreconditionError("send: join first");
    CRM_RETURN_IF_ERROR(ValidateChatSend(send));
    CRM_ASSIGN_OR_RETURN(ChatPosted posted, hub_->store().PostChat(scope_.tenant, conversation_id_,
                                                                   role_, participant_, send));
    auto ack = std::make_shared<Frame>();
    ack->mutable_ack()->set_client_message_id(send.client_message_id());
    ack->mutable_ack()->set_message(posted.message.name());
    ack->mutable_ack()->set_chat_seq(posted.message.chat_seq());
    ack->mutable_ack()->set_replay(posted.replay);
    {
      std::lock_guard<std::mutex> lock(mu_);
      out_.push_back(std::move(ack));
      PumpLocked();
    }
    // This replica's rooms need not wait for the notification.
    hub_->Published(scope_.tenant, conversation_id_, posted.message.chat_seq(), &posted.message);
    return absl::OkStatus();
  }

  absl::Status Typing(const v1::ChatTyping& typing) {
    if (!joined_) return absl::FailedPreconditionError("typing: join first");
    return hub_->store().SignalTyping(scope_.tenant, conversation_id_, participant_,
                                      typing.typing());
  }

  absl::Status Read(const v1::ChatRead& read) {
    if (!joined_) return absl::FailedPreconditionError("read: join first");
    int64_t cursor;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cursor = cursor_;
    }
    if (read.seq() <= 0 || read.seq() > cursor) {
      return absl::InvalidArgumentError(
          absl::StrCat("read.seq: must be a chat_seq received, 1 to ", cursor));
    }
    return hub_->store().MarkChatRead(scope_.tenant, conversation_id_, participant_, read.seq());
  }

  // Sends the messages after the cursor, from the room's cache when it
  // reaches back far enough, else from the database, until caught up.
  void StartCatchUpLocked() {
    if (catching_up_ || finishing_) return;
    catching_up_ = true;
    ++tasks_;
    if (!hub_->executor().TrySubmit([this] { CatchUp(); })) {
      --tasks_;
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "server busy; reconnect with join.after_seq"));
    }
  }

  void CatchUp() {
    absl::Status status;
    for (;;) {
      int64_t from;
      {
        std::lock_guard<std::mutex> lock(mu_);
        from = cursor_;
        if (finishing_) break;
        if (out_.size() > kCatchUpPause) {
          paused_catch_up_ = true;  // OnWriteDone resumes it
          break;
        }
      }
      {
        std::lock_guard<std::mutex> room_lock(room_->mu);
        if (from >= room_->base) {
          std::lock_guard<std::mutex> lock(mu_);
          for (const auto& [seq, frame] : room_->recent) {
            if (seq <= cursor_) continue;
            out_.push_back(frame);
            cursor_ = seq;
          }
          catching_up_ = false;
          PumpLocked();
          break;
        }
      }
      auto messages = hub_->store().ChatAfter(scope_.tenant, conversation_id_, from, kReadBatch);
      if (!messages.ok()) {
        status = messages.status();
        break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& m : *messages) {
        if (m.chat_seq() <= cursor_) continue;
        cursor_ = m.chat_seq();
        out_.push_back(MessageFrame(std::move(m)));
      }
      PumpLocked();
    }
    bool del;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status.ok()) {
        log::Warning("chat catch-up failed", {{"error", status.ToString()}});
        FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "reading the chat failed; reconnect with join.after_seq"));
      }
      --tasks_;
      del = done_ && tasks_ == 0;
    }
    if (del) delete this;
  }

  void PumpLocked() {
    if (finishing_ || writing_) return;
    if (!out_.empty()) {
      writing_ = true;
      StartWrite(out_.front().get());
      return;
    }
    if (close_when_written_ && !catching_up_) FinishLocked(grpc::Status::OK);
  }

  void FinishLocked(grpc::Status status) {
    if (finishing_) return;
    finishing_ = true;
    Finish(std::move(status));
  }

  ChatHub* const hub_;
  const server::CallScope scope_;
  v1::ChatSessionRequest in_;
  // Set by Join before the stream enters its room, then fixed.
  std::string conversation_id_;
  std::string participant_;
  v1::ChatRole role_ = v1::CHAT_ROLE_UNSPECIFIED;
  bool joined_ = false;  // read and written on the executor only, one task at a time
  std::shared_ptr<ChatRoom> room_;

  std::mutex mu_;
  std::deque<FramePtr> out_;  // front: being written
  int64_t cursor_ = 0;        // the last chat_seq queued
  bool writing_ = false;
  bool catching_up_ = false;
  bool paused_catch_up_ = false;
  bool close_when_written_ = false;
  bool finishing_ = false;
  bool done_ = false;
  int tasks_ = 0;
};

// Adds messages read or stored (under the room's lock) and hands them to
// its streams.
void AppendToRoom(ChatRoom& room, std::vector<std::pair<int64_t, FramePtr>> fresh) {
  // A refresh that read what was appended meanwhile keeps only the rest.
  const int64_t after = room.high;
  fresh.erase(std::remove_if(fresh.begin(), fresh.end(),
                             [after](const auto& entry) { return entry.first <= after; }),
              fresh.end());
  if (fresh.empty()) return;
  for (const auto& entry : fresh) room.recent.push_back(entry);
  room.high = fresh.back().first;
  while (room.recent.size() > kRoomCache) {
    room.base = room.recent.front().first;
    room.recent.pop_front();
  }
  for (ChatStream* s : room.streams) s->Offer(after, fresh);
}

ChatHub::ChatHub(ConversationStore& store, CustomerDirectory& customers, server::Executor& executor,
                 std::string listen_url)
    : store_(store),
      customers_(customers),
      executor_(executor),
      listener_(std::move(listen_url), kChatChannel, absl::Milliseconds(100),
                db::ListenerCallbacks{[this](const std::string& p) { OnSignal(p); },
                                      [this] { RefreshRooms(/*all=*/true); },
                                      [this] { RefreshRooms(/*all=*/false); }}) {}

ChatHub::~ChatHub() { Stop(); }

void ChatHub::Start() { listener_.Start(); }

void ChatHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (ChatStream* s : streams_) s->End();
  }
  listener_.Stop();
}

grpc::ServerBidiReactor<v1::ChatSessionRequest, Frame>* ChatHub::Open(
    grpc::CallbackServerContext* ctx) {
  using Reactor = grpc::ServerBidiReactor<v1::ChatSessionRequest, Frame>;
  server::CallOptions options;
  auto scope = server::MakeCallScope(ctx, options);
  if (!scope.ok()) return server::RejectStream<Reactor>(ToGrpcStatus(scope.status()));
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return server::RejectStream<Reactor>(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
  auto* stream = new ChatStream(this, *std::move(scope));
  streams_.insert(stream);
  return stream;
}

void ChatHub::Forget(ChatStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
}

std::shared_ptr<ChatRoom> ChatHub::Enter(const std::string& tenant,
                                         const std::string& conversation_id, int64_t last_seq,
                                         ChatStream* stream) {
  std::shared_ptr<ChatRoom> room;
  bool made = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = rooms_[{tenant, conversation_id}];
    if (slot == nullptr) {
      slot = std::make_shared<ChatRoom>(tenant, conversation_id, last_seq);
      made = true;
    }
    room = slot;
    std::lock_guard<std::mutex> room_lock(room->mu);
    room->streams.insert(stream);
  }
  // A message may have been notified between the join's read and now.
  if (made) Refresh(room);
  return room;
}

void ChatHub::Leave(const std::shared_ptr<ChatRoom>& room, ChatStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  std::lock_guard<std::mutex> room_lock(room->mu);
  room->streams.erase(stream);
  if (room->streams.empty()) {
    auto it = rooms_.find({room->tenant, room->conversation_id});
    if (it != rooms_.end() && it->second == room) rooms_.erase(it);
  }
}

std::shared_ptr<ChatRoom> ChatHub::Find(const std::string& tenant,
                                        const std::string& conversation_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rooms_.find({tenant, conversation_id});
  return it == rooms_.end() ? nullptr : it->second;
}

void ChatHub::Published(const std::string& tenant, const std::string& conversation_id, int64_t seq,
                        const v1::Message* message) {
  std::shared_ptr<ChatRoom> room = Find(tenant, conversation_id);
  if (room == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(room->mu);
    if (seq <= room->high) return;
    if (message != nullptr && seq == room->high + 1) {
      // Numbers follow commit order, so nothing can come between.
      AppendToRoom(*room, {{seq, MessageFrame(*message)}});
      return;
    }
  }
  Refresh(room);
}

void ChatHub::OnSignal(const std::string& payload) {
  std::optional<ChatSignal> signal = DecodeChatSignal(payload);
  if (!signal) return;
  if (signal->kind == ChatSignal::Kind::kMessage) {
    Published(signal->tenant, signal->conversation_id, signal->seq);
    return;
  }
  std::shared_ptr<ChatRoom> room = Find(signal->tenant, signal->conversation_id);
  if (room == nullptr) return;
  auto frame = std::make_shared<Frame>();
  if (signal->kind == ChatSignal::Kind::kTyping) {
    frame->mutable_typing()->set_participant(signal->participant);
    frame->mutable_typing()->set_typing(signal->typing);
  } else {
    frame->mutable_read()->set_participant(signal->participant);
    frame->mutable_read()->set_seq(signal->seq);
  }
  std::lock_guard<std::mutex> lock(room->mu);
  for (ChatStream* s : room->streams) {
    if (s->participant() != signal->participant) s->OfferSignal(frame);
  }
}

void ChatHub::Refresh(const std::shared_ptr<ChatRoom>& room) {
  std::lock_guard<std::mutex> lock(room->mu);
  if (room->refreshing) {
    room->refresh_again = true;
    return;
  }
  room->refreshing = true;
  room->retry = false;
  if (!executor_.TrySubmit([this, room] { RefreshTask(room); })) {
    room->refreshing = false;
    room->retry = true;  // the listener's next tick
  }
}

void ChatHub::RefreshTask(const std::shared_ptr<ChatRoom>& room) {
  for (;;) {
    int64_t from;
    {
      std::lock_guard<std::mutex> lock(room->mu);
      from = room->high;
      room->refresh_again = false;
    }
    auto messages = store_.ChatAfter(room->tenant, room->conversation_id, from, kReadBatch);
    std::lock_guard<std::mutex> lock(room->mu);
    if (!messages.ok()) {
      log::Warning("chat room refresh failed", {{"error", messages.status().ToString()}});
      room->refreshing = false;
      room->retry = true;
      return;
    }
    std::vector<std::pair<int64_t, FramePtr>> fresh;
    for (auto& m : *messages) {
      const int64_t seq = m.chat_seq();
      fresh.emplace_back(seq, MessageFrame(std::move(m)));
    }
    const bool full = static_cast<int>(fresh.size()) == kReadBatch;
    AppendToRoom(*room, std::move(fresh));
    if (!full && !room->refresh_again) {
      room->refreshing = false;
      return;
    }
  }
}

void ChatHub::RefreshRooms(bool all) {
  std::vector<std::shared_ptr<ChatRoom>> rooms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, room] : rooms_) {
      std::lock_guard<std::mutex> room_lock(room->mu);
      if (all || room->retry) rooms.push_back(room);
    }
  }
  for (const auto& room : rooms) Refresh(room);
}

}  // namespace crm::interaction
