#pragma once
// Semi-discrete optimal transport from a continuous source (uniform on [0,1]^d as DPM-OT released, or a
// standard Gaussian) to N target points with weights 1/N: the Brenier potential u_h(x) = max_i(<x, y_i> + h_i)
// and its heights h found by Monte-Carlo gradient steps on the convex energy (gradient g = cell measure − 1/N).
// As DPM-OT's solver: cell measures estimated from fresh samples each iteration, streamed over target chunks,
// h re-centred to mean zero after every step. The steps come from the targets' geometry, so no step size has
// to be tuned (options.lr = 0, the default):
//   - start: h_i = −<m, y_i> − |y_i − ȳ|² / (2 s), m the source mean: the Voronoi cells of the targets moved
//     onto the source (s = ∞: only the mean term), with the scale s that gives the most even cells on a pilot
//     sample. In 784-D images on the uniform cube the offsets <m, y_i> alone spread over hundreds while the
//     cells' boundaries are a few units apart; from h = 0 all but a handful of cells are empty;
//   - step: a damped Newton step. The Hessian is the graph Laplacian of the cells, w_ij = (source mass on the
//     facet between cells i and j) / |y_i − y_j|, and it is read off the same samples: a point's best two cells
//     are (i, j) with a score gap below δ with probability 2 δ w_ij. Heights move by half of −L⁻¹ g (conjugate
//     gradients), g shrunk by its share of signal over sampling noise, each height by at most the median gap;
//     an empty cell is raised to where it just wins at one of the samples;
//   - noise: once the gradient is no larger than its Monte-Carlo noise the sample count grows (at least
//     doubles), so the iterates' noise keeps shrinking (the released solver doubles at most three times);
//   - stop: ‖g‖ with the sampling noise's expected share removed, plus two standard deviations of that
//     estimate, below the threshold, and no empty cell. The released test (‖ĝ‖ < 8e-4 as measured) cannot
//     pass while the noise of n samples alone, about 1/√n, exceeds the threshold: 10·N samples for N = 300
//     give 0.018.
// options.lr > 0 instead runs the released update from the same start: Adam without bias correction (heights
// move about lr per step), and when `patience` steps pass without a new best gradient norm the sample count
// doubles and lr × 0.8 (at most max_doublings times); the stopping test is the one above.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

namespace otcs::ot {

enum class SourceKind { Uniform, Gaussian };
SourceKind parse_source_kind(const std::string& name);  // "uniform" | "gaussian"; UserError otherwise
torch::Tensor sample_source(SourceKind kind, int64_t n, int64_t d, at::Generator& gen);

struct SemiDiscreteOptions {
  SourceKind source = SourceKind::Uniform;
  int64_t samples_per_iter = 0;  // at the start; 0: 10·N as released
  int64_t source_batch = 10000;  // MC points per argmax pass
  int64_t target_chunk = 4096;   // targets per chunk of the streamed argmax
  int max_iter = 10000;
  double lr = 0;  // 0: the geometry's Newton step; > 0: the released Adam step
  double grad_threshold = 8e-4;
  int patience = 50;      // Adam: steps without a new best before refining
  int max_doublings = 3;  // Adam: refinements at most
  uint64_t seed = 0;
};

struct SemiDiscreteStep {
  int iteration;
  double grad_norm;      // ‖g‖ as measured from this iteration's samples
  double grad_estimate;  // the same with the sampling noise's share removed
  int64_t empty_cells;
  int64_t samples;
  double step;  // root-mean-square height change of this iteration
};

// "sdot iter I: |g| ... (noise removed ...), empty cells E, samples S, step ..." for progress logs.
std::string describe(const SemiDiscreteStep& step);

struct SemiDiscreteResult {
  torch::Tensor h;           // float64 [N], the heights returned (see converged)
  double grad_norm = 0;      // ‖g‖ measured at those heights
  double grad_estimate = 0;  // ‖g‖ with the sampling noise's share removed
  double noise = 0;          // the sampling noise's expected share of ‖g‖, about 1/√samples
  int64_t samples = 0;       // Monte-Carlo samples of that measurement
  int64_t empty_cells = 0;   // at those heights
  int iterations = 0;
  bool converged = false;  // the stopping test passed at h; otherwise h had the smallest bound on ‖g‖
  int doublings = 0;       // times the sample count grew
  double seconds = 0;
};

// Index of the cell containing each x: argmax_i(<x, y_i> + h_i), streamed over target chunks.
torch::Tensor assign_cells(const torch::Tensor& x, const torch::Tensor& targets, const torch::Tensor& h,
                           int64_t target_chunk = 4096);

// Monte-Carlo cell measures from n fresh source samples: float64 [N] summing to 1.
torch::Tensor cell_measures(const torch::Tensor& targets, const torch::Tensor& h, SourceKind source, int64_t n,
                            at::Generator& gen, int64_t source_batch = 10000, int64_t target_chunk = 4096);

SemiDiscreteResult solve_semidiscrete(const torch::Tensor& targets, const SemiDiscreteOptions& options,
                                      const std::function<void(const SemiDiscreteStep&)>& on_step = {},
                                      const std::atomic<bool>* cancel = nullptr);

}  // namespace otcs::ot
