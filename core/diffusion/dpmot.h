#pragma once
// DPM-OT (Li et al., ICCV 2023) on the EDM model, so that one trained model serves AOT and DPM-OT:
//   1. The "expressway" split: the Heun grid t_0 = σ_max > ... > t_{N−1} = σ_min > t_N = 0 (edm.h) is cut where
//      its last M steps start, at index s = N − M; the latents live at σ_M = t_s.
//   2. Target latents y_i = x_i + σ_M z_i (z ~ N(0, I)) from data images x_i (no network evaluation; the
//      released code uses the test split and NCSNv2's level L − backSteps, §2.3 of algorithms.md).
//   3. Semi-discrete OT from the source (uniform [0,1]^d as released, or Gaussian; ot/semidiscrete.h) to the
//      uniform measure on {y_i}: heights h with every cell of measure 1/N.
//   4. Sampling: a fresh source point x (the SAME source as in 3) goes to its cell's latent y_{i*},
//      i* = argmax_i ⟨x, y_i⟩ + h_i (an exact copy of a stored latent), then the remaining Heun steps
//      i = s .. N−1 down to σ = 0: NFE = 2M − 1, against 2N − 1 for the full grid.
// With topk = 1 every sample is a refined copy of one stored latent, i.e. of one data image plus σ_M noise:
// report the nearest-latent and nearest-data distances with every quality number.
#include <cstdint>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "core/diffusion/edm.h"
#include "core/ot/semidiscrete.h"

namespace otcs::diffusion {

struct DpmOtSplit {
  int64_t steps = 0;  // N of the Heun grid
  int64_t m = 0;      // steps after the map
  int64_t start = 0;  // grid index where they start: N − M
  double sigma = 0;   // the latents' noise level t_start
  int64_t nfe = 0;    // 2M − 1
};
// Throws std::invalid_argument unless 1 <= M < N.
DpmOtSplit dpmot_split(const HeunSpec& spec, int64_t m);

// y = data + σ z, flattened to [N, d] float32.
torch::Tensor build_latents(const torch::Tensor& data, double sigma, at::Generator& gen);

struct MappedSource {
  torch::Tensor cells;    // int64 [n], the cell of each fresh source point
  torch::Tensor latents;  // [n, d], the stored latents of those cells (exact copies)
};
MappedSource map_source(const torch::Tensor& latents, const torch::Tensor& h, ot::SourceKind source, int64_t n,
                        at::Generator& gen);

// For each row of a, the Euclidean distance to the nearest row of b (both [*, d]), streamed over a's rows.
torch::Tensor nearest_distances(const torch::Tensor& a, const torch::Tensor& b, int64_t chunk = 256);

}  // namespace otcs::diffusion
