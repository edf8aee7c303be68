#pragma once
// Ground costs between two point sets, computed batched and in row tiles.
//
// The released OTCS code divides every cost by the dimension d ("mean" costs), and its ε values (1e-7 for
// CelebA pixels, 1e-5 for CLIP features) were tuned on that scale; `sqeuclidean` is the plain sum for problems
// that want it. All functions take rows = samples: x [n, d], y [m, d] and return [n, m].
#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

#include "core/ot/kinds.h"

namespace otcs::ot {

// The full cost matrix [n, m]. Computed in float64 when either input is float64, else float32.
// Inputs must be 2-D with the same number of columns (std::invalid_argument otherwise).
torch::Tensor cost_matrix(const torch::Tensor& x, const torch::Tensor& y, CostKind kind);

// Costs of many row tiles against one fixed target set: the target-side work (squared norms, normalisation,
// a contiguous transposed copy for the GEMM) is done once, so tiles cost one GEMM plus an elementwise pass.
class CostTiler {
 public:
  CostTiler(torch::Tensor target, CostKind kind, torch::ScalarType dtype = torch::kFloat32);
  // [rows of x, m] costs of the given source rows against every target.
  torch::Tensor operator()(const torch::Tensor& x) const;
  // Same, written into `out` (resized as needed) to avoid allocating per tile.
  void compute_into(const torch::Tensor& x, torch::Tensor& out) const;
  int64_t targets() const { return target_.size(0); }
  CostKind kind() const { return kind_; }

 private:
  CostKind kind_;
  torch::ScalarType dtype_;
  torch::Tensor target_;     // [m, d] in dtype_ (normalised rows for cosine)
  torch::Tensor target_t_;   // [d, m] contiguous, for the GEMM
  torch::Tensor target_sq_;  // [m] squared norms (l2/sqeuclidean)
};

// Calls fn(first_row, block) for consecutive source tiles of at most tile_rows rows; block is [rows, m].
void for_each_cost_tile(const torch::Tensor& x, const torch::Tensor& y, CostKind kind, int64_t tile_rows,
                        const std::function<void(int64_t, const torch::Tensor&)>& fn);

}  // namespace otcs::ot
