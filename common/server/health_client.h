// A client for grpc.health.v1.Health/Check without generated stubs: the
// request and response are one-field messages, encoded by hand here.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::server {

enum class HealthState { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service = "",
                                        absl::Duration timeout = absl::Seconds(2));

}  // namespace crm::server
