#include "services/customer/customer_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/import_errors.h"
#include "common/server/import_stream.h"
#include "common/server/snapshot_export.h"
#include "services/customer/customer_domain.h"
#include "services/customer/identity_domain.h"
#include "services/customer/order_domain.h"

namespace crm::customer {

using v1::Customer;

CustomerServiceImpl::CustomerServiceImpl(CustomerStore& store, OrderStore& orders,
                                         BehaviorStore& behavior, IdentityStore& identities,
                                         server::Executor& executor,
                                         server::CallOptions call_options)
    : store_(store),
      orders_(orders),
      behavior_(behavior),
      identities_(identities),
      executor_(executor),
      call_options_(call_options) {}

grpc::ServerUnaryReactor* CustomerServiceImpl::CreateCustomer(
    grpc::CallbackServerContext* ctx, const v1::CreateCustomerRequest* request,
    Customer* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_customer()) return absl::InvalidArgumentError("customer: required");
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    Customer customer = request->customer();
    customer.clear_name();
    customer.clear_create_time();
    customer.clear_update_time();
    customer.clear_delete_time();
    customer.clear_etag();
    NormalizeCustomer(&customer);
    CRM_RETURN_IF_ERROR(ValidateCustomer(customer, "customer"));
    const std::string hash = api::RequestFingerprint(customer);
    CRM_ASSIGN_OR_RETURN(*response,
                         store_.Create(scope, std::move(customer), request->request_id(), hash));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::GetCustomer(grpc::CallbackServerContext* ctx,
                                                           const v1::GetCustomerRequest* request,
                                                           Customer* response) {
  return server::RunRead(
      ctx, call_options_,
      [this, request, response](const server::CallScope& scope, server::Finish finish) {
        std::string id;
        absl::Status status = api::ParseResourceName("name", request->name(), "customers", &id);
        if (!status.ok()) return finish(status);
        store_.Get(scope, id, [response, finish](absl::StatusOr<Customer> c) {
          if (c.ok()) *response = *std::move(c);
          finish(c.status());
        });
      });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::UpdateCustomer(
    grpc::CallbackServerContext* ctx, const v1::UpdateCustomerRequest* request,
    Customer* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_customer()) return absl::InvalidArgumentError("customer: required");
    std::string id;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("customer.name", request->customer().name(), "customers", &id));
    if (request->update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError("update_mask: required; name the fields to change");
    }
    const std::string& etag =
        request->etag().empty() ? request->customer().etag() : request->etag();
    CRM_ASSIGN_OR_RETURN(
        *response, store_.Update(scope, id, request->customer(), request->update_mask(), etag));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::DeleteCustomer(
    grpc::CallbackServerContext* ctx, const v1::DeleteCustomerRequest* request,
    Customer* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this, request](const server::CallScope& scope, const std::string& id) {
                      return store_.Delete(scope, id, request->etag());
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListCustomers(
    grpc::CallbackServerContext* ctx, const v1::ListCustomersRequest* request,
    v1::ListCustomersResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.List(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::RecordConsent(
    grpc::CallbackServerContext* ctx, const v1::RecordConsentRequest* request,
    v1::Consent* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "customers", &id));
    if (!request->has_consent()) return absl::InvalidArgumentError("consent: required");
    CRM_RETURN_IF_ERROR(server::CheckRequestIdField(request->request_id()));
    v1::Consent consent = request->consent();
    // The hash covers what the caller sent, before the default time is set,
    // so that a retry of the same request is recognised as the same.
    v1::RecordConsentRequest fingerprint = *request;
    fingerprint.clear_request_id();
    const std::string hash = api::RequestFingerprint(fingerprint);
    CRM_RETURN_IF_ERROR(ValidateConsent(&consent, absl::Now(), "consent"));
    CRM_ASSIGN_OR_RETURN(*response,
                         store_.RecordConsent(scope, id, consent, request->request_id(), hash));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListConsents(grpc::CallbackServerContext* ctx,
                                                            const v1::ListConsentsRequest* request,
                                                            v1::ListConsentsResponse* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this, request](const server::CallScope& scope, const std::string& id) {
                      return store_.ListConsents(scope, *request, id);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::CheckConsent(grpc::CallbackServerContext* ctx,
                                                            const v1::CheckConsentRequest* request,
                                                            v1::CheckConsentResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "customers", &id));
    CRM_RETURN_IF_ERROR(api::RequiredEnum("channel", request->channel()));
    CRM_RETURN_IF_ERROR(api::RequiredEnum("purpose", request->purpose()));
    CRM_ASSIGN_OR_RETURN(*response,
                         store_.CheckConsent(scope, id, request->channel(), request->purpose()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::RecordOrder(grpc::CallbackServerContext* ctx,
                                                           const v1::RecordOrderRequest* request,
                                                           v1::Order* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!request->has_order()) return absl::InvalidArgumentError("order: required");
    v1::Order order = request->order();
    order.clear_name();
    order.clear_create_time();
    order.clear_update_time();
    // Fingerprint of what the shop sent: a retry of the same order matches.
    const std::string hash = api::RequestFingerprint(order);
    CRM_RETURN_IF_ERROR(ValidateOrder(&order, absl::Now()));
    CRM_ASSIGN_OR_RETURN(*response, orders_.Record(scope, order, hash));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::GetOrder(grpc::CallbackServerContext* ctx,
                                                        const v1::GetOrderRequest* request,
                                                        v1::Order* response) {
  return OnResource(ctx, "name", request->name(), "orders", response,
                    [this](const server::CallScope& scope, const std::string& id) {
                      return orders_.Get(scope, id);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::UpdateOrderStatus(
    grpc::CallbackServerContext* ctx, const v1::UpdateOrderStatusRequest* request,
    v1::Order* response) {
  return OnResource(ctx, "name", request->name(), "orders", response,
                    [this, request](const server::CallScope& scope, const std::string& id) {
                      return orders_.UpdateStatus(scope, id, *request);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListOrders(grpc::CallbackServerContext* ctx,
                                                          const v1::ListOrdersRequest* request,
                                                          v1::ListOrdersResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string customer_id;
    if (!request->parent().empty()) {
      CRM_RETURN_IF_ERROR(
          api::ParseResourceName("parent", request->parent(), "customers", &customer_id));
    }
    CRM_ASSIGN_OR_RETURN(*response, orders_.List(scope, *request, customer_id));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportOrdersResponse>* CustomerServiceImpl::ExportOrders(
    grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* request) {
  return server::ServeSnapshotExport<v1::ExportOrdersResponse>(
      ctx, call_options_, executor_, request->batch_size(),
      [this](const server::CallScope& scope, int batch,
             const server::SnapshotPager<v1::ExportOrdersResponse>::Emit& emit) {
        return orders_.Export(scope, batch, emit);
      });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListCustomerHistory(
    grpc::CallbackServerContext* ctx, const v1::ListCustomerHistoryRequest* request,
    v1::ListCustomerHistoryResponse* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this, request](const server::CallScope& scope, const std::string& id) {
                      return store_.ListHistory(scope, id, request->page_size(),
                                                request->page_token());
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ExportCustomerData(
    grpc::CallbackServerContext* ctx, const v1::ExportCustomerDataRequest* request,
    v1::ExportCustomerDataResponse* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this](const server::CallScope& scope, const std::string& id) {
                      return store_.Export(scope, id);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::EraseCustomer(
    grpc::CallbackServerContext* ctx, const v1::EraseCustomerRequest* request,
    v1::EraseCustomerResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("name", request->name(), "customers", &id));
    CRM_ASSIGN_OR_RETURN(*response->mutable_customer(), store_.Erase(scope, id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::TrackEvents(grpc::CallbackServerContext* ctx,
                                                           const v1::TrackEventsRequest* request,
                                                           v1::TrackEventsResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (request->events_size() == 0 || request->events_size() > 1000) {
      return absl::InvalidArgumentError("events: 1 to 1000 events per call");
    }
    const absl::Time now = absl::Now();
    std::vector<v1::BehaviorEvent> valid;
    std::vector<int> indices;
    valid.reserve(request->events_size());
    for (int i = 0; i < request->events_size(); ++i) {
      v1::BehaviorEvent e = request->events(i);
      absl::Status s = ValidateBehaviorEvent(&e, now, absl::StrCat("events[", i, "]"));
      if (!s.ok()) {
        auto* r = response->add_rejected();
        r->set_index(i);
        r->set_reason(std::string(s.message()));
        continue;
      }
      valid.push_back(std::move(e));
      indices.push_back(i);
    }
    return behavior_.Track(scope, valid, indices, response);
  });
}

grpc::ServerReadReactor<v1::ImportCustomersRequest>* CustomerServiceImpl::ImportCustomers(
    grpc::CallbackServerContext* ctx, v1::ImportCustomersResponse* response) {
  server::CallOptions options = call_options_;
  options.default_deadline = absl::Hours(24);
  auto received = std::make_shared<int64_t>(0);
  return server::ImportStream<v1::ImportCustomersRequest>::Start(
      ctx, executor_, options,
      [this, response, received](const server::CallScope& scope,
                                 const v1::ImportCustomersRequest& chunk) -> absl::Status {
        if (chunk.customers_size() > 1000) {
          return absl::InvalidArgumentError("customers: at most 1000 per message");
        }
        std::vector<Customer> valid;
        std::vector<int64_t> rows;
        for (int i = 0; i < chunk.customers_size(); ++i) {
          const int64_t row = (*received)++;
          Customer c = chunk.customers(i);
          c.clear_name();
          c.clear_create_time();
          c.clear_update_time();
          c.clear_delete_time();
          c.clear_etag();
          c.clear_facts();
          c.clear_erase_time();
          NormalizeCustomer(&c);
          absl::Status s =
              c.external_id().empty()
                  ? absl::InvalidArgumentError("customer.external_id: required to import")
                  : ValidateCustomer(c, "customer");
          if (!s.ok()) {
            server::RecordImportError(response, row, s.message());
            continue;
          }
          valid.push_back(std::move(c));
          rows.push_back(row);
        }
        response->set_received(*received);
        return store_.ImportBatch(scope, valid, rows, response);
      },
      [](const server::CallScope&) { return absl::OkStatus(); });
}

grpc::ServerReadReactor<v1::ImportOrdersRequest>* CustomerServiceImpl::ImportOrders(
    grpc::CallbackServerContext* ctx, v1::ImportOrdersResponse* response) {
  server::CallOptions options = call_options_;
  options.default_deadline = absl::Hours(24);
  auto received = std::make_shared<int64_t>(0);
  return server::ImportStream<v1::ImportOrdersRequest>::Start(
      ctx, executor_, options,
      [this, response, received](const server::CallScope& scope,
                                 const v1::ImportOrdersRequest& chunk) -> absl::Status {
        if (chunk.orders_size() > 1000) {
          return absl::InvalidArgumentError("orders: at most 1000 per message");
        }
        const absl::Time now = absl::Now();
        std::vector<v1::Order> valid;
        std::vector<int64_t> rows;
        std::vector<std::string> hashes;
        for (int i = 0; i < chunk.orders_size(); ++i) {
          const int64_t row = (*received)++;
          v1::Order order = chunk.orders(i);
          order.clear_name();
          order.clear_create_time();
          order.clear_update_time();
          const std::string hash = api::RequestFingerprint(order);
          absl::Status s = ValidateOrder(&order, now);
          if (!s.ok()) {
            server::RecordImportError(response, row, s.message());
            continue;
          }
          valid.push_back(std::move(order));
          rows.push_back(row);
          hashes.push_back(hash);
        }
        response->set_received(*received);
        return orders_.ImportBatch(scope, valid, rows, hashes, response);
      },
      [](const server::CallScope&) { return absl::OkStatus(); });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::SearchCustomers(
    grpc::CallbackServerContext* ctx, const v1::SearchCustomersRequest* request,
    v1::SearchCustomersResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, store_.Search(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::AddIdentity(grpc::CallbackServerContext* ctx,
                                                           const v1::AddIdentityRequest* request,
                                                           Customer* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this, request](const server::CallScope& scope,
                                    const std::string& id) -> absl::StatusOr<Customer> {
                      v1::Identity identity = request->identity();
                      CRM_RETURN_IF_ERROR(NormalizeIdentity(&identity, "identity"));
                      return identities_.AddIdentity(scope, id, identity);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::RemoveIdentity(
    grpc::CallbackServerContext* ctx, const v1::RemoveIdentityRequest* request,
    Customer* response) {
  return OnResource(ctx, "name", request->name(), "customers", response,
                    [this, request](const server::CallScope& scope,
                                    const std::string& id) -> absl::StatusOr<Customer> {
                      v1::Identity identity = request->identity();
                      CRM_RETURN_IF_ERROR(NormalizeIdentity(&identity, "identity"));
                      return identities_.RemoveIdentity(scope, id, identity);
                    });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::IdentifyCustomer(
    grpc::CallbackServerContext* ctx, const v1::IdentifyCustomerRequest* request,
    v1::IdentifyCustomerResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    v1::IdentifyCustomerRequest normalized = *request;
    if (normalized.identities_size() == 0 || normalized.identities_size() > 20) {
      return absl::InvalidArgumentError("identities: 1 to 20 required");
    }
    for (int i = 0; i < normalized.identities_size(); ++i) {
      auto* identity = normalized.mutable_identities(i);
      const std::string path = absl::StrCat("identities[", i, "]");
      if (identity->kind() == v1::IDENTITY_KIND_ANONYMOUS_ID) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".kind: give the anonymous id in anonymous_id"));
      }
      CRM_RETURN_IF_ERROR(NormalizeIdentity(identity, path));
    }
    if (!normalized.anonymous_id().empty()) {
      CRM_RETURN_IF_ERROR(NormalizeAnonymousId(normalized.mutable_anonymous_id(), "anonymous_id"));
    }
    CRM_ASSIGN_OR_RETURN(*response, identities_.Identify(scope, normalized));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListDuplicateCandidates(
    grpc::CallbackServerContext* ctx, const v1::ListDuplicateCandidatesRequest* request,
    v1::ListDuplicateCandidatesResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    CRM_ASSIGN_OR_RETURN(*response, identities_.ListDuplicates(scope, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::MergeCustomers(
    grpc::CallbackServerContext* ctx, const v1::MergeCustomersRequest* request,
    v1::MergeCustomersResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string survivor, merged;
    CRM_RETURN_IF_ERROR(
        api::ParseResourceName("survivor", request->survivor(), "customers", &survivor));
    CRM_RETURN_IF_ERROR(api::ParseResourceName("merged", request->merged(), "customers", &merged));
    if (survivor == merged) {
      return absl::InvalidArgumentError("merged: must differ from survivor");
    }
    CRM_ASSIGN_OR_RETURN(*response, identities_.Merge(scope, survivor, merged, *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::UnmergeCustomer(
    grpc::CallbackServerContext* ctx, const v1::UnmergeCustomerRequest* request,
    v1::UnmergeCustomerResponse* response) {
  return OnResource(ctx, "name", request->name(), "merges", response,
                    [this](const server::CallScope& scope, const std::string& id) {
                      return identities_.Unmerge(scope, id);
                    });
}

}  // namespace crm::customer
