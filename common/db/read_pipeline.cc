#include "common/db/read_pipeline.h"

#include <libpq-fe.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace crm::db {

absl::Status QueueRead(pg_conn* pg, const TxOptions& options, const std::string& name,
                       const std::vector<std::string>& params) {
  const absl::Duration remaining = options.deadline - absl::Now();
  if (remaining <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("deadline exceeded before the database call");
  }
  const std::string timeout_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(remaining)));
  // NULL leaves a setting as the session has it.
  const char* const settings[2] = {
      options.deadline == absl::InfiniteFuture() ? nullptr : timeout_ms.c_str(),
      options.tenant.empty() ? nullptr : options.tenant.c_str()};
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  const bool queued =
      PQsendQueryPrepared(pg, kReadSettingsStatement, 2, settings, nullptr, nullptr, 0) == 1 &&
      PQsendQueryPrepared(pg, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                          nullptr, 0) == 1 &&
      PQpipelineSync(pg) == 1;
  if (!queued) return absl::UnavailableError("database unavailable");
  return absl::OkStatus();
}

bool ReadResults::Add(pg_result* result) {
  Rows owned(result);
  switch (PQresultStatus(result)) {
    case PGRES_PIPELINE_SYNC:
      return true;
    case PGRES_TUPLES_OK:
      // The settings' row comes first, the statement's rows last.
      rows_ = std::move(owned);
      return false;
    case PGRES_FATAL_ERROR:
      if (error_.ok()) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        error_ =
            StatusFromSqlState(state == nullptr ? "" : state, name_, PQresultErrorMessage(result));
      }
      return false;
    default:  // a prepare's COMMAND_OK; PIPELINE_ABORTED after an error
      return false;
  }
}

absl::StatusOr<Rows> ReadResults::Take() {
  if (!error_.ok()) return error_;
  return std::move(rows_);
}

}  // namespace crm::db
