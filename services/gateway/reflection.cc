#include "services/gateway/reflection.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base/log.h"

namespace crm::gateway {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Field numbers of grpc.reflection.v1alpha.ServerReflectionRequest.
constexpr int kHost = 1;
constexpr int kFileByFilename = 3;
constexpr int kFileContainingSymbol = 4;
constexpr int kFileContainingExtension = 5;
constexpr int kAllExtensionNumbersOfType = 6;
constexpr int kListServices = 7;
// ... and of ServerReflectionResponse.
constexpr int kValidHost = 1;
constexpr int kOriginalRequest = 2;
constexpr int kFileDescriptorResponse = 4;
constexpr int kAllExtensionNumbersResponse = 5;
constexpr int kListServicesResponse = 6;
constexpr int kErrorResponse = 7;

struct Request {
  std::string raw;
  std::string host;
  int kind = 0;        // one of the request fields above
  std::string value;   // filename, symbol, type name
  int64_t number = 0;  // file_containing_extension's extension number
};

std::string Serialize(const UnknownFieldSet& fields) {
  std::string out;
  fields.SerializeToString(&out);
  return out;
}

bool ParseRequest(const std::string& raw, Request* request) {
  UnknownFieldSet fields;
  if (!fields.ParseFromString(raw)) return false;
  request->raw = raw;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    switch (f.number()) {
      case kHost:
        request->host = f.length_delimited();
        break;
      case kFileByFilename:
      case kFileContainingSymbol:
      case kAllExtensionNumbersOfType:
      case kListServices:
        request->kind = f.number();
        request->value = f.length_delimited();
        break;
      case kFileContainingExtension: {
        // ExtensionRequest { string containing_type = 1; int32 extension_number = 2; }
        UnknownFieldSet ext;
        if (!ext.ParseFromString(f.length_delimited())) return false;
        request->kind = kFileContainingExtension;
        for (int j = 0; j < ext.field_count(); ++j) {
          const UnknownField& e = ext.field(j);
          if (e.number() == 1 && e.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
            request->value = e.length_delimited();
          } else if (e.number() == 2 && e.type() == UnknownField::TYPE_VARINT) {
            request->number = static_cast<int64_t>(e.varint());
          }
        }
        break;
      }
      default:
        break;
    }
  }
  return request->kind != 0;
}

std::string Respond(const Request& request, int field, const std::string& body) {
  UnknownFieldSet response;
  if (!request.host.empty()) response.AddLengthDelimited(kValidHost, request.host);
  response.AddLengthDelimited(kOriginalRequest, request.raw);
  response.AddLengthDelimited(field, body);
  return Serialize(response);
}

std::string Error(const Request& request, grpc::StatusCode code, const std::string& message) {
  // ErrorResponse { int32 error_code = 1; string error_message = 2; }
  UnknownFieldSet error;
  error.AddVarint(1, static_cast<uint64_t>(code));
  error.AddLengthDelimited(2, message);
  return Respond(request, kErrorResponse, Serialize(error));
}

// FileDescriptorResponse with `file` and every file it depends on, once each.
std::string Files(const Request& request, const FileDescriptor* file) {
  UnknownFieldSet files;
  std::set<std::string> seen;
  std::vector<const FileDescriptor*> pending{file};
  while (!pending.empty()) {
    const FileDescriptor* f = pending.back();
    pending.pop_back();
    if (!seen.insert(f->name()).second) continue;
    google::protobuf::FileDescriptorProto proto;
    f->CopyTo(&proto);
    files.AddLengthDelimited(1, proto.SerializeAsString());
    for (int i = 0; i < f->dependency_count(); ++i) pending.push_back(f->dependency(i));
  }
  return Respond(request, kFileDescriptorResponse, Serialize(files));
}

// The length-delimited values of field `number` in the message `bytes`.
std::vector<std::string> Values(const std::string& bytes, int number) {
  std::vector<std::string> values;
  UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return values;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() == number && f.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      values.push_back(f.length_delimited());
    }
  }
  return values;
}

// The service names of a backend's ListServiceResponse
// (list_services_response.service[].name).
std::vector<std::string> ListedServices(const std::string& response) {
  std::vector<std::string> names;
  for (const auto& list : Values(response, kListServicesResponse)) {
    for (const auto& service : Values(list, 1)) {
      for (auto& name : Values(service, 1)) names.push_back(std::move(name));
    }
  }
  return names;
}

// One request and its response over a short reflection stream.
class Exchange final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit Exchange(const std::string& request) {
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
  }

  absl::StatusOr<std::string> Run(grpc::GenericStub& stub, absl::Time deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(deadline));
    stub.PrepareBidiStreamingCall(&ctx, kReflectionMethod, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    if (!got_response_) {
      return absl::UnavailableError(absl::StrCat("reflection: ", status_.error_message()));
    }
    return BytesOf(response_);
  }

  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    got_response_ = ok;
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool got_response_ = false;
  grpc::Status status_;
};

}  // namespace

std::string BytesOf(const grpc::ByteBuffer& buffer) {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) return "";
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

ReflectionExchange ReflectionOver(std::shared_ptr<grpc::Channel> channel) {
  auto stub = std::make_shared<grpc::GenericStub>(std::move(channel));
  return [stub](const std::string& request, absl::Time deadline) {
    Exchange exchange(request);
    return exchange.Run(*stub, deadline);
  };
}

ReflectionMerger::ReflectionMerger(std::vector<std::string> own_services,
                                   std::vector<Backend> backends)
    : own_services_(std::move(own_services)), backends_(std::move(backends)) {}

const ReflectionMerger::Backend* ReflectionMerger::BackendForSymbol(
    const std::string& symbol) const {
  for (const auto& b : backends_) {
    if (absl::StartsWith(symbol, absl::StrCat(b.package, "."))) return &b;
  }
  return nullptr;
}

const ReflectionMerger::Backend* ReflectionMerger::BackendForFile(const std::string& file) const {
  // Files live in the folder of their package: crm/customer/v1/x.proto.
  const std::string folder =
      file.substr(0, file.rfind('/') == std::string::npos ? 0 : file.rfind('/'));
  const std::string package = absl::StrReplaceAll(folder, {{"/", "."}});
  for (const auto& b : backends_) {
    if (b.package == package) return &b;
  }
  return nullptr;
}

std::string ReflectionMerger::Answer(const std::string& raw, absl::Time deadline) const {
  Request request;
  if (!ParseRequest(raw, &request)) {
    request.raw = raw;
    return Error(request, grpc::StatusCode::INVALID_ARGUMENT, "malformed reflection request");
  }
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  auto forward = [&](const Backend& backend) {
    auto answer = backend.exchange(raw, deadline);
    if (answer.ok()) return *std::move(answer);
    log::Warning("reflection backend unavailable",
                 {{"package", backend.package}, {"error", std::string(answer.status().message())}});
    return Error(request, grpc::StatusCode::UNAVAILABLE,
                 absl::StrCat("the service of ", backend.package, " is unavailable"));
  };
  switch (request.kind) {
    case kListServices: {
      std::vector<std::string> names = own_services_;
      UnknownFieldSet ask;
      ask.AddLengthDelimited(kListServices, "");
      for (const auto& b : backends_) {
        auto answer = b.exchange(Serialize(ask), deadline);
        if (!answer.ok()) {
          log::Warning("reflection backend unavailable",
                       {{"package", b.package}, {"error", std::string(answer.status().message())}});
          continue;
        }
        for (auto& name : ListedServices(*answer)) {
          if (absl::StartsWith(name, absl::StrCat(b.package, "."))) names.push_back(name);
        }
      }
      UnknownFieldSet services;
      for (const auto& name : names) {
        UnknownFieldSet service;
        service.AddLengthDelimited(1, name);
        services.AddLengthDelimited(1, Serialize(service));
      }
      return Respond(request, kListServicesResponse, Serialize(services));
    }
    case kFileContainingSymbol: {
      if (const Backend* b = BackendForSymbol(request.value)) return forward(*b);
      const FileDescriptor* file = pool->FindFileContainingSymbol(request.value);
      if (file == nullptr) {
        return Error(request, grpc::StatusCode::NOT_FOUND,
                     absl::StrCat("symbol not found: ", request.value));
      }
      return Files(request, file);
    }
    case kFileByFilename: {
      if (const Backend* b = BackendForFile(request.value)) return forward(*b);
      const FileDescriptor* file = pool->FindFileByName(request.value);
      if (file == nullptr) {
        return Error(request, grpc::StatusCode::NOT_FOUND,
                     absl::StrCat("file not found: ", request.value));
      }
      return Files(request, file);
    }
    case kFileContainingExtension: {
      if (const Backend* b = BackendForSymbol(request.value)) return forward(*b);
      const auto* type = pool->FindMessageTypeByName(request.value);
      const auto* ext = type == nullptr
                            ? nullptr
                            : pool->FindExtensionByNumber(type, static_cast<int>(request.number));
      if (ext == nullptr) {
        return Error(request, grpc::StatusCode::NOT_FOUND,
                     absl::StrCat("extension not found: ", request.value, " ", request.number));
      }
      return Files(request, ext->file());
    }
    case kAllExtensionNumbersOfType: {
      if (const Backend* b = BackendForSymbol(request.value)) return forward(*b);
      const auto* type = pool->FindMessageTypeByName(request.value);
      if (type == nullptr) {
        return Error(request, grpc::StatusCode::NOT_FOUND,
                     absl::StrCat("type not found: ", request.value));
      }
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      // ExtensionNumberResponse { string base_type_name = 1; repeated int32 extension_number = 2; }
      UnknownFieldSet numbers;
      numbers.AddLengthDelimited(1, request.value);
      for (const auto* e : extensions) numbers.AddVarint(2, static_cast<uint64_t>(e->number()));
      return Respond(request, kAllExtensionNumbersResponse, Serialize(numbers));
    }
    default:
      return Error(request, grpc::StatusCode::INVALID_ARGUMENT, "malformed reflection request");
  }
}

MethodKinds::MethodKinds(const ReflectionMerger& reflection, server::Executor& executor)
    : reflection_(reflection), executor_(executor) {}

MethodKinds::Kind MethodKinds::Get(const std::string& path) {
  std::string service;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kinds_.find(path);
    if (it != kinds_.end()) return it->second;
    const size_t slash = path.rfind('/');
    if (path.size() < 2 || path[0] != '/' || slash == 0 || slash == std::string::npos) {
      return Kind::kUnknown;
    }
    service = path.substr(1, slash - 1);
    auto asked = asked_.find(service);
    const absl::Time now = absl::Now();
    // Ask once; after a failed lookup (backend down) again 10 s later.
    if (asked != asked_.end() && now - asked->second < absl::Seconds(10)) return Kind::kUnknown;
    asked_[service] = now;
  }
  executor_.TrySubmit([this, service] { Learn(service); });
  return Kind::kUnknown;
}

void MethodKinds::Learn(const std::string& service) {
  UnknownFieldSet ask;
  ask.AddLengthDelimited(kFileContainingSymbol, service);
  const std::string answer = reflection_.Answer(Serialize(ask), absl::Now() + absl::Seconds(5));
  std::unordered_map<std::string, Kind> learned;
  // file_descriptor_response.file_descriptor_proto[]
  for (const auto& files : Values(answer, kFileDescriptorResponse)) {
    for (const auto& bytes : Values(files, 1)) {
      google::protobuf::FileDescriptorProto file;
      if (!file.ParseFromString(bytes)) continue;
      for (const auto& s : file.service()) {
        const std::string full = absl::StrCat(file.package(), ".", s.name());
        if (full != service) continue;
        for (const auto& m : s.method()) {
          learned[absl::StrCat("/", full, "/", m.name())] =
              (m.client_streaming() || m.server_streaming()) ? Kind::kStreaming : Kind::kUnary;
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, kind] : learned) kinds_[path] = kind;
}

}  // namespace crm::gateway
