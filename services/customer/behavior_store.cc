#include "services/customer/behavior_store.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "services/customer/customer_rows.h"
#include "services/customer/customer_store.h"
#include "services/customer/identity_domain.h"
#include "services/customer/identity_store.h"

namespace crm::customer {

using google::protobuf::util::TimeUtil;
namespace v1 = crm::customer::v1;

namespace {

std::string IdOf(const std::string& name) { return name.substr(std::string("customers/").size()); }

std::string PropertiesJson(const v1::BehaviorEvent& e) {
  v1::BehaviorEvent only;
  *only.mutable_properties() = e.properties();
  std::string json;
  google::protobuf::util::MessageToJsonString(only, &json);
  return json;
}

}  // namespace

BehaviorStore::BehaviorStore(db::Pool& pool) : pool_(pool) {
  pool_.Prepare(SharedStatements());
  pool_.Prepare("customer_touch_last_seen",
                "UPDATE customer.customers c SET last_seen_time = GREATEST(c.last_seen_time, "
                "'epoch'::timestamptz + v.micros * interval '1 microsecond') FROM (SELECT "
                "unnest($2::uuid[]) AS id, unnest($3::bigint[]) AS micros) v WHERE c.tenant_id = "
                "$1 AND c.id = v.id");
}

absl::Status BehaviorStore::Track(const server::CallScope& scope,
                                  const std::vector<v1::BehaviorEvent>& events,
                                  const std::vector<int>& indices,
                                  v1::TrackEventsResponse* response) {
  if (events.empty()) return absl::OkStatus();
  db::TxOptions options;
  options.tenant = scope.tenant;
  options.deadline = scope.deadline;
  const int base_rejected = response->rejected_size();
  return db::RunInTransaction(pool_, options, [&](db::Tx& tx) -> absl::Status {
    // A retried transaction starts its own rejections afresh.
    while (response->rejected_size() > base_rejected) response->mutable_rejected()->RemoveLast();
    // Events naming their customer by an identifier or anonymous id get
    // the customer's name; unknown anonymous visitors get a profile.
    std::vector<v1::Identity> identities;
    std::vector<std::string> anonymous_ids;
    for (const auto& e : events) {
      if (e.has_identity()) identities.push_back(e.identity());
      if (!e.anonymous_id().empty()) anonymous_ids.push_back(e.anonymous_id());
    }
    const auto by_identity = ResolveIdentities(tx, scope.tenant, identities);
    const auto by_anonymous = ResolveAnonymousIds(tx, scope, anonymous_ids);
    std::vector<v1::BehaviorEvent> named(events.begin(), events.end());
    std::vector<bool> unknown(named.size(), false);
    std::set<std::string> ids;
    for (size_t i = 0; i < named.size(); ++i) {
      auto& e = named[i];
      if (e.has_identity()) {
        auto it = by_identity.find(IdentityKey(e.identity()));
        if (it == by_identity.end()) {
          unknown[i] = true;
          continue;
        }
        e.set_customer(absl::StrCat("customers/", it->second));
      } else if (!e.anonymous_id().empty()) {
        e.set_customer(absl::StrCat("customers/", by_anonymous.at(e.anonymous_id())));
      }
      ids.insert(IdOf(e.customer()));
    }
    // UUIDs were validated, so the array literal needs no quoting.
    const std::string id_array = absl::StrCat("{", absl::StrJoin(ids, ","), "}");
    std::set<std::string> live;
    for (const auto& row :
         db::Exec(tx, "customer_find_live_customer_ids", scope.tenant, id_array)) {
      live.insert(row[0].as<std::string>());
    }
    // One multi-row INSERT: $1 tenant, then 6 parameters per event.
    std::vector<std::string> params = {scope.tenant};
    std::vector<std::string> rows;
    std::vector<const v1::BehaviorEvent*> kept;
    for (size_t i = 0; i < named.size(); ++i) {
      const auto& e = named[i];
      if (unknown[i]) {
        auto* r = response->add_rejected();
        r->set_index(indices[i]);
        r->set_reason(absl::StrCat("events[", indices[i], "].identity: no customer with ",
                                   v1::IdentityKind_Name(e.identity().kind()), " '",
                                   e.identity().value(), "'"));
        continue;
      }
      if (live.count(IdOf(e.customer())) == 0) {
        auto* r = response->add_rejected();
        r->set_index(indices[i]);
        r->set_reason(absl::StrCat("events[", indices[i], "].customer: ", e.customer(),
                                   " not found or deleted"));
        continue;
      }
      const size_t p = params.size();
      rows.push_back(absl::StrCat("($1, $", p + 1, ", $", p + 2, "::uuid, $", p + 3,
                                  "::smallint, NULLIF($", p + 4, ", ''), 'epoch'::timestamptz + $",
                                  p + 5, "::bigint * interval '1 microsecond', COALESCE(($", p + 6,
                                  "::jsonb)->'properties', '{}'))"));
      params.push_back(e.event_id());
      params.push_back(IdOf(e.customer()));
      params.push_back(absl::StrCat(static_cast<int>(e.type())));
      params.push_back(e.custom_name());
      params.push_back(absl::StrCat(TimeUtil::TimestampToMicroseconds(e.event_time())));
      params.push_back(PropertiesJson(e));
      kept.push_back(&e);
    }
    response->set_duplicates(0);
    response->set_accepted(0);
    if (kept.empty()) return absl::OkStatus();
    auto inserted = db::ExecDynamic(
        tx, "customer_insert_behavior_events",
        absl::StrCat("INSERT INTO customer.behavior_events (tenant_id, event_id, customer_id, "
                     "type, custom_name, event_time, properties) VALUES ",
                     absl::StrJoin(rows, ", "),
                     " ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING event_id"),
        params);
    std::set<std::string> new_ids;
    for (const auto& row : inserted) new_ids.insert(row[0].as<std::string>());
    response->set_accepted(static_cast<int32_t>(new_ids.size()));
    response->set_duplicates(static_cast<int32_t>(kept.size() - new_ids.size()));

    // Per customer: last seen, and one summary event.
    std::map<std::string, v1::BehaviorSummary> summaries;
    std::map<std::string, int64_t> last_micros;
    for (const auto* e : kept) {
      if (new_ids.count(e->event_id()) == 0) continue;
      const std::string id = IdOf(e->customer());
      auto& s = summaries[id];
      s.set_customer(e->customer());
      (*s.mutable_counts())[v1::BehaviorEventType_Name(e->type())] += 1;
      const int64_t micros = TimeUtil::TimestampToMicroseconds(e->event_time());
      if (micros > last_micros[id] || last_micros[id] == 0) {
        last_micros[id] = micros;
        *s.mutable_last_event_time() = e->event_time();
      }
    }
    if (summaries.empty()) return absl::OkStatus();
    std::vector<std::string> touch_ids, touch_micros;
    for (const auto& [id, micros] : last_micros) {
      touch_ids.push_back(id);
      touch_micros.push_back(absl::StrCat(micros));
    }
    db::Exec(tx, "customer_touch_last_seen", scope.tenant,
             absl::StrCat("{", absl::StrJoin(touch_ids, ","), "}"),
             absl::StrCat("{", absl::StrJoin(touch_micros, ","), "}"));
    for (const auto& [id, summary] : summaries) {
      events::AppendEvent(tx, kSchema, scope.tenant, "customer.behavior_tracked",
                          summary.customer(), summary);
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::customer
