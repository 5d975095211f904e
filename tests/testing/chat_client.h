// A live chat participant for tests: one ChatSession stream on the test's
// main thread (blocking reads bounded by the stream's deadline), sorting
// what arrives into messages, acknowledgements, typing notices and read
// receipts.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "crm/interaction/v1/chat_service.grpc.pb.h"

namespace crm::testing {

class ChatClient {
 public:
  explicit ChatClient(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& tenant = "acme",
                      absl::Duration deadline = absl::Seconds(30))
      : stub_(crm::interaction::v1::ChatService::NewStub(channel)) {
    if (!tenant.empty()) ctx_.AddMetadata("x-crm-tenant", tenant);
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    stream_ = stub_->ChatSession(&ctx_);
  }
  // For a stream made elsewhere (e.g. with an API key through the gateway).
  ChatClient(std::unique_ptr<grpc::ClientContext> ctx,
             crm::interaction::v1::ChatService::Stub& stub)
      : owned_ctx_(std::move(ctx)), stream_(stub.ChatSession(owned_ctx_.get())) {}

  bool Write(const crm::interaction::v1::ChatSessionRequest& frame) {
    return stream_->Write(frame);
  }

  bool Join(const crm::interaction::v1::ChatJoin& join) {
    crm::interaction::v1::ChatSessionRequest frame;
    *frame.mutable_join() = join;
    return Write(frame) && ReadUntil([this] { return joined_.has_value(); });
  }
  bool Send(const std::string& client_id, const std::string& text) {
    crm::interaction::v1::ChatSessionRequest frame;
    frame.mutable_send()->set_client_message_id(client_id);
    frame.mutable_send()->set_text(text);
    return Write(frame);
  }
  bool Typing(bool typing) {
    crm::interaction::v1::ChatSessionRequest frame;
    frame.mutable_typing()->set_typing(typing);
    return Write(frame);
  }
  bool MarkRead(int64_t seq) {
    crm::interaction::v1::ChatSessionRequest frame;
    frame.mutable_read()->set_seq(seq);
    return Write(frame);
  }

  // Reads frames until `done()` holds; false when the stream ended first.
  template <typename Pred>
  bool ReadUntil(Pred done) {
    while (!done()) {
      crm::interaction::v1::ChatSessionResponse frame;
      if (!stream_->Read(&frame)) return false;
      switch (frame.frame_case()) {
        case crm::interaction::v1::ChatSessionResponse::kJoined:
          joined_ = frame.joined();
          break;
        case crm::interaction::v1::ChatSessionResponse::kMessage:
          messages_.push_back(frame.message());
          break;
        case crm::interaction::v1::ChatSessionResponse::kAck:
          acks_.push_back(frame.ack());
          break;
        case crm::interaction::v1::ChatSessionResponse::kTyping:
          typing_.push_back(frame.typing());
          break;
        case crm::interaction::v1::ChatSessionResponse::kRead:
          reads_.push_back(frame.read());
          break;
        default:
          break;
      }
    }
    return true;
  }
  bool ReadMessages(size_t n) {
    return ReadUntil([this, n] { return messages_.size() >= n; });
  }
  bool ReadAcks(size_t n) {
    return ReadUntil([this, n] { return acks_.size() >= n; });
  }

  // Ends the stream: half-close and wait for the status.
  grpc::Status Close() {
    stream_->WritesDone();
    crm::interaction::v1::ChatSessionResponse frame;
    while (stream_->Read(&frame)) {
    }
    return stream_->Finish();
  }
  // Drops the connection without a goodbye.
  void Cancel() {
    context().TryCancel();
    crm::interaction::v1::ChatSessionResponse frame;
    while (stream_->Read(&frame)) {
    }
    (void)stream_->Finish();
  }
  // The status the server ended the stream with (reads what is left).
  grpc::Status Status() {
    crm::interaction::v1::ChatSessionResponse frame;
    while (stream_->Read(&frame)) {
    }
    return stream_->Finish();
  }

  const crm::interaction::v1::ChatJoined& joined() const { return *joined_; }
  const std::vector<crm::interaction::v1::Message>& messages() const { return messages_; }
  const std::vector<crm::interaction::v1::ChatAck>& acks() const { return acks_; }
  const std::vector<crm::interaction::v1::ChatTypingNotice>& typing() const { return typing_; }
  const std::vector<crm::interaction::v1::ChatReadState>& reads() const { return reads_; }

 private:
  grpc::ClientContext& context() { return owned_ctx_ ? *owned_ctx_ : ctx_; }

  std::unique_ptr<crm::interaction::v1::ChatService::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientContext> owned_ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<crm::interaction::v1::ChatSessionRequest,
                                           crm::interaction::v1::ChatSessionResponse>>
      stream_;
  std::optional<crm::interaction::v1::ChatJoined> joined_;
  std::vector<crm::interaction::v1::Message> messages_;
  std::vector<crm::interaction::v1::ChatAck> acks_;
  std::vector<crm::interaction::v1::ChatTypingNotice> typing_;
  std::vector<crm::interaction::v1::ChatReadState> reads_;
};

}  // namespace crm::testing
