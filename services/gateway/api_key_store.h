// API keys: created with a random secret shown once, stored as a SHA-256
// hash, looked up through a short-lived cache so that the hot path rarely
// touches the database and a revocation takes effect within the TTL.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/reader.h"
#include "crm/gateway/v1/api_key_service.pb.h"

namespace crm::gateway {

struct KeyInfo {
  std::string id;  // uuid
  std::string tenant;
  std::vector<std::string> scopes;
};

class ApiKeyStore {
 public:
  ApiKeyStore(db::Pool& pool, db::Reader& reader, absl::Duration cache_ttl);

  // Validates and creates; returns the stored key and the secret. Every
  // database call ends by `deadline` (the caller's).
  absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> Create(const crm::gateway::v1::ApiKey& key,
                                                                absl::Time deadline);
  absl::StatusOr<crm::gateway::v1::ApiKey> Revoke(const std::string& name, absl::Time deadline);
  absl::StatusOr<crm::gateway::v1::ListApiKeysResponse> List(
      const crm::gateway::v1::ListApiKeysRequest& request, absl::Time deadline);

  // Cached lookup that never touches the database; false on a miss.
  bool LookupCached(const std::string& secret, absl::StatusOr<KeyInfo>* out);
  // Lookup through the database without blocking: `done` runs on the
  // db::Reader's thread. UNAUTHENTICATED for an unknown or revoked key.
  // Caches the answer.
  void Lookup(const std::string& secret, absl::Time deadline,
              std::function<void(absl::StatusOr<KeyInfo>)> done);

 private:
  struct Entry {
    absl::StatusOr<KeyInfo> info;
    absl::Time expires;
  };
  db::Pool& pool_;
  db::Reader& reader_;
  const absl::Duration ttl_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // by key hash
};

}  // namespace crm::gateway
