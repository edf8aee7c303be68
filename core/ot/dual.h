#pragma once
// The L2-regularised OT dual exactly as OTCS:runners/OT_solver.py computes it (means over the B x B pairs):
//   D(u, v) = mean_i u_i + mean_j v_j - mean_ij( M_ij * relu(u_i + v_j - G_ij)^2 ) / (4 eps)
// and the compatibility H_ij = relu(u_i + v_j - G_ij) / (2 eps), so that the plan is pi = M * H * p * q.
// G is the cost C (unsupervised) or the guided cost (keypoint-guided); M is 1 (unsupervised) or the keypoint
// mask. Note the two different factors: 1/(4 eps) in the objective, 1/(2 eps) in H.
#include <torch/types.h>

namespace otcs::ot {

// u [B], v [B'], G [B, B'], mask [B, B'] or undefined (all ones). Differentiable; returns a 0-d tensor.
torch::Tensor dual_objective(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& G, double epsilon,
                             const torch::Tensor& mask = {});

// H = relu(u + v - G) / (2 eps), [B, B']. The mask is not applied (as released); multiply by it for the plan.
torch::Tensor compatibility(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& G, double epsilon);

// Primal diagnostics of a (batch) plan pi^ = M * H / (B B'): with uniform marginals mean_j M_ij H_ij should be 1.
struct PlanDiagnostics {
  double transport_cost = 0;       // E_pi[c] = sum(pi * C) / sum(pi) (normalised, so marginal errors don't bias it)
  double marginal_error_rows = 0;  // mean_i | mean_j M_ij H_ij - 1 |
  double marginal_error_cols = 0;  // mean_j | mean_i M_ij H_ij - 1 |
  double nonzero_fraction = 0;     // fraction of pairs with M_ij H_ij > 0
  double mass = 0;                 // mean_ij M_ij H_ij (1 at the optimum)
};
// C is the ground cost used for E_pi[c] (G may be the guided cost); mask may be undefined.
PlanDiagnostics plan_diagnostics(const torch::Tensor& H, const torch::Tensor& C, const torch::Tensor& mask = {});

}  // namespace otcs::ot
