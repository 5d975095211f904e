#include "services/interaction/template_store.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/api/enum_text.h"
#include "common/api/json.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "services/interaction/template_domain.h"

namespace crm::interaction {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kMaxTemplates = 1000;

constexpr char kColumns[] =
    "t.id::text, t.key, t.channel, t.locale, t.body::text, "
    "(EXTRACT(EPOCH FROM t.create_time) * 1000000)::bigint, "
    "(EXTRACT(EPOCH FROM t.update_time) * 1000000)::bigint, t.version";

constexpr char kCannedColumns[] =
    "c.id::text, c.shortcut, c.title, c.text_body, "
    "(EXTRACT(EPOCH FROM c.create_time) * 1000000)::bigint";

const std::map<std::string, std::string>& Statements() {
  static const auto* statements = new std::map<std::string, std::string>{
      {"interaction_count_templates",
       "SELECT count(*) FROM interaction.templates WHERE tenant_id = $1"},
      {"interaction_insert_template",
       absl::StrCat("INSERT INTO interaction.templates AS t (tenant_id, key, channel, locale, "
                    "body) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ",
                    kColumns)},
      {"interaction_get_template",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.templates t WHERE t.tenant_id = $1 AND t.id = $2::uuid")},
      {"interaction_lock_template",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.templates t WHERE t.tenant_id = $1 AND t.id = $2::uuid FOR "
                    "UPDATE")},
      // $2 the key, '' for all.
      {"interaction_list_templates",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.templates t WHERE t.tenant_id = $1 AND ($2 = '' OR t.key = "
                    "$2) ORDER BY t.key, t.channel, t.locale")},
      {"interaction_template_variants",
       absl::StrCat("SELECT ", kColumns,
                    " FROM interaction.templates t WHERE t.tenant_id = $1 AND t.key = $2 AND "
                    "t.channel = $3 ORDER BY t.locale")},
      {"interaction_update_template",
       absl::StrCat("UPDATE interaction.templates t SET body = $3::jsonb, update_time = now(), "
                    "version = t.version + 1 WHERE t.tenant_id = $1 AND t.id = $2::uuid "
                    "RETURNING ",
                    kColumns)},
      {"interaction_delete_template",
       "DELETE FROM interaction.templates WHERE tenant_id = $1 AND id = $2::uuid"},
      {"interaction_count_canned",
       "SELECT count(*) FROM interaction.canned_responses WHERE tenant_id = $1"},
      {"interaction_insert_canned",
       absl::StrCat("INSERT INTO interaction.canned_responses AS c (tenant_id, shortcut, title, "
                    "text_body) VALUES ($1, $2, $3, $4) RETURNING ",
                    kCannedColumns)},
      {"interaction_list_canned",
       absl::StrCat("SELECT ", kCannedColumns,
                    " FROM interaction.canned_responses c WHERE c.tenant_id = $1 ORDER BY "
                    "c.shortcut")},
      {"interaction_delete_canned",
       "DELETE FROM interaction.canned_responses WHERE tenant_id = $1 AND id = $2::uuid"},
  };
  return *statements;
}

v1::Template TemplateFromRow(const pqxx::row& row) {
  v1::Template t;
  (void)api::MergeJson(row[4].c_str(), &t);  // written by this store
  t.set_name(absl::StrCat("templates/", row[0].c_str()));
  t.set_key(row[1].c_str());
  t.set_channel(api::EnumOf<v1::Channel>(row[2].c_str()));
  t.set_locale(row[3].c_str());
  *t.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
  *t.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(row[6].as<int64_t>());
  t.set_etag(api::EtagOf(row[7].as<int64_t>()));
  return t;
}

v1::CannedResponse CannedFromRow(const pqxx::row& row) {
  v1::CannedResponse c;
  c.set_name(absl::StrCat("cannedResponses/", row[0].c_str()));
  c.set_shortcut(row[1].c_str());
  c.set_title(row[2].c_str());
  c.set_text(row[3].c_str());
  *c.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row[4].as<int64_t>());
  return c;
}

std::string BodyJson(v1::Template t) {
  for (auto* f : {t.mutable_name(), t.mutable_key(), t.mutable_locale(), t.mutable_etag()}) {
    f->clear();
  }
  t.clear_channel();
  t.clear_create_time();
  t.clear_update_time();
  return api::ToJson(t);
}

absl::Status NotFound(const char* what, const std::string& id) {
  return absl::NotFoundError(absl::StrCat(what, "/", id, " not found"));
}

}  // namespace

TemplateStore::TemplateStore(db::Pool& pool) : pool_(pool) { pool_.Prepare(Statements()); }

absl::StatusOr<v1::Template> TemplateStore::Create(const server::CallScope& scope,
                                                   const v1::Template& t) {
  v1::Template created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "interaction_count_templates", scope.tenant)[0][0].as<int64_t>() >=
        kMaxTemplates) {
      return absl::FailedPreconditionError(
          absl::StrCat("the tenant has ", kMaxTemplates, " templates, the most"));
    }
    created = TemplateFromRow(db::Exec(tx, "interaction_insert_template", scope.tenant, t.key(),
                                       api::EnumText(t.channel()),
                                       t.locale().empty() ? "en" : t.locale(), BodyJson(t))[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::Template> TemplateStore::Get(const server::CallScope& scope,
                                                const std::string& id) {
  v1::Template found;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_get_template", scope.tenant, id);
    if (rows.empty()) return NotFound("templates", id);
    found = TemplateFromRow(rows[0]);
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<v1::ListTemplatesResponse> TemplateStore::List(const server::CallScope& scope,
                                                              const std::string& key) {
  v1::ListTemplatesResponse out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.Clear();
    for (const auto& row : db::Exec(tx, "interaction_list_templates", scope.tenant, key)) {
      *out.add_templates() = TemplateFromRow(row);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::Template> TemplateStore::Update(const server::CallScope& scope,
                                                   const std::string& id, const v1::Template& patch,
                                                   const std::vector<std::string>& paths) {
  v1::Template updated;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    const auto rows = db::Exec(tx, "interaction_lock_template", scope.tenant, id);
    if (rows.empty()) return NotFound("templates", id);
    const v1::Template current = TemplateFromRow(rows[0]);
    CRM_RETURN_IF_ERROR(api::CheckEtag(patch.etag(), current.etag(), "template"));
    v1::Template next = current;
    for (const std::string& p : paths) {
      if (p == "description") next.set_description(patch.description());
      if (p == "subject") next.set_subject(patch.subject());
      if (p == "text") next.set_text(patch.text());
      if (p == "html") next.set_html(patch.html());
      if (p == "fallbacks") *next.mutable_fallbacks() = patch.fallbacks();
    }
    CRM_RETURN_IF_ERROR(ValidateTemplate(next, "template"));
    updated = TemplateFromRow(
        db::Exec(tx, "interaction_update_template", scope.tenant, id, BodyJson(next))[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::Status TemplateStore::Delete(const server::CallScope& scope, const std::string& id) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "interaction_delete_template", scope.tenant, id).affected_rows() == 0) {
      return NotFound("templates", id);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Template>> TemplateStore::Variants(const server::CallScope& scope,
                                                                  const std::string& key,
                                                                  v1::Channel channel) {
  std::vector<v1::Template> variants;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    variants.clear();
    for (const auto& row :
         db::Exec(tx, "interaction_template_variants", scope.tenant, key, api::EnumText(channel))) {
      variants.push_back(TemplateFromRow(row));
    }
    return absl::OkStatus();
  }));
  return variants;
}

absl::StatusOr<v1::CannedResponse> TemplateStore::CreateCanned(const server::CallScope& scope,
                                                               const v1::CannedResponse& c) {
  v1::CannedResponse created;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "interaction_count_canned", scope.tenant)[0][0].as<int64_t>() >=
        kMaxTemplates) {
      return absl::FailedPreconditionError(
          absl::StrCat("the tenant has ", kMaxTemplates, " canned responses, the most"));
    }
    created = CannedFromRow(db::Exec(tx, "interaction_insert_canned", scope.tenant, c.shortcut(),
                                     c.title(), c.text())[0]);
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<v1::ListCannedResponsesResponse> TemplateStore::ListCanned(
    const server::CallScope& scope) {
  v1::ListCannedResponsesResponse out;
  CRM_RETURN_IF_ERROR(db::RunInTransaction(pool_, server::ReadTxFor(scope), [&](db::Tx& tx) {
    out.Clear();
    for (const auto& row : db::Exec(tx, "interaction_list_canned", scope.tenant)) {
      *out.add_canned_responses() = CannedFromRow(row);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status TemplateStore::DeleteCanned(const server::CallScope& scope, const std::string& id) {
  return db::RunInTransaction(pool_, server::TxFor(scope), [&](db::Tx& tx) {
    if (db::Exec(tx, "interaction_delete_canned", scope.tenant, id).affected_rows() == 0) {
      return NotFound("cannedResponses", id);
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::interaction
