#pragma once
// The finite L2-regularised OT dual on a dense cost matrix too large for the Newton solver (core/ot/exact.h limits
// n·m to 1.6e7) but small enough to hold once in float32 (10^4 x 10^4 = 400 MB): exact block-coordinate ascent.
// With v fixed, each u_i solving  sum_j relu(u_i + v_j - G_ij) = 2 eps m  (row i of the plan has mass 1/n) is
// the maximiser of the dual in u_i; the same for v_j with u fixed. Each 1-D equation is convex, increasing and
// piecewise linear, so Newton's method started right of the root converges monotonically in a few steps; all
// rows (columns) are solved at once. Masked entries (keypoint rules) are +inf in G.
#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace otcs::ot {

struct DenseDualOptions {
  double epsilon = 1e-3;
  int64_t max_sweeps = 100;   // one sweep = all rows, then all columns
  double tolerance = 1e-4;    // stop when every row's mass is within this relative error (columns are exact)
  int64_t newton_steps = 30;  // per half-sweep at most
  // Before the sweeps: full-gradient Adam on (u, v) (dD/du_i = (1 - row mass_i) / n), which moves the many nearly
  // tied potentials of a guided cost together where coordinate ascent crawls. lr decays by a cosine to 1%.
  int64_t adam_steps = 0;
  double adam_lr = 1e-2;
};

struct DenseDualResult {
  torch::Tensor u, v;  // float64 [n], [m]
  double dual_objective = 0;
  double marginal_error_rows = 0;  // max_i |n sum_j pi_ij - 1| (relative)
  double marginal_error_cols = 0;
  double transport_cost = 0;  // <G, pi> over the finite entries
  int64_t sweeps = 0;
  bool converged = false;
  double seconds = 0;
};

// One point of the solver's progress curve. `step` counts Adam steps 1..adam_steps, then sweeps continue from
// adam_steps + 1, so the whole solve is one increasing axis.
struct DenseDualProgress {
  enum class Phase { Adam, Sweep } phase = Phase::Sweep;
  int64_t step = 0;
  double dual_objective = 0;       // at the iterate the step started from (Adam) or ended at (sweep)
  double marginal_error_rows = 0;  // relative, as in DenseDualResult
  double marginal_error_cols = 0;
  bool has_plan_diagnostics = false;  // transport_cost below is set (every sweep, every 10th Adam step)
  double transport_cost = 0;
};

// G: float32 [n, m] (+inf where the mask forbids a pair). progress after every Adam step and every sweep;
// returning false stops early (the result so far is returned, converged = false).
DenseDualResult solve_dense_dual(const torch::Tensor& G, const DenseDualOptions& options,
                                 const std::function<bool(const DenseDualProgress&)>& progress = {});

}  // namespace otcs::ot
