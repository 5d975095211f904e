#include "common/db/idempotency.h"

#include <pqxx/binarystring>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace crm::db {
namespace {

std::string Interval(absl::Duration d) { return absl::StrCat(absl::ToInt64Seconds(d), " seconds"); }

}  // namespace

Idempotency::Idempotency(Pool& pool, std::string schema)
    : get_(schema + "_get_idempotency_key"),
      insert_(schema + "_insert_idempotency_key"),
      lock_(schema + "_lock_request_id"),
      forget_(schema + "_forget_idempotency_key") {
  const std::string table = schema + ".idempotency_keys";
  pool.Prepare(get_,
               absl::StrCat("SELECT request_hash, response, create_time > now() - "
                            "$4::interval FROM ",
                            table, " WHERE tenant_id = $1 AND method = $2 AND request_id = $3"));
  pool.Prepare(insert_, absl::StrCat("INSERT INTO ", table,
                                     " (tenant_id, method, request_id, request_hash, response) "
                                     "VALUES ($1, $2, $3, $4, $5)"));
  pool.Prepare(lock_, "SELECT pg_advisory_xact_lock(hashtext($1))");
  pool.Prepare(forget_, absl::StrCat("DELETE FROM ", table,
                                     " WHERE tenant_id = $1 AND method = $2 AND request_id = $3"));
}

absl::StatusOr<bool> Idempotency::Replay(Tx& tx, const std::string& tenant,
                                         const std::string& method, const std::string& request_id,
                                         const std::string& request_hash,
                                         google::protobuf::Message* response) const {
  if (request_id.empty()) return false;
  Exec(tx, lock_, absl::StrCat(tenant, "/", method, "/", request_id));
  auto prior = Exec(tx, get_, tenant, method, request_id, Interval(kIdempotencyWindow));
  if (prior.empty()) return false;
  if (!prior[0][2].as<bool>()) {
    // Older than the window: forgotten, so this is a new request.
    Exec(tx, forget_, tenant, method, request_id);
    return false;
  }
  if (prior[0][0].as<std::string>() != request_hash) {
    return absl::InvalidArgumentError("request_id: already used for a different request");
  }
  pqxx::binarystring bytes(prior[0][1]);
  if (!response->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError("stored response unreadable");
  }
  return true;
}

void Idempotency::Store(Tx& tx, const std::string& tenant, const std::string& method,
                        const std::string& request_id, const std::string& request_hash,
                        const google::protobuf::Message& response) const {
  if (request_id.empty()) return;
  const std::string bytes = response.SerializeAsString();
  Exec(tx, insert_, tenant, method, request_id, request_hash,
       pqxx::binarystring(bytes.data(), bytes.size()));
}

absl::StatusOr<int64_t> PruneIdempotencyKeys(Pool& pool, const std::string& schema,
                                             absl::Duration window, int batch) {
  const std::string sql = absl::StrCat(
      "WITH doomed AS (SELECT tenant_id, method, request_id FROM ", schema,
      ".idempotency_keys WHERE create_time < now() - $1::interval LIMIT $2) DELETE FROM ", schema,
      ".idempotency_keys k USING doomed d WHERE k.tenant_id = d.tenant_id AND k.method = "
      "d.method AND k.request_id = d.request_id");
  int64_t total = 0;
  for (;;) {
    int64_t deleted = 0;
    const TxOptions options = HousekeepingTx(absl::Minutes(1));
    absl::Status status = RunInTransaction(pool, options, [&](Tx& tx) {
      deleted = static_cast<int64_t>(ExecDynamic(tx, schema + "_prune_idempotency_keys", sql,
                                                 {Interval(window), absl::StrCat(batch)})
                                         .affected_rows());
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    total += deleted;
    if (deleted < batch) return total;
  }
}

}  // namespace crm::db
