// The customer-base models behind lifetime value, fitted per tenant by
// maximum likelihood with GSL:
// - BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
//   Way"): while alive a customer buys at a Poisson rate (gamma-distributed
//   across customers, r and alpha) and after each purchase drops out with a
//   probability (beta-distributed, a and b). It gives P(alive) and the
//   expected purchases in a horizon.
// - Gamma-Gamma (Fader & Hardie 2013): the value of a customer's orders
//   varies around their own mean (p, q, gamma), which gives the expected
//   value of their next orders from what they spent so far.
// Time is in whatever unit the histories use (the service uses weeks).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::analytics {

// What BG/NBD knows of a customer.
struct PurchaseHistory {
  int64_t x = 0;   // repeat purchases: purchases after the first
  double t_x = 0;  // when the last one was, after the first
  double T = 0;    // how long ago the first one was (the customer's age)
};

struct BgNbdParams {
  double r = 0;
  double alpha = 0;
  double a = 0;
  double b = 0;
};

// What Gamma-Gamma knows of a repeat buyer.
struct SpendHistory {
  int64_t x = 0;          // repeat purchases, at least 1
  double mean_value = 0;  // their mean value, > 0
};

struct GammaGammaParams {
  double p = 0;
  double q = 0;
  double gamma = 0;
};

// A maximum-likelihood fit: the parameters, their standard errors (from the
// inverse of the numerical Hessian of the log-likelihood at the maximum; 0
// when it is not positive definite), the maximum log-likelihood, the
// minimiser's iterations and whether it converged.
template <typename Params>
struct ModelFit {
  Params params;
  Params standard_errors;
  double log_likelihood = 0;
  int iterations = 0;
  bool converged = false;
};

using BgNbdFit = ModelFit<BgNbdParams>;
using GammaGammaFit = ModelFit<GammaGammaParams>;

// Fewest customers, and fewest repeat buyers, a fit takes: fewer give
// FAILED_PRECONDITION saying so.
inline constexpr int kMinCustomers = 50;
inline constexpr int kMinRepeatBuyers = 20;

// INVALID_ARGUMENT for a history that cannot be (x < 0, t_x > T, ...);
// FAILED_PRECONDITION when there is too little to fit or the fit does not
// converge.
absl::StatusOr<BgNbdFit> FitBgNbd(const std::vector<PurchaseHistory>& customers);
double BgNbdLogLikelihood(const BgNbdParams& m, const PurchaseHistory& h);
// P(the customer is still alive).
double BgNbdProbabilityAlive(const BgNbdParams& m, const PurchaseHistory& h);
// The median wait until the next purchase of a customer who is still
// alive: given alive, the rate's posterior is Gamma(r + x, alpha + T) (a
// dropout only follows a purchase), so the wait is Lomax-distributed with
// P(W > w) = ((alpha + T) / (alpha + T + w))^(r + x), and its median is
// (alpha + T)(2^(1 / (r + x)) - 1). In the model's time unit.
double BgNbdMedianWaitAlive(const BgNbdParams& m, const PurchaseHistory& h);
// Expected purchases in the `horizon` after now (FHL 2005, eq. 10).
absl::StatusOr<double> BgNbdExpectedPurchases(const BgNbdParams& m, const PurchaseHistory& h,
                                              double horizon);
// Expected purchases of a customer in the `t` after their first purchase,
// knowing nothing else (FHL 2005, eq. 7): what a cohort's repeat purchases
// are compared with.
absl::StatusOr<double> BgNbdExpectedPurchasesNew(const BgNbdParams& m, double t);

// Only repeat buyers count (x >= 1).
absl::StatusOr<GammaGammaFit> FitGammaGamma(const std::vector<SpendHistory>& customers);
double GammaGammaLogLikelihood(const GammaGammaParams& m, const SpendHistory& h);
// The expected value of the customer's next orders (FH 2013, eq. 5); for a
// customer with no repeat purchase, the population mean (needs q > 1).
double GammaGammaExpectedValue(const GammaGammaParams& m, const SpendHistory& h);

// A customer's purchases as the models see them: by day, purchases on one
// day counted as one with their values added (as the papers do).
struct DailyPurchase {
  int64_t customer = 0;
  int64_t day = 0;  // days since any fixed origin
  double value = 0;
};

// Customers summarised at the end of a calibration period, and what they
// did in the holdout period after it; time in units of `days_per_unit`
// days.
struct CalibrationSummary {
  std::vector<int64_t> customers;          // ids, ascending
  std::vector<PurchaseHistory> histories;  // per customer, in calibration
  std::vector<double> mean_values;         // of their repeat purchases; 0 without
  std::vector<int64_t> holdout_purchases;  // per customer, in the holdout period
};

// Customers whose first purchase is on or before `calibration_end_day`;
// the holdout period is the days after it up to `holdout_end_day`.
CalibrationSummary Summarize(std::vector<DailyPurchase> purchases, int64_t calibration_end_day,
                             int64_t holdout_end_day, double days_per_unit);

// Predicted against actual repeat purchases in a holdout period of
// `horizon` units, in total and by the customers' calibration purchases
// (x = 0, 1, ... and the last bucket "x or more"), as the papers report.
struct HoldoutRow {
  int64_t x = 0;  // the bucket; the last one holds every larger x too
  int64_t customers = 0;
  double predicted = 0;  // mean per customer
  double actual = 0;     // mean per customer
};
struct HoldoutComparison {
  double predicted_total = 0;
  int64_t actual_total = 0;
  std::vector<HoldoutRow> by_frequency;
};
absl::StatusOr<HoldoutComparison> CompareHoldout(const BgNbdParams& m,
                                                 const CalibrationSummary& summary, double horizon,
                                                 int64_t max_bucket = 7);

}  // namespace crm::analytics
