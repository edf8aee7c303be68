#pragma once
// The exact optimum of the finite L2-regularised problem (the oracle for tests and `otcs ot --solver exact`):
//   max_{u,v}  sum_i p_i u_i + sum_j q_j v_j - sum_ij p_i q_j M_ij relu(u_i + v_j - G_ij)^2 / (4 eps)
// with uniform p = 1/n, q = 1/m, which is the released batch objective on the full n x m pair matrix. Its primal
// is min_pi <G, pi> + eps sum_ij pi_ij^2 / (p_i q_j) over couplings supported on M, and
// pi_ij = p_i q_j M_ij relu(u_i + v_j - G_ij) / (2 eps).
// Solved in float64 by semismooth Newton: the generalised Hessian is applied matrix-free inside conjugate
// gradients, steps are globalised by an Armijo backtracking line search on the concave dual, and the gauge
// (u + c, v - c) is fixed at the end by equalising the means of u and v.
#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace otcs::ot {

struct ExactOptions {
  double tolerance = 1e-12;  // stop when the relative marginal residual max(n |row err|, m |col err|) is below
  int max_newton = 500;
  int max_cg = 1000;
  double cg_relative_tolerance = 1e-3;  // tightened automatically near convergence
  // Called at the start (iteration 0) and after every Newton iteration, counted over the whole continuation in
  // epsilon: the dual objective at the stage's epsilon and the relative marginal residual (the solver's own
  // convergence measure). The objective jumps where epsilon steps down.
  std::function<void(int iteration, double epsilon, double dual, double residual)> on_iteration;
};

struct ExactResult {
  torch::Tensor u, v;              // float64 [n], [m]
  torch::Tensor plan;              // float64 [n, m]
  double dual_objective = 0;       // D(u, v) as above
  double primal_objective = 0;     // <G, pi> + eps sum pi^2 / (p q)
  double transport_cost = 0;       // <C, pi> (C = G when no separate cost is given)
  double marginal_error_rows = 0;  // max_i |sum_j pi_ij - 1/n|   (absolute)
  double marginal_error_cols = 0;  // max_j |sum_i pi_ij - 1/m|
  // KKT residual: max of the relative marginal residuals (n * row error, m * col error) and the relative
  // duality gap |P - D| / max(1, |D|). Complementarity and pi >= 0 hold by construction of pi.
  double kkt = 0;
  int newton_iterations = 0;
  int cg_iterations = 0;
  bool converged = false;
};

// G [n, m] (cost or guided cost), mask [n, m] or undefined, C [n, m] or undefined (= G) for transport_cost.
// Throws std::invalid_argument for shape mismatches or eps <= 0; a mask with an empty row or column makes the
// problem infeasible and is a UserError.
ExactResult solve_exact(const torch::Tensor& G, double epsilon, const torch::Tensor& mask = {},
                        const torch::Tensor& C = {}, const ExactOptions& options = {});

}  // namespace otcs::ot
