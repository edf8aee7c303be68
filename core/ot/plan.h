#pragma once
// The full plan pi_ij = M_ij relu(u_i + v_j - G_ij) / (2 eps n m) of given potentials over two finite sets,
// evaluated in float64 source tiles: the full-data dual objective, E_pi[c], marginal errors, and (optionally,
// for small problems) the dense plan itself.
#include <cstdint>

#include <torch/types.h>

#include "core/ot/cost.h"
#include "core/ot/keypoints.h"

namespace otcs::ot {

struct PlanEvaluation {
  torch::Tensor plan;                 // float64 [n, m] when requested, else undefined
  double dual_objective = 0;          // mean u + mean v - sum_ij M relu(V)^2 / (4 eps n m)
  double transport_cost = 0;          // sum_ij pi_ij C_ij (C = ground cost, also when guided)
  double mass = 0;                    // sum_ij pi_ij (1 at the optimum)
  double marginal_error_rows = 0;     // max_i |sum_j pi_ij - 1/n|
  double marginal_error_cols = 0;     // max_j |sum_i pi_ij - 1/m|
  double marginal_error_rows_l1 = 0;  // sum_i |sum_j pi_ij - 1/n|
  double marginal_error_cols_l1 = 0;
  double nonzero_fraction = 0;  // fraction of pairs with pi_ij > 0
};

// u [n], v [m]; guidance (with its mask) or nullptr. keep_plan: also return the dense plan.
PlanEvaluation evaluate_plan(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& source,
                             const torch::Tensor& target, CostKind cost, double epsilon,
                             const KeypointGuidance* guidance, bool keep_plan, int64_t tile_rows = 0);

}  // namespace otcs::ot
