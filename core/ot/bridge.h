#pragma once
// The bridge between Stage I and Stage II: u over all sources, v over all targets, then the compatibility
// H_ij = relu(u_i + v_j - G_ij) / (2 eps) in source tiles, keeping entries above a threshold (0.1, as released)
// and optionally only the k largest per row. Memory is O(nnz + tile), never O(n m).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/ot/cost.h"
#include "core/ot/keypoints.h"
#include "core/ot/potentials.h"
#include "core/ot/sparse.h"

namespace otcs::ot {

struct BridgeOptions {
  CostKind cost = CostKind::L2;
  double epsilon = 1e-4;
  double threshold = 0.1;  // keep H_ij > threshold
  int64_t row_cap = 0;     // > 0: keep at most this many (the largest) entries per row
  EmptyRowPolicy empty_rows = EmptyRowPolicy::NextSource;
  int64_t tile_rows = 0;  // 0: about 64 MB per tile for the GEMM costs (l2, sqeuclidean, cosine), 16 MB else
  int64_t potential_chunk = 4096;
  torch::ScalarType dtype = torch::kFloat32;  // of the G tiles (float64 for exact comparisons)
  // Keypoint-guided: G from the guidance. The released bridge does not apply the mask (a keypoint source can
  // then be paired with non-partner targets); apply_mask = true zeroes those entries, matching the plan.
  const KeypointGuidance* guidance = nullptr;
  bool apply_mask = false;
};

struct BridgeResult {
  SparseMatrix H;                   // rows = sources, cols = targets
  torch::Tensor u, v;               // float32/64 [n], [m] potentials over all samples
  std::vector<int64_t> empty_rows;  // rows that kept no entry before the policy was applied
  torch::Tensor redirect;           // int64 [n]: the source row the sampler should use for row i (see policy)
  double seconds_potentials = 0, seconds_h = 0;
};

// Potentials given: u [n], v [m] over all sources/targets.
BridgeResult bridge_from_potentials(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& source,
                                    const torch::Tensor& target, const BridgeOptions& options);
// Evaluates the potentials first (in chunks, under NoGradGuard).
BridgeResult compute_bridge(Potential& u, Potential& v, const torch::Tensor& source, const torch::Tensor& target,
                            const BridgeOptions& options);

}  // namespace otcs::ot
