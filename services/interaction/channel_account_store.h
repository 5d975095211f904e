// The tenant's channel accounts in `interaction.channel_accounts`: their
// settings as the message's JSON (secrets only named), one default per
// channel.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/server/call.h"
#include "crm/interaction/v1/channel_account_service.pb.h"

namespace crm::interaction {

inline constexpr int kMaxChannelAccounts = 100;

class ChannelAccountStore {
 public:
  explicit ChannelAccountStore(db::Pool& pool);

  // `account` validated.
  absl::StatusOr<v1::ChannelAccount> Create(const server::CallScope& scope,
                                            const v1::ChannelAccount& account);
  absl::StatusOr<v1::ChannelAccount> Get(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListChannelAccountsResponse> List(const server::CallScope& scope);
  // The account with `patch`'s values at `paths`, validated whole.
  absl::StatusOr<v1::ChannelAccount> Update(const server::CallScope& scope, const std::string& id,
                                            const v1::ChannelAccount& patch,
                                            const std::vector<std::string>& paths);
  absl::StatusOr<v1::DeleteChannelAccountResponse> Delete(const server::CallScope& scope,
                                                          const std::string& id,
                                                          const std::string& etag);

  // In a transaction of `tenant` (or across tenants): account `name`
  // (channelAccounts/{uuid}), or the tenant's default for `channel` when
  // `name` is empty. FAILED_PRECONDITION naming `field` when there is none
  // or it is another channel's.
  static absl::StatusOr<v1::ChannelAccount> Resolve(db::Tx& tx, const std::string& tenant,
                                                    v1::Channel channel, const std::string& name,
                                                    const std::string& field);

 private:
  db::Pool& pool_;
};

}  // namespace crm::interaction
