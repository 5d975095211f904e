// Idempotent writes (AIP-155) over <schema>.idempotency_keys (a kit table):
// a retry with a request_id answered within the last 24 hours gets the
// stored response and changes nothing; the same id with a different request
// is INVALID_ARGUMENT; after 24 hours a key is forgotten (and pruned), so a
// retry then is a new request. Concurrent retries are serialised on an
// advisory lock for the duration of the transaction.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"

namespace crm::db {

inline constexpr absl::Duration kIdempotencyWindow = absl::Hours(24);

class Idempotency {
 public:
  // Prepares its statements (<schema>_get_idempotency_key, ...) on `pool`.
  Idempotency(Pool& pool, std::string schema);

  // True, with `response` filled, when `request_id` (non-empty) already
  // answered this `method` for `tenant` within the window.
  absl::StatusOr<bool> Replay(Tx& tx, const std::string& tenant, const std::string& method,
                              const std::string& request_id, const std::string& request_hash,
                              google::protobuf::Message* response) const;
  // Records the response of a first call with `request_id` (non-empty).
  void Store(Tx& tx, const std::string& tenant, const std::string& method,
             const std::string& request_id, const std::string& request_hash,
             const google::protobuf::Message& response) const;

 private:
  std::string get_, insert_, lock_, forget_;
};

// Deletes keys older than `window`, across tenants, in batches of `batch`
// rows (one transaction each); returns how many it deleted.
absl::StatusOr<int64_t> PruneIdempotencyKeys(Pool& pool, const std::string& schema,
                                             absl::Duration window, int batch = 1000);

}  // namespace crm::db
