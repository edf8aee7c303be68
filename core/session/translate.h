#pragma once
// Applying a trained image run to source images: the conditional reverse process with the run's score model,
// one sample per input, batched. Shared by the image sample/eval stages and `otcs translate`.
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "core/diffusion/specs.h"
#include "core/session/score_model.h"

namespace otcs::session {

struct TranslateOptions {
  diffusion::SamplerSpec sampler;
  uint64_t seed = 0;
  int64_t batch = 256;
  // With sampler.consistency = f: the low-resolution inputs [N, C, H/f, W/f] in [-1, 1]. Undefined: the
  // f x f block means of the sources (close to, not exactly, the low-resolution image the sources were
  // upsampled from; callers that have that image pass it).
  torch::Tensor low_res;
  std::function<bool()> cancelled;                           // polled every step
  std::function<void(int64_t done, int64_t total)> progress;  // in sampler steps over all batches
  int64_t* nfe = nullptr;  // out: network evaluations per input (a guided one counts two)
};

// sources: float [N, D] (flattened images in [-1, 1]); returns float [N, C, H, W] clamped to [-1, 1], or an
// undefined tensor when cancelled. Results do not depend on the batch size: every input gets its own noise
// stream derived from (seed, index).
torch::Tensor translate_images(const ScoreModel& model, const torch::Tensor& sources, const std::vector<int64_t>& shape,
                               const TranslateOptions& options);

}  // namespace otcs::session
