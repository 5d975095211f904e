// --services, the directory of the suite's services a backend may call.
#include <catch2/catch.hpp>

#include "common/server/service_main.h"

namespace crm::server {

TEST_CASE("the service directory (--services) reads name=address pairs and names a bad entry",
          "[unit][server]") {
  auto services =
      ParseServiceDirectory("customer=127.0.0.1:50061, ticketing=dns:///ticketing:8080");
  REQUIRE(services.ok());
  CHECK(services->size() == 2);
  CHECK(services->at("customer") == "127.0.0.1:50061");
  CHECK(services->at("ticketing") == "dns:///ticketing:8080");
  CHECK(ParseServiceDirectory("")->empty());
  auto bad = ParseServiceDirectory("customer=127.0.0.1:50061,ticketing");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "--services: 'ticketing' is not name=address");
  CHECK_FALSE(ParseServiceDirectory("=127.0.0.1:1").ok());
}

}  // namespace crm::server
