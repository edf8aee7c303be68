#pragma once
// Applying a trained image run to source images: the conditional reverse process with the run's score model,
// one sample per input, batched. Shared by the image sample/eval stages and `otcs translate`.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/diffusion/specs.h"
#include "core/session/score_model.h"

namespace otcs::diffusion {
class TrajectoryRecorder;
}

namespace otcs::session {

struct TranslateOptions {
  diffusion::SamplerSpec sampler;
  uint64_t seed = 0;
  int64_t batch = 256;
  // The first source's index in the whole set: a batch's noise stream is seeded by (seed, first_index + its
  // first row), so a set translated in pieces (a resumed eval) gets the same results as in one call.
  int64_t first_index = 0;
  // With sampler.consistency = f: the low-resolution inputs [N, C, H/f, W/f] in [-1, 1]. Undefined: the
  // f x f block means of the sources (close to, not exactly, the low-resolution image the sources were
  // upsampled from; callers that have that image pass it).
  torch::Tensor low_res;
  // Records the reverse process (x_t and x̂0 at the recorder's steps) of the first `record` inputs, which the
  // first batch holds (at most `batch` of them). Recording does not change any result.
  diffusion::TrajectoryRecorder* recorder = nullptr;
  int64_t record = 0;
  std::function<bool()> cancelled;                            // polled every step
  std::function<void(int64_t done, int64_t total)> progress;  // in sampler steps over all batches
  int64_t* nfe = nullptr;  // out: network evaluations per input (a guided one counts two)
};

// sources: float [N, D] (flattened images in [-1, 1]); returns float [N, C, H, W] clamped to [-1, 1], or an
// undefined tensor when cancelled. Results do not depend on the batch size: every input gets its own noise
// stream derived from (seed, index).
torch::Tensor translate_images(const ScoreModel& model, const torch::Tensor& sources, const std::vector<int64_t>& shape,
                               const TranslateOptions& options);

// Writes what `recorder` kept of an image translation as RUN/sample/trajectories.npz: x and x0 [F, K, 1, D]
// (float32, one tracked sample for each of K sources, flattened images in [-1, 1]), step [F], t [F] and
// sources [K] (the inputs' indices), the layout the 2-D sample stage writes with one path per source.
void save_image_trajectories(const std::string& path, const diffusion::TrajectoryRecorder& recorder,
                             const std::vector<int64_t>& sources);

}  // namespace otcs::session
