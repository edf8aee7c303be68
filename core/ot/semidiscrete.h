#pragma once
// Semi-discrete optimal transport from a continuous source (uniform on [0,1]^d as DPM-OT released, or a
// standard Gaussian) to N target points with weights 1/N: the Brenier potential u_h(x) = max_i(<x, y_i> + h_i)
// and its heights h found by Monte-Carlo gradient steps on the convex energy (gradient = cell measure − 1/N).
// Faithful to DPM-OT's solver: cell measures estimated from fresh samples each iteration, streamed over target
// chunks; Adam without bias correction; h re-centred to mean zero after every step; when 50 steps pass
// without a new best gradient norm the sample count doubles and lr × 0.8 (at most 3 times); stop at
// ‖g‖ < threshold with no empty cell.
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
  int64_t samples_per_iter = 0;   // 0: 10·N as released
  int64_t source_batch = 10000;   // MC points per argmax pass
  int64_t target_chunk = 4096;    // targets per chunk of the streamed argmax
  int max_iter = 10000;
  double lr = 0.1;
  double grad_threshold = 8e-4;
  int patience = 50;              // steps without a new best before refining
  int max_doublings = 3;
  uint64_t seed = 0;
};

struct SemiDiscreteStep {
  int iteration;
  double grad_norm;
  int64_t empty_cells;
  int64_t samples;
  double lr;
};

struct SemiDiscreteResult {
  torch::Tensor h;            // float64 [N], the heights with the smallest measured gradient norm
  double grad_norm = 0;       // at those heights
  int64_t empty_cells = 0;    // at those heights
  int iterations = 0;
  bool converged = false;
  int doublings = 0;
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
