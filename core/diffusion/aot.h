#pragma once
// AOT (Kim et al. 2024, EDM-AOT:training/training_loop.py, loss.py): noise-image pairs for EDM training chosen
// by an exact assignment inside a chunk.
//   1. Draw a chunk of `chunk` images (without replacement, epoch by epoch), decoupled from the training batch.
//   2. Draw exactly one fresh N(0, I) noise per image (same shape).
//   3. Cost D_ij = ‖x_i − n_j‖₂ (Euclidean, NOT squared, as released), exact linear assignment (ot::assign);
//      when labels are given (class-conditional) one assignment per class, so a noise never crosses classes.
//   4. Hand the chunk out in order, `batch` rows per call, over the next chunk / batch calls.
// σ is the trainer's (drawn per sample after this pairing). With assign = false the same draws are paired by
// index (plain EDM's random pairing), so a run with and without AOT sees the same images and noises.
#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

namespace otcs::diffusion {

struct AotOptions {
  int64_t chunk = 512;  // images per assignment (EDM-AOT --aot); a multiple of batch
  int64_t batch = 64;
  bool assign = true;  // false: identity pairing (plain EDM)
  uint64_t seed = 0;
};

struct PairedBatch {
  torch::Tensor x, noise, labels;  // labels undefined for an unlabelled / unconditional provider
};

struct ChunkStats {
  int64_t chunk = 0;         // 0-based chunk index
  double assigned_cost = 0;  // mean ‖x_i − n_π(i)‖ after the assignment
  double random_cost = 0;    // mean ‖x_i − n_i‖ of the drawn (random) pairing
  double seconds = 0;        // cost matrix + assignment
};

// The permutation pi (int64 [n]) pairing image i with noise pi[i] that minimises Σ ‖x_i − n_pi(i)‖, over all
// rows, or within each class when labels (int64 [n]) are defined. x and noise: [n, ...] with the same shape.
torch::Tensor assign_noise(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels);

class AotProvider {
 public:
  // data: float [N, C, H, W] in [-1, 1]; labels: int64 [N] (pass them for per-class assignment) or undefined.
  AotProvider(torch::Tensor data, torch::Tensor labels, const AotOptions& options);

  PairedBatch next();
  // Called after each chunk's assignment (e.g. to append a CSV row).
  std::function<void(const ChunkStats&)> on_chunk;
  const std::vector<ChunkStats>& stats() const { return stats_; }
  // The provider's whole state (generator, epoch order, current chunk, chunk statistics), so that a resumed
  // training draws exactly the batches an uninterrupted one would.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);  // throws std::runtime_error on a missing entry

 private:
  void refill();

  torch::Tensor data_, labels_;
  AotOptions options_;
  at::Generator gen_;
  torch::Tensor order_;  // this epoch's image order
  int64_t order_pos_ = 0;
  torch::Tensor chunk_x_, chunk_noise_, chunk_labels_;
  int64_t chunk_pos_ = 0;
  std::vector<ChunkStats> stats_;
};

}  // namespace otcs::diffusion
