// absl::Status helpers: the project's return/assign macros and the single
// mapping from absl::Status to grpc::Status.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CRM_STATUS_CONCAT_INNER_(a, b) a##b
#define CRM_STATUS_CONCAT_(a, b) CRM_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` is not OK.
#define CRM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status crm_status_ = (expr);       \
    if (!crm_status_.ok()) return crm_status_; \
  } while (false)

// `CRM_ASSIGN_OR_RETURN(auto x, F());` assigns the value of an OK StatusOr or
// returns its status.
#define CRM_ASSIGN_OR_RETURN(lhs, expr) \
  CRM_ASSIGN_OR_RETURN_IMPL_(CRM_STATUS_CONCAT_(crm_statusor_, __LINE__), lhs, expr)
#define CRM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

namespace crm {

// The one conversion to the wire: same code, same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for clients of our own services.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Prefixes the message of a non-OK status with `context: `.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace crm
