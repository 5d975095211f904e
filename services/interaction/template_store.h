// Templates and canned responses in the `interaction` schema.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/server/call.h"
#include "crm/interaction/v1/template_service.pb.h"

namespace crm::interaction {

class TemplateStore {
 public:
  explicit TemplateStore(db::Pool& pool);

  // `t` validated.
  absl::StatusOr<v1::Template> Create(const server::CallScope& scope, const v1::Template& t);
  absl::StatusOr<v1::Template> Get(const server::CallScope& scope, const std::string& id);
  absl::StatusOr<v1::ListTemplatesResponse> List(const server::CallScope& scope,
                                                 const std::string& key);
  // The template with `patch`'s values at `paths`, validated whole.
  absl::StatusOr<v1::Template> Update(const server::CallScope& scope, const std::string& id,
                                      const v1::Template& patch,
                                      const std::vector<std::string>& paths);
  absl::Status Delete(const server::CallScope& scope, const std::string& id);
  // The variants of `key` on `channel` (every locale).
  absl::StatusOr<std::vector<v1::Template>> Variants(const server::CallScope& scope,
                                                     const std::string& key, v1::Channel channel);

  // `c` validated.
  absl::StatusOr<v1::CannedResponse> CreateCanned(const server::CallScope& scope,
                                                  const v1::CannedResponse& c);
  absl::StatusOr<v1::ListCannedResponsesResponse> ListCanned(const server::CallScope& scope);
  absl::Status DeleteCanned(const server::CallScope& scope, const std::string& id);

 private:
  db::Pool& pool_;
};

}  // namespace crm::interaction
