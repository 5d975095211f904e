// The analytics models' one way to fit parameters: GSL's Nelder-Mead
// simplex (nmsimplex2) over transformed parameters, so that the minimiser
// never leaves their domain, restarted from its own answer until a restart
// no longer improves it, or GSL's BFGS where the gradient is known; and
// standard errors from the numerical Hessian.
#pragma once

#include <functional>
#include <vector>

namespace crm::analytics::internal {

// GSL reports errors as statuses, never by aborting (call before any GSL).
void InitGsl();

// Where the parameters live: (0, inf) through exp, (0, 1) through the
// logistic function; in both, the transformed value stays within +-15 (a
// positive parameter between 3e-7 and 3e6), so that a maximum at the edge
// of the space is found at the wall rather than chased forever.
enum class Domain { kPositive, kUnitInterval };

// A function of the parameters themselves (not their transforms) to
// minimise; non-finite values count as very large.
using Objective = std::function<double(const std::vector<double>& params)>;

struct Minimum {
  std::vector<double> params;
  double value = 0;
  int iterations = 0;
  bool converged = false;
};

Minimum Minimize(const Objective& objective, const std::vector<double>& start, Domain domain,
                 double tolerance = 1e-10);

// The objective and, when `gradient` is not null, its gradient with respect
// to the parameters themselves.
using SmoothObjective =
    std::function<double(const std::vector<double>& params, std::vector<double>* gradient)>;

// For objectives with an analytic gradient: GSL's quasi-Newton BFGS
// (vector_bfgs2) over the same transformed parameters, stopping when the
// gradient's norm is at most `tolerance` times |value| (a likelihood over a
// million customers sums a million terms), which takes tens of iterations
// where the simplex takes hundreds, or when five iterations lowered the
// value by at most 1e-11 of it (a flat ridge, where the gradient test would
// take hundreds more iterations for a likelihood that no longer moves).
// Should BFGS stop without meeting either test (a wall), the simplex
// (Minimize) carries on from where it stopped.
Minimum MinimizeSmooth(const SmoothObjective& objective, const std::vector<double>& start,
                       Domain domain, double tolerance = 1e-9);

// Standard errors of the minimum `at` of `objective`, a negative
// log-likelihood: the square roots of the diagonal of the inverse of its
// numerical Hessian; zeros when that is not positive definite.
std::vector<double> StandardErrors(const Objective& objective, const std::vector<double>& at);

}  // namespace crm::analytics::internal
