#pragma once
// Internal to the image stages (stage_images.cpp, stage_paired_eval.cpp): the translation options a stage uses,
// the low-resolution inputs of a degraded set, and image conversions. LibTorch; not for GUI translation units.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/data/pack.h"
#include "core/diffusion/specs.h"
#include "core/session/stages.h"
#include "core/session/translate.h"

namespace otcs::session {

// Pause/stop polling and progress events for a stage's translate_images call (batch 250).
TranslateOptions stage_translate_options(StageContext& ctx, Stage stage, const diffusion::SamplerSpec& sampler,
                                         uint64_t seed, ProgressClock& clock, bool& clock_ready);

// The low-resolution images a degraded set (downsample f, then upsample) was made from, [N, C, H/f, W/f] in
// [-1, 1], for the sampler's data consistency with factor f; undefined when the sampler does not ask for it or
// the set is not degraded by that factor (translate_images then uses the inputs' own block means).
torch::Tensor low_resolution_inputs(StageContext& ctx, const ImageSetSpec& spec, const diffusion::SamplerSpec& sampler,
                                    const std::string& where);

// Flattened rows [N, C*H*W] as images [N, C, H, W].
torch::Tensor as_images(const torch::Tensor& rows, const std::vector<int64_t>& shape);
// Images in [-1, 1] as 8-bit values (uint8).
torch::Tensor to_uint8(const torch::Tensor& x);

// Paired test sets (super-resolution): PSNR and SSIM against the ground truth (stage_paired_eval.cpp).
StageOutcome run_paired_eval(StageContext& ctx, const data::Pack& test_src, const data::Pack& test_tgt,
                             std::chrono::steady_clock::time_point t0);

}  // namespace otcs::session
