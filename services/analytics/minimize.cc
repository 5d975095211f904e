#include "services/analytics/minimize.h"

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
