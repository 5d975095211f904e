#include "services/analytics/minimize.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace crm::analytics::internal {
namespace {

constexpr double kBad = 1e300;  // what the minimiser sees outside the domain
constexpr double kWall = 15;    // |transformed parameter| at most this
// MinimizeSmooth stops when kStallSpan iterations lowered the value by at
// most kStallTolerance of it.
constexpr size_t kStallSpan = 5;
constexpr double kStallTolerance = 1e-11;

struct Problem {
  const Objective* objective;
  Domain domain;
};

double ToParam(double u, Domain domain) {
  return domain == Domain::kPositive ? std::exp(u) : 1.0 / (1.0 + std::exp(-u));
}

double FromParam(double p, Domain domain) {
  return domain == Domain::kPositive ? std::log(p) : std::log(p / (1.0 - p));
}

double Call(const gsl_vector* v, void* data) {
  const auto* problem = static_cast<const Problem*>(data);
  std::vector<double> params(v->size);
  for (size_t i = 0; i < v->size; ++i) {
    const double u = gsl_vector_get(v, i);
    // A box: e^-15..e^15 (3e-7 to 3e6) for positive parameters, a logit
    // of +-15 for the unit interval. A likelihood that keeps rising toward
    // an edge (BG/NBD's a -> 0: nobody drops out) stops at the wall instead
    // of walking on forever.
    if (std::abs(u) > kWall) return kBad;
    params[i] = ToParam(u, problem->domain);
  }
  const double value = (*problem->objective)(params);
  return std::isfinite(value) ? value : kBad;
}

struct SmoothProblem {
  const SmoothObjective* objective;
  Domain domain;
};

// The transformed point's parameters, or false outside the walls.
bool ParamsOf(const gsl_vector* v, Domain domain, std::vector<double>* params) {
  params->resize(v->size);
  for (size_t i = 0; i < v->size; ++i) {
    const double u = gsl_vector_get(v, i);
    if (!(std::abs(u) <= kWall)) return false;
    (*params)[i] = ToParam(u, domain);
  }
  return true;
}

// d param / d transformed value.
double Slope(double param, Domain domain) {
  return domain == Domain::kPositive ? param : param * (1.0 - param);
}

void SmoothCall(const gsl_vector* v, void* data, double* f, gsl_vector* df) {
  const auto* problem = static_cast<const SmoothProblem*>(data);
  std::vector<double> params, gradient(v->size, 0.0);
  double value = kBad;
  if (ParamsOf(v, problem->domain, &params)) {
    value = (*problem->objective)(params, df != nullptr ? &gradient : nullptr);
  }
  const bool finite = std::isfinite(value) && value < kBad;
  if (f != nullptr) *f = finite ? value : kBad;
  if (df == nullptr) return;
  for (size_t i = 0; i < v->size; ++i) {
    const double g = finite ? gradient[i] * Slope(params[i], problem->domain) : 0.0;
    // Outside the domain: a slope back toward the middle.
    gsl_vector_set(df, i, std::isfinite(g) ? g : 0.0);
    if (!finite) gsl_vector_set(df, i, gsl_vector_get(v, i) > 0 ? 1.0 : -1.0);
  }
}

double SmoothValue(const gsl_vector* v, void* data) {
  double f = kBad;
  SmoothCall(v, data, &f, nullptr);
  return f;
}

void SmoothGradient(const gsl_vector* v, void* data, gsl_vector* df) {
  double f = kBad;
  SmoothCall(v, data, &f, df);
}

}  // namespace

void InitGsl() {
  static std::once_flag once;
  // GSL's default handler aborts the process.
  std::call_once(once, [] { gsl_set_error_handler_off(); });
}

Minimum Minimize(const Objective& objective, const std::vector<double>& start, Domain domain,
                 double tolerance) {
  InitGsl();
  const size_t n = start.size();
  Problem problem{&objective, domain};
  gsl_multimin_function function;
  function.n = n;
  function.f = &Call;
  function.params = &problem;
  gsl_vector* x = gsl_vector_alloc(n);
  gsl_vector* step = gsl_vector_alloc(n);
  for (size_t i = 0; i < n; ++i) gsl_vector_set(x, i, FromParam(start[i], domain));
  gsl_multimin_fminimizer* s = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, n);
  Minimum best;
  best.value = kBad;
  double step_size = 0.5;
  for (int round = 0; round < 6; ++round) {
    gsl_vector_set_all(step, step_size);
    gsl_multimin_fminimizer_set(s, &function, x, step);
    int status = GSL_CONTINUE;
    int iterations = 0;
    while (status == GSL_CONTINUE && iterations < 20000) {
      ++iterations;
      if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS) break;
      status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), tolerance);
    }
    best.iterations += iterations;
    const double value = gsl_multimin_fminimizer_minimum(s);
    gsl_vector_memcpy(x, gsl_multimin_fminimizer_x(s));
    // Converged: the simplex shrank to nothing, or a restart ended where the
    // last round did (a maximum on a flat ridge, where one parameter may
    // still drift without changing the likelihood).
    const bool settled =
        value < kBad && std::abs(best.value - value) <= 1e-9 * std::max(1.0, std::abs(value));
    best.value = std::min(best.value, value);
    best.converged = value < kBad && (status == GSL_SUCCESS || settled);
    if (settled) break;
    step_size = 0.1;
  }
  best.params.resize(n);
  for (size_t i = 0; i < n; ++i) best.params[i] = ToParam(gsl_vector_get(x, i), domain);
  gsl_multimin_fminimizer_free(s);
  gsl_vector_free(step);
  gsl_vector_free(x);
  return best;
}

Minimum MinimizeSmooth(const SmoothObjective& objective, const std::vector<double>& start,
                       Domain domain, double tolerance) {
  InitGsl();
  const size_t n = start.size();
  SmoothProblem problem{&objective, domain};
  gsl_multimin_function_fdf function;
  function.n = n;
  function.f = &SmoothValue;
  function.df = &SmoothGradient;
  function.fdf = &SmoothCall;
  function.params = &problem;
  gsl_vector* x = gsl_vector_alloc(n);
  for (size_t i = 0; i < n; ++i) gsl_vector_set(x, i, FromParam(start[i], domain));
  gsl_multimin_fdfminimizer* s =
      gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n);
  // A first step of 0.1 in the transformed space; line searches to 0.1, as
  // GSL advises for bfgs2.
  gsl_multimin_fdfminimizer_set(s, &function, x, 0.1, 0.1);
  Minimum found;
  bool converged = false;
  std::vector<double> values;  // after each iteration
  while (found.iterations < 2000) {
    ++found.iterations;
    if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS) break;  // no progress
    const double value = gsl_multimin_fdfminimizer_minimum(s);
    const double scale = std::max(1.0, std::abs(value));
    if (gsl_blas_dnrm2(gsl_multimin_fdfminimizer_gradient(s)) <= tolerance * scale) {
      converged = value < kBad;
      break;
    }
    // Or the value has stopped falling: on a flat ridge (BG/NBD's a and b
    // growing apart together when hardly anyone drops out) each step gains
    // less and less, and hundreds more would move the likelihood by less
    // than this.
    values.push_back(value);
    if (values.size() > kStallSpan && value < kBad &&
        values[values.size() - 1 - kStallSpan] - value <= kStallTolerance * scale) {
      converged = true;
      break;
    }
  }
  const double value = gsl_multimin_fdfminimizer_minimum(s);
  // Where it stopped: converged by the gradient test, or also when it
  // could make no more progress with a gradient that small.
  if (!converged && value < kBad &&
      gsl_blas_dnrm2(gsl_multimin_fdfminimizer_gradient(s)) <=
          1e3 * tolerance * std::max(1.0, std::abs(value))) {
    converged = true;
  }
  std::vector<double> params(n);
  for (size_t i = 0; i < n; ++i) {
    params[i] = ToParam(gsl_vector_get(gsl_multimin_fdfminimizer_x(s), i), domain);
  }
  gsl_multimin_fdfminimizer_free(s);
  gsl_vector_free(x);
  if (converged) {
    found.params = std::move(params);
    found.value = value;
    found.converged = true;
    return found;
  }
  const Objective plain = [&objective](const std::vector<double>& p) {
    return objective(p, nullptr);
  };
  Minimum simplex = Minimize(plain, value < kBad ? params : start, domain);
  simplex.iterations += found.iterations;
  return simplex;
}

std::vector<double> StandardErrors(const Objective& objective, const std::vector<double>& at) {
  InitGsl();
  const size_t n = at.size();
  std::vector<double> h(n);
  for (size_t i = 0; i < n; ++i) h[i] = 1e-4 * std::max(std::abs(at[i]), 1e-3);
  const auto f = [&](size_t i, double di, size_t j, double dj) {
    std::vector<double> p = at;
    p[i] += di;
    p[j] += dj;
    return objective(p);
  };
  const double f0 = objective(at);
  gsl_matrix* hessian = gsl_matrix_alloc(n, n);
  for (size_t i = 0; i < n; ++i) {
    const double d2 = (f(i, h[i], i, 0) - 2 * f0 + f(i, -h[i], i, 0)) / (h[i] * h[i]);
    gsl_matrix_set(hessian, i, i, d2);
    for (size_t j = i + 1; j < n; ++j) {
      const double dij = (f(i, h[i], j, h[j]) - f(i, h[i], j, -h[j]) - f(i, -h[i], j, h[j]) +
                          f(i, -h[i], j, -h[j])) /
                         (4 * h[i] * h[j]);
      gsl_matrix_set(hessian, i, j, dij);
      gsl_matrix_set(hessian, j, i, dij);
    }
  }
  std::vector<double> errors(n, 0.0);
  if (gsl_linalg_cholesky_decomp1(hessian) == GSL_SUCCESS &&
      gsl_linalg_cholesky_invert(hessian) == GSL_SUCCESS) {
    for (size_t i = 0; i < n; ++i) {
      const double v = gsl_matrix_get(hessian, i, i);
      errors[i] = v > 0 ? std::sqrt(v) : 0.0;
    }
  }
  gsl_matrix_free(hessian);
  return errors;
}

}  // namespace crm::analytics::internal
