#include "services/gateway/api_key_store.h"

#include <google/protobuf/util/time_util.h>

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/api/page_token.h"
#include "common/api/validation.h"
#include "common/base/crypto.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "services/gateway/routes.h"

namespace crm::gateway {

using crm::gateway::v1::ApiKey;
using google::protobuf::util::TimeUtil;

namespace {

constexpr char kColumns[] =
    "id::text, tenant_id, array_to_string(scopes, ','), description, prefix, "
    "(EXTRACT(EPOCH FROM create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM revoke_time) * 1000000)::bigint";

ApiKey RowToKey(const pqxx::row& row) {
  ApiKey k;
  k.set_name(absl::StrCat("apiKeys/", row[0].as<std::string>()));
  k.set_tenant(row[1].as<std::string>());
  for (absl::string_view s : absl::StrSplit(row[2].as<std::string>(), ',', absl::SkipEmpty())) {
    k.add_scopes(std::string(s));
  }
  k.set_description(row[3].as<std::string>());
  k.set_prefix(row[4].as<std::string>());
  *k.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  if (!row[6].is_null()) {
    *k.mutable_revoke_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
  }
  return k;
}

db::TxOptions Until(absl::Time deadline) {
  db::TxOptions options;
  options.deadline = deadline;
  return options;
}

}  // namespace

ApiKeyStore::ApiKeyStore(db::Pool& pool, db::Reader& reader, absl::Duration cache_ttl)
    : pool_(pool), reader_(reader), ttl_(cache_ttl) {
  pool_.Prepare("gateway_get_api_key_by_hash",
                "SELECT id::text, tenant_id, array_to_string(scopes, ',') FROM "
                "gateway.api_keys WHERE key_hash = $1 AND revoke_time IS NULL");
  pool_.Prepare("gateway_insert_api_key",
                absl::StrCat("INSERT INTO gateway.api_keys (tenant_id, key_hash, prefix, scopes, "
                             "description) VALUES ($1, $2, $3, $4::text[], $5) RETURNING ",
                             kColumns));
  pool_.Prepare("gateway_revoke_api_key",
                absl::StrCat("UPDATE gateway.api_keys SET revoke_time = COALESCE(revoke_time, "
                             "now()) WHERE id = $1::uuid RETURNING ",
                             kColumns));
  // Key lists are small (tens per tenant): offset paging is fine here.
  pool_.Prepare("gateway_list_api_keys",
                absl::StrCat("SELECT ", kColumns,
                             " FROM gateway.api_keys WHERE ($1 = '' OR tenant_id = $1) "
                             "ORDER BY create_time DESC, id LIMIT $2 OFFSET $3"));
}

absl::StatusOr<crm::gateway::v1::CreateApiKeyResponse> ApiKeyStore::Create(const ApiKey& key,
                                                                           absl::Time deadline) {
  if (!server::IsValidTenant(key.tenant())) {
    return absl::InvalidArgumentError(
        "api_key.tenant: must be 1 to 63 characters of [a-z0-9-], starting alphanumeric");
  }
  if (key.scopes_size() == 0) {
    return absl::InvalidArgumentError("api_key.scopes: at least one scope is required");
  }
  for (int i = 0; i < key.scopes_size(); ++i) {
    if (!IsValidScope(key.scopes(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "api_key.scopes[", i, "]: must be '*', '<area>.*', '<area>.read' or '<area>.write'"));
    }
  }
  CRM_RETURN_IF_ERROR(api::CheckText("api_key.description", key.description(), 200));
  const std::string secret = absl::StrCat("crm_", crypto::RandomToken(24));
  const std::string prefix = secret.substr(0, 12);
  crm::gateway::v1::CreateApiKeyResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, Until(deadline), [&](db::Tx& tx) {
    auto rows =
        db::Exec(tx, "gateway_insert_api_key", key.tenant(), crypto::Sha256Hex(secret), prefix,
                 absl::StrCat("{", absl::StrJoin(key.scopes(), ","), "}"), key.description());
    *response.mutable_api_key() = RowToKey(rows[0]);
    return absl::OkStatus();
  }));
  response.set_key(secret);
  return response;
}

absl::StatusOr<ApiKey> ApiKeyStore::Revoke(const std::string& name, absl::Time deadline) {
  std::string id;
  CRM_RETURN_IF_ERROR(api::ParseResourceName("name", name, "apiKeys", &id));
  ApiKey out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, Until(deadline), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "gateway_revoke_api_key", id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat(name, " not found"));
    out = RowToKey(rows[0]);
    return absl::OkStatus();
  }));
  // This replica forgets at once; others within the cache TTL.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.info.ok() && it->second.info->id == id) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

absl::StatusOr<crm::gateway::v1::ListApiKeysResponse> ApiKeyStore::List(
    const crm::gateway::v1::ListApiKeysRequest& request, absl::Time deadline) {
  CRM_ASSIGN_OR_RETURN(int page_size, api::EffectivePageSize(request.page_size(), 50, 1000));
  if (!request.tenant().empty() && !server::IsValidTenant(request.tenant())) {
    return absl::InvalidArgumentError("tenant: malformed");
  }
  int64_t offset = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError("page_token: invalid token");
  }
  crm::gateway::v1::ListApiKeysResponse response;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, Until(deadline), [&](db::Tx& tx) {
    auto rows = db::Exec(tx, "gateway_list_api_keys", request.tenant(), page_size + 1, offset);
    const int n = std::min<int>(static_cast<int>(rows.size()), page_size);
    for (int i = 0; i < n; ++i) *response.add_api_keys() = RowToKey(rows[i]);
    if (static_cast<int>(rows.size()) > page_size) {
      response.set_next_page_token(absl::StrCat(offset + page_size));
    }
    return absl::OkStatus();
  }));
  return response;
}

bool ApiKeyStore::LookupCached(const std::string& secret, absl::StatusOr<KeyInfo>* out) {
  const std::string hash = crypto::Sha256Hex(secret);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(hash);
  if (it == cache_.end() || it->second.expires < absl::Now()) return false;
  *out = it->second.info;
  return true;
}

void ApiKeyStore::Lookup(const std::string& secret, absl::Time deadline,
                         std::function<void(absl::StatusOr<KeyInfo>)> done) {
  std::string hash = crypto::Sha256Hex(secret);
  reader_.Read(
      Until(deadline), "gateway_get_api_key_by_hash",
      [this, hash, done = std::move(done)](absl::StatusOr<db::Rows> rows) {
        if (!rows.ok()) return done(rows.status());  // database trouble: do not cache
        absl::StatusOr<KeyInfo> result = absl::UnauthenticatedError("invalid or revoked API key");
        if (!rows->empty()) {
          KeyInfo info;
          info.id = (*rows)[0][0].as<std::string>();
          info.tenant = (*rows)[0][1].as<std::string>();
          info.scopes = absl::StrSplit((*rows)[0][2].as<std::string>(), ',', absl::SkipEmpty());
          result = std::move(info);
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (cache_.size() > 100000) cache_.clear();  // bound memory under key spraying
          cache_[hash] = Entry{result, absl::Now() + ttl_};
        }
        done(std::move(result));
      },
      hash);
}

}  // namespace crm::gateway
