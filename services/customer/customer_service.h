// gRPC handlers of crm.customer.v1.CustomerService: validate the request,
// hand the work to the executor, map the status. No SQL here.
#pragma once

#include "common/api/validation.h"
#include "common/base/status.h"
#include "common/server/call.h"
#include "common/server/executor.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "services/customer/behavior_store.h"
#include "services/customer/customer_store.h"
#include "services/customer/identity_store.h"
#include "services/customer/order_store.h"

namespace crm::customer {

class CustomerServiceImpl final : public crm::customer::v1::CustomerService::CallbackService {
 public:
  CustomerServiceImpl(CustomerStore& store, OrderStore& orders, BehaviorStore& behavior,
                      IdentityStore& identities, server::Executor& executor,
                      server::CallOptions call_options = {});

  grpc::ServerUnaryReactor* CreateCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::CreateCustomerRequest* request,
                                           v1::Customer* response) override;
  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* ctx,
                                        const v1::GetCustomerRequest* request,
                                        v1::Customer* response) override;
  grpc::ServerUnaryReactor* UpdateCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateCustomerRequest* request,
                                           v1::Customer* response) override;
  grpc::ServerUnaryReactor* DeleteCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteCustomerRequest* request,
                                           v1::Customer* response) override;
  grpc::ServerUnaryReactor* SearchCustomers(grpc::CallbackServerContext* ctx,
                                            const v1::SearchCustomersRequest* request,
                                            v1::SearchCustomersResponse* response) override;
  grpc::ServerUnaryReactor* ListCustomers(grpc::CallbackServerContext* ctx,
                                          const v1::ListCustomersRequest* request,
                                          v1::ListCustomersResponse* response) override;
  grpc::ServerUnaryReactor* RecordConsent(grpc::CallbackServerContext* ctx,
                                          const v1::RecordConsentRequest* request,
                                          v1::Consent* response) override;
  grpc::ServerUnaryReactor* ListConsents(grpc::CallbackServerContext* ctx,
                                         const v1::ListConsentsRequest* request,
                                         v1::ListConsentsResponse* response) override;
  grpc::ServerUnaryReactor* CheckConsent(grpc::CallbackServerContext* ctx,
                                         const v1::CheckConsentRequest* request,
                                         v1::CheckConsentResponse* response) override;
  grpc::ServerUnaryReactor* ListCustomerHistory(grpc::CallbackServerContext* ctx,
                                                const v1::ListCustomerHistoryRequest* request,
                                                v1::ListCustomerHistoryResponse* response) override;
  grpc::ServerUnaryReactor* ExportCustomerData(grpc::CallbackServerContext* ctx,
                                               const v1::ExportCustomerDataRequest* request,
                                               v1::ExportCustomerDataResponse* response) override;
  grpc::ServerUnaryReactor* EraseCustomer(grpc::CallbackServerContext* ctx,
                                          const v1::EraseCustomerRequest* request,
                                          v1::EraseCustomerResponse* response) override;
  grpc::ServerReadReactor<v1::ImportCustomersRequest>* ImportCustomers(
      grpc::CallbackServerContext* ctx, v1::ImportCustomersResponse* response) override;
  grpc::ServerReadReactor<v1::ImportOrdersRequest>* ImportOrders(
      grpc::CallbackServerContext* ctx, v1::ImportOrdersResponse* response) override;
  grpc::ServerUnaryReactor* TrackEvents(grpc::CallbackServerContext* ctx,
                                        const v1::TrackEventsRequest* request,
                                        v1::TrackEventsResponse* response) override;
  grpc::ServerUnaryReactor* RecordOrder(grpc::CallbackServerContext* ctx,
                                        const v1::RecordOrderRequest* request,
                                        v1::Order* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx,
                                     const v1::GetOrderRequest* request,
                                     v1::Order* response) override;
  grpc::ServerUnaryReactor* UpdateOrderStatus(grpc::CallbackServerContext* ctx,
                                              const v1::UpdateOrderStatusRequest* request,
                                              v1::Order* response) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* ctx,
                                       const v1::ListOrdersRequest* request,
                                       v1::ListOrdersResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportOrdersResponse>* ExportOrders(
      grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* request) override;
  grpc::ServerUnaryReactor* AddIdentity(grpc::CallbackServerContext* ctx,
                                        const v1::AddIdentityRequest* request,
                                        v1::Customer* response) override;
  grpc::ServerUnaryReactor* RemoveIdentity(grpc::CallbackServerContext* ctx,
                                           const v1::RemoveIdentityRequest* request,
                                           v1::Customer* response) override;
  grpc::ServerUnaryReactor* IdentifyCustomer(grpc::CallbackServerContext* ctx,
                                             const v1::IdentifyCustomerRequest* request,
                                             v1::IdentifyCustomerResponse* response) override;
  grpc::ServerUnaryReactor* ListDuplicateCandidates(
      grpc::CallbackServerContext* ctx, const v1::ListDuplicateCandidatesRequest* request,
      v1::ListDuplicateCandidatesResponse* response) override;
  grpc::ServerUnaryReactor* MergeCustomers(grpc::CallbackServerContext* ctx,
                                           const v1::MergeCustomersRequest* request,
                                           v1::MergeCustomersResponse* response) override;
  grpc::ServerUnaryReactor* UnmergeCustomer(grpc::CallbackServerContext* ctx,
                                            const v1::UnmergeCustomerRequest* request,
                                            v1::UnmergeCustomerResponse* response) override;

 private:
  // The shape of most handlers: parse the resource name in `field`, run
  // `fn(scope, id)` on the executor, and answer with its value.
  template <typename Response, typename Fn>
  grpc::ServerUnaryReactor* OnResource(grpc::CallbackServerContext* ctx, const char* field,
                                       const std::string& name, const char* collection,
                                       Response* response, Fn fn) {
    return server::RunUnary(
        ctx, executor_, call_options_, [=](const server::CallScope& scope) -> absl::Status {
          std::string id;
          CRM_RETURN_IF_ERROR(api::ParseResourceName(field, name, collection, &id));
          CRM_ASSIGN_OR_RETURN(*response, fn(scope, id));
          return absl::OkStatus();
        });
  }

  CustomerStore& store_;
  OrderStore& orders_;
  BehaviorStore& behavior_;
  IdentityStore& identities_;
  server::Executor& executor_;
  server::CallOptions call_options_;
};

}  // namespace crm::customer
