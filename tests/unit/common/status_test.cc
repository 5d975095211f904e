#include "common/base/status.h"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "common/db/transaction.h"

namespace crm {
namespace {

absl::Status Mapped(std::exception_ptr e) { return db::StatusFromException(e, "test"); }

TEST_CASE("absl status maps to the same gRPC code and message", "[status]") {
  CHECK(ToGrpcStatus(absl::OkStatus()).ok());
  grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("customer.email: bad"));
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "customer.email: bad");
  CHECK(ToGrpcStatus(absl::AbortedError("x")).error_code() == grpc::StatusCode::ABORTED);
  CHECK(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone")).code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("libpqxx exceptions map to the documented codes", "[status]") {
  CHECK(Mapped(std::make_exception_ptr(pqxx::unique_violation("dup", "", "23505"))).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(Mapped(std::make_exception_ptr(pqxx::serialization_failure("s"))).code() ==
        absl::StatusCode::kAborted);
  CHECK(Mapped(std::make_exception_ptr(pqxx::deadlock_detected("d"))).code() ==
        absl::StatusCode::kAborted);
  CHECK(Mapped(std::make_exception_ptr(pqxx::broken_connection("b"))).code() ==
        absl::StatusCode::kUnavailable);
  CHECK(Mapped(std::make_exception_ptr(pqxx::sql_error("t", "", "57014"))).code() ==
        absl::StatusCode::kDeadlineExceeded);
  absl::Status internal =
      Mapped(std::make_exception_ptr(pqxx::sql_error("secret detail", "q", "XX000")));
  CHECK(internal.code() == absl::StatusCode::kInternal);
  // Details stay in the log, never in the answer.
  CHECK(std::string(internal.message()).find("secret") == std::string::npos);
  CHECK(Mapped(std::make_exception_ptr(std::runtime_error("boom"))).code() ==
        absl::StatusCode::kInternal);
}

TEST_CASE("status macros return early and assign", "[status]") {
  auto f = [](bool fail) -> absl::StatusOr<int> {
    auto g = [&]() -> absl::StatusOr<int> {
      if (fail) return absl::NotFoundError("nope");
      return 7;
    };
    CRM_ASSIGN_OR_RETURN(int v, g());
    CRM_RETURN_IF_ERROR(v == 7 ? absl::OkStatus() : absl::InternalError("bad"));
    return v + 1;
  };
  CHECK(*f(false) == 8);
  CHECK(f(true).status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace crm
