#include "services/analytics/value_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/api/timestamp.h"
#include "common/api/validation.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "services/analytics/value_reports.h"

namespace crm::analytics {

ValueServiceImpl::ValueServiceImpl(FactStore& facts, ScoreStore& scores, server::Executor& executor,
                                   server::CallOptions call_options)
    : facts_(facts), scores_(scores), executor_(executor), call_options_(call_options) {}

grpc::ServerUnaryReactor* ValueServiceImpl::GetRfmSummary(grpc::CallbackServerContext* ctx,
                                                          const v1::GetRfmSummaryRequest* request,
                                                          v1::RfmSummary* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (request->has_as_of_time() &&
        (request->as_of_time().seconds() < 0 || request->as_of_time().seconds() > 253402300799 ||
         request->as_of_time().nanos() < 0 || request->as_of_time().nanos() > 999999999)) {
      return absl::InvalidArgumentError("as_of_time: a time from 1970 to 9999");
    }
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    CRM_ASSIGN_OR_RETURN(std::vector<CustomerOrders> customers,
                         facts_.CustomersIn(scope, currency));
    const absl::Time as_of =
        RfmAsOf(customers, request->has_as_of_time() ? &request->as_of_time() : nullptr);
    *response = SummarizeRfm(customers, ScoreCustomers(customers, as_of));
    response->set_currency_code(currency);
    if (!customers.empty()) *response->mutable_as_of_time() = api::ToTimestamp(as_of);
    CRM_ASSIGN_OR_RETURN(*response->mutable_freshness(), facts_.Freshness(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ValueServiceImpl::FitValueModel(grpc::CallbackServerContext* ctx,
                                                          const v1::FitValueModelRequest* request,
                                                          v1::ValueModel* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    const double holdout = request->holdout_weeks() == 0 ? 13 : request->holdout_weeks();
    if (!(holdout >= 1 && holdout <= 104)) {
      return absl::InvalidArgumentError("holdout_weeks: 1 to 104");
    }
    const absl::Time started = absl::Now();
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    // The scorer waits: the new model changes every churn risk.
    const auto fitting = scores_.Fitting(scope.tenant, currency);
    // Every customer's summary; for the holdout check, which needs the
    // orders, every customer's orders or a sample's (HoldoutSample).
    CRM_ASSIGN_OR_RETURN(std::vector<CustomerOrders> customers,
                         facts_.CustomersIn(scope, currency));
    std::vector<OrderPoint> orders;
    if (customers.size() <= kHoldoutSample) {
      CRM_ASSIGN_OR_RETURN(orders, facts_.OrdersIn(scope, currency));
    } else {
      CRM_ASSIGN_OR_RETURN(orders, facts_.OrdersOf(scope, currency, HoldoutSample(customers)));
    }
    const absl::Time read = absl::Now();
    CRM_ASSIGN_OR_RETURN(*response, analytics::FitValueModel(customers, orders, holdout));
    log::Info("value model fitted",
              {{"tenant", scope.tenant},
               {"currency", currency},
               {"customers", absl::StrCat(customers.size())},
               {"holdout_orders", absl::StrCat(orders.size())},
               {"iterations", absl::StrCat(response->iterations())},
               {"read_ms", absl::StrCat(absl::ToInt64Milliseconds(read - started))},
               {"fit_ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - read))}});
    response->set_name("valueModels/" + currency);
    response->set_currency_code(currency);
    *response->mutable_fit_time() = api::ToTimestamp(absl::Now());
    return facts_.SaveModel(scope, *response);
  });
}

grpc::ServerUnaryReactor* ValueServiceImpl::GetValueModel(grpc::CallbackServerContext* ctx,
                                                          const v1::GetValueModelRequest* request,
                                                          v1::ValueModel* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    absl::string_view code = request->name();
    if (!absl::ConsumePrefix(&code, "valueModels/") || code.empty()) {
      return absl::InvalidArgumentError("name: must be valueModels/{currency_code}");
    }
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, std::string(code)));
    CRM_ASSIGN_OR_RETURN(std::optional<v1::ValueModel> model, facts_.Model(scope, currency));
    if (!model) {
      return absl::NotFoundError(
          absl::StrCat("valueModels/", currency, " not found: fit it first (FitValueModel)"));
    }
    *response = *std::move(model);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ValueServiceImpl::GetCustomerValue(
    grpc::CallbackServerContext* ctx, const v1::GetCustomerValueRequest* request,
    v1::CustomerValue* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    std::string id;
    CRM_RETURN_IF_ERROR(api::ParseResourceName("customer", request->customer(), "customers", &id));
    const double horizon = request->horizon_weeks() == 0 ? 52 : request->horizon_weeks();
    if (!(horizon >= 1 && horizon <= 520)) {
      return absl::InvalidArgumentError("horizon_weeks: 1 to 520");
    }
    const double rate =
        request->annual_discount_rate() == 0 ? 0.1 : request->annual_discount_rate();
    if (!(rate > 0 && rate <= 1)) {
      return absl::InvalidArgumentError("annual_discount_rate: 0 to 1");
    }
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    CRM_ASSIGN_OR_RETURN(std::optional<CustomerOrders> customer,
                         facts_.CustomerIn(scope, currency, request->customer()));
    if (!customer) {
      return absl::NotFoundError(
          absl::StrCat("customer: ", request->customer(), " has no orders in ", currency));
    }
    response->set_customer(request->customer());
    response->set_currency_code(currency);
    // Against the last scoring run's quintile cuts: this customer's orders
    // as they are now, without scoring everyone; before the first run,
    // everyone is scored.
    CRM_ASSIGN_OR_RETURN(std::optional<RfmCuts> cuts, scores_.Cuts(scope, currency));
    if (cuts) {
      CRM_ASSIGN_OR_RETURN(absl::Time as_of, facts_.LastOrder(scope, currency));
      *response->mutable_rfm() = ScoreAgainstCuts(*customer, as_of, *cuts);
    } else {
      CRM_ASSIGN_OR_RETURN(std::vector<CustomerOrders> customers,
                           facts_.CustomersIn(scope, currency));
      const std::vector<v1::RfmScores> scores =
          ScoreCustomers(customers, RfmAsOf(customers, nullptr));
      for (size_t i = 0; i < customers.size(); ++i) {
        if (customers[i].customer == request->customer()) *response->mutable_rfm() = scores[i];
      }
    }
    CRM_ASSIGN_OR_RETURN(std::optional<v1::ValueModel> model, facts_.Model(scope, currency));
    if (model) {
      CRM_ASSIGN_OR_RETURN(*response->mutable_predicted(),
                           PredictValue(*model, *customer, horizon, rate));
    }
    CRM_ASSIGN_OR_RETURN(*response->mutable_freshness(), facts_.Freshness(scope));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ValueServiceImpl::ListCustomerScores(
    grpc::CallbackServerContext* ctx, const v1::ListCustomerScoresRequest* request,
    v1::ListCustomerScoresResponse* response) {
  return server::RunUnary(ctx, executor_, call_options_, [=](const server::CallScope& scope) {
    if (!v1::RfmSegment_IsValid(request->segment())) {
      return absl::InvalidArgumentError("segment: not an RfmSegment");
    }
    if (!v1::ChurnBand_IsValid(request->churn_band())) {
      return absl::InvalidArgumentError("churn_band: LOW, MEDIUM or HIGH");
    }
    CRM_ASSIGN_OR_RETURN(std::string currency, facts_.Currency(scope, request->currency_code()));
    CRM_ASSIGN_OR_RETURN(*response, scores_.List(scope, currency, *request));
    return absl::OkStatus();
  });
}

}  // namespace crm::analytics
