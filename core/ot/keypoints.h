#pragma once
// Keypoint-guided (semi-supervised) OT as in OTCS:runners/OT_solver.py (KPG-RL style, without the KPG
// package's max-normalisation and factor 2):
//   relation vectors  R_s(x) = softmax_k(-c(x, x_k) / tau),  R_t(y) = softmax_k(-c(y, y_k) / tau_t)
//   guiding           g(x, y) = JS(R_s(x), R_t(y)) = 1/2 KL(P||M) + 1/2 KL(Q||M), M = (P+Q)/2,
//                     natural log, 1e-10 added inside every log
//   effective cost    G = (1 - alpha) C + alpha g     (the released code's convention: alpha = 1 is pure
//                     guiding, the released default and the paper's setting; alpha = 0 ignores the keypoints
//                     in G, though the mask still applies)
//   mask              m(x, y) = 1 if neither is a keypoint, 1 if x = x_k and y = y_k (the same pair),
//                     0 if exactly one is a keypoint or both are keypoints of different pairs.
// Keypoints are index pairs into the finite source and target sets; every training batch starts with the
// K keypoint pairs (as released), and the finite-problem mask covers all samples.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/ot/cost.h"

namespace otcs::ot {

constexpr double kJsSmoothing = 1e-10;

// [n, K] relation vectors of rows x against keypoints kp [K, d] (no gradient).
torch::Tensor relation_vectors(const torch::Tensor& x, const torch::Tensor& keypoints, CostKind cost, double tau);

// [n, m] Jensen-Shannon divergences between the rows of P [n, K] and of Q [m, K] (natural log, 1e-10 smoothing).
torch::Tensor js_matrix(const torch::Tensor& P, const torch::Tensor& Q);

// Pair id of every sample: -1 for a sample that is no keypoint, else its pair's position in the keypoint list.
// mask = 1 where both ids are -1 or both are the same pair, else 0. Returns float [n, m] in `dtype`.
torch::Tensor keypoint_mask(const torch::Tensor& source_pair_id, const torch::Tensor& target_pair_id,
                            torch::ScalarType dtype = torch::kFloat32);

struct KeypointPairs {
  torch::Tensor source_index;  // int64 [K], into the source set
  torch::Tensor target_index;  // int64 [K], into the target set
  int64_t size() const { return source_index.defined() ? source_index.numel() : 0; }
};

// Reads "source_index,target_index" lines (0-based; blank lines ignored). Throws UserError naming the file and
// line for a ragged or non-integer line, an index outside [0, n) / [0, m), or an index used by two pairs.
KeypointPairs read_keypoints_csv(const std::string& path, int64_t n_source, int64_t n_target);
// The same checks for pairs from elsewhere (the GUI pair editor, a project file); `what` names the source.
void validate_keypoints(const KeypointPairs& kp, int64_t n_source, int64_t n_target, const std::string& what);

struct GuidanceOptions {
  CostKind cost = CostKind::L2;  // the cost used for C and for the relation vectors (as released)
  double tau = 0.1;              // source temperature (the animal task's 0.1)
  double tau_target = 0;         // <= 0: same as tau
  double alpha = 1.0;            // G = (1 - alpha) C + alpha g
  // How relation vectors are formed. softmax: R(x) = softmax_k(-c(x, x_k) / tau), as released. propagation: the
  // keypoints' one-hot labels spread over a symmetric cosine kNN graph of each set (Zhou et al. 2004,
  // F = a S F + (1 - a) Y with S = D^-1/2 W D^-1/2), then R = F / sum F: relations that follow the data manifold,
  // for raw pixels where one exemplar per class is far from most of its class in Euclidean terms.
  using Relation = ot::Relation;
  Relation relation = Relation::Softmax;
  int64_t neighbors = 10;
  double propagation_alpha = 0.99;
  int64_t propagation_iterations = 200;
};

// [n, K] propagation relation vectors (rows sum to 1) of a set x [n, d] whose keypoint k is row keypoint_rows[k].
torch::Tensor propagation_relations(const torch::Tensor& x, const torch::Tensor& keypoint_rows, int64_t neighbors,
                                    double alpha, int64_t iterations);

// The guidance for one pair of finite sets: relation vectors of every sample are computed once, so the guided
// cost of any (batch or tile) rows is one JS evaluation (plus a cost GEMM when alpha < 1).
class KeypointGuidance {
 public:
  KeypointGuidance(const torch::Tensor& source, const torch::Tensor& target, KeypointPairs pairs,
                   GuidanceOptions options);

  const KeypointPairs& pairs() const { return pairs_; }
  const GuidanceOptions& options() const { return options_; }
  int64_t size() const { return pairs_.size(); }
  const torch::Tensor& source_relations() const { return rs_; }         // [n, K] float64
  const torch::Tensor& target_relations() const { return rt_; }         // [m, K] float64
  const torch::Tensor& source_pair_id() const { return source_pair_; }  // int64 [n], -1 = not a keypoint
  const torch::Tensor& target_pair_id() const { return target_pair_; }  // int64 [m]

  // G for source rows si (int64) against target rows ti; C [|si|, |ti|] is the ground cost of those rows
  // (needed only when alpha < 1; may be undefined otherwise). Result in `dtype`.
  torch::Tensor guided_cost(const torch::Tensor& si, const torch::Tensor& ti, const torch::Tensor& C,
                            torch::ScalarType dtype = torch::kFloat32) const;
  // The mask for those rows.
  torch::Tensor mask(const torch::Tensor& si, const torch::Tensor& ti, torch::ScalarType dtype = torch::kFloat32) const;

 private:
  KeypointPairs pairs_;
  GuidanceOptions options_;
  torch::Tensor rs_, rt_, source_pair_, target_pair_;
};

}  // namespace otcs::ot
