// The gateway's reflection merger with fake backends: what it lists, where
// it sends each question, and what it answers itself.
#include "services/gateway/reflection.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "crm/gateway/v1/api_key_service.pb.h"

namespace crm::gateway {
namespace {

using google::protobuf::UnknownFieldSet;

std::string Bytes(const UnknownFieldSet& s) {
  std::string out;
  s.SerializeToString(&out);
  return out;
}

std::string Request(int field, const std::string& value) {
  UnknownFieldSet r;
  r.AddLengthDelimited(field, value);
  return Bytes(r);
}

// The length-delimited values of `field` in `bytes`.
std::vector<std::string> Values(const std::string& bytes, int field) {
  UnknownFieldSet s;
  std::vector<std::string> out;
  if (!s.ParseFromString(bytes)) return out;
  for (int i = 0; i < s.field_count(); ++i) {
    if (s.field(i).number() == field &&
        s.field(i).type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(s.field(i).length_delimited());
    }
  }
  return out;
}

std::vector<std::string> ListedNames(const std::string& response) {
  std::vector<std::string> names;
  for (const auto& list : Values(response, 6)) {
    for (const auto& service : Values(list, 1)) {
      for (const auto& name : Values(service, 1)) names.push_back(name);
    }
  }
  return names;
}

// A backend that lists some services and answers every other question with
// a marker, recording what it was asked.
struct FakeBackend {
  explicit FakeBackend(std::vector<std::string> listed = {}) : services(std::move(listed)) {}
  std::vector<std::string> services;
  std::vector<std::string> asked;
  ReflectionExchange exchange() {
    return [this](const std::string& request, absl::Time) -> absl::StatusOr<std::string> {
      asked.push_back(request);
      if (!Values(request, 7).empty()) {
        UnknownFieldSet list;
        for (const auto& s : services) {
          UnknownFieldSet service;
          service.AddLengthDelimited(1, s);
          list.AddLengthDelimited(1, Bytes(service));
        }
        UnknownFieldSet response;
        response.AddLengthDelimited(2, request);
        response.AddLengthDelimited(6, Bytes(list));
        return Bytes(response);
      }
      return std::string("answered by backend");
    };
  }
};

TEST_CASE("reflection lists the gateway's services and every routed one", "[gateway]") {
  FakeBackend customer({"crm.customer.v1.CustomerService", "crm.customer.v1.EventFeedService",
                        "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"});
  ReflectionMerger merger({"crm.gateway.v1.ApiKeyService", "grpc.health.v1.Health"},
                          {{"crm.customer.v1", customer.exchange()}});
  const auto names = ListedNames(merger.Answer(Request(7, ""), absl::InfiniteFuture()));
  CHECK(names == std::vector<std::string>{"crm.gateway.v1.ApiKeyService", "grpc.health.v1.Health",
                                          "crm.customer.v1.CustomerService",
                                          "crm.customer.v1.EventFeedService"});
}

TEST_CASE("reflection asks the backend that owns a symbol or file", "[gateway]") {
  FakeBackend customer;
  ReflectionMerger merger({}, {{"crm.customer.v1", customer.exchange()}});
  CHECK(merger.Answer(Request(4, "crm.customer.v1.CustomerService.GetCustomer"),
                      absl::InfiniteFuture()) == "answered by backend");
  CHECK(merger.Answer(Request(3, "crm/customer/v1/customer.proto"), absl::InfiniteFuture()) ==
        "answered by backend");
  CHECK(customer.asked.size() == 2);
  // A package that merely starts the same is not the customer's.
  CHECK(merger.Answer(Request(4, "crm.customer.v10.Thing"), absl::InfiniteFuture()) !=
        "answered by backend");
}

TEST_CASE("reflection answers the gateway's own symbols from its descriptors", "[gateway]") {
  FakeBackend customer;
  // (Referencing the gateway's messages links their descriptors in.)
  REQUIRE(crm::gateway::v1::CreateApiKeyRequest::descriptor() != nullptr);
  ReflectionMerger merger({}, {{"crm.customer.v1", customer.exchange()}});
  const std::string answer =
      merger.Answer(Request(4, "crm.gateway.v1.ApiKeyService"), absl::InfiniteFuture());
  CHECK(customer.asked.empty());
  std::vector<std::string> files;
  for (const auto& response : Values(answer, 4)) {
    for (const auto& file : Values(response, 1)) {
      google::protobuf::FileDescriptorProto proto;
      REQUIRE(proto.ParseFromString(file));
      files.push_back(proto.name());
    }
  }
  // The file, and what it imports, once each.
  REQUIRE_FALSE(files.empty());
  CHECK(files.front() == "crm/gateway/v1/api_key_service.proto");
  CHECK(std::count(files.begin(), files.end(), "crm/gateway/v1/api_key.proto") == 1);
  CHECK(std::count(files.begin(), files.end(), "google/protobuf/timestamp.proto") == 1);
}

TEST_CASE("reflection errors are responses, never a broken stream", "[gateway]") {
  FakeBackend customer;
  ReflectionMerger unreachable(
      {}, {{"crm.customer.v1", [](const std::string&, absl::Time) -> absl::StatusOr<std::string> {
              return absl::UnavailableError("connection refused");
            }}});
  auto error_code = [](const std::string& answer) {
    UnknownFieldSet error;
    const auto errors = Values(answer, 7);
    if (errors.empty() || !error.ParseFromString(errors[0])) return -1;
    return static_cast<int>(error.field(0).varint());
  };
  CHECK(error_code(unreachable.Answer(Request(4, "crm.customer.v1.CustomerService"),
                                      absl::InfiniteFuture())) == 14);  // UNAVAILABLE
  ReflectionMerger merger({}, {{"crm.customer.v1", customer.exchange()}});
  CHECK(error_code(merger.Answer(Request(4, "no.such.Symbol"), absl::InfiniteFuture())) ==
        5);  // NOT_FOUND
  CHECK(error_code(merger.Answer("\xff\xff garbage", absl::InfiniteFuture())) == 3);
  // A listing still answers when a backend is down: with what is reachable.
  ReflectionMerger partial(
      {"crm.gateway.v1.ApiKeyService"},
      {{"crm.customer.v1", [](const std::string&, absl::Time) -> absl::StatusOr<std::string> {
          return absl::UnavailableError("down");
        }}});
  CHECK(ListedNames(partial.Answer(Request(7, ""), absl::InfiniteFuture())) ==
        std::vector<std::string>{"crm.gateway.v1.ApiKeyService"});
}

}  // namespace
}  // namespace crm::gateway

namespace crm::gateway {
namespace {

TEST_CASE("method kinds are learned from the owning backend's descriptors", "[gateway]") {
  google::protobuf::FileDescriptorProto file;
  file.set_name("crm/shop/v1/shop_service.proto");
  file.set_package("crm.shop.v1");
  auto* service = file.add_service();
  service->set_name("ShopService");
  auto* get = service->add_method();
  get->set_name("GetThing");
  auto* watch = service->add_method();
  watch->set_name("WatchThings");
  watch->set_server_streaming(true);
  auto* upload = service->add_method();
  upload->set_name("ImportThings");
  upload->set_client_streaming(true);
  int asked = 0;
  ReflectionMerger merger(
      {}, {{"crm.shop.v1", [&](const std::string&, absl::Time) -> absl::StatusOr<std::string> {
              ++asked;
              UnknownFieldSet files, response;
              files.AddLengthDelimited(1, file.SerializeAsString());
              response.AddLengthDelimited(4, Bytes(files));
              return Bytes(response);
            }}});
  server::Executor executor(1, 4);
  MethodKinds kinds(merger, executor);
  kinds.Learn("crm.shop.v1.ShopService");
  CHECK(asked == 1);
  CHECK(kinds.Get("/crm.shop.v1.ShopService/GetThing") == MethodKinds::Kind::kUnary);
  CHECK(kinds.Get("/crm.shop.v1.ShopService/WatchThings") == MethodKinds::Kind::kStreaming);
  CHECK(kinds.Get("/crm.shop.v1.ShopService/ImportThings") == MethodKinds::Kind::kStreaming);
  // Not described: unknown, so the streaming path (which carries anything).
  CHECK(kinds.Get("/crm.shop.v1.ShopService/NoSuchMethod") == MethodKinds::Kind::kUnknown);
  CHECK(kinds.Get("garbage") == MethodKinds::Kind::kUnknown);
  executor.Shutdown();
}

}  // namespace
}  // namespace crm::gateway
