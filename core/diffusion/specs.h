#pragma once
// Plain descriptions of the diffusion parts (schedule, network, trainer, sampler), free of LibTorch so project
// files and GUI code can hold them without the torch headers. The builders live beside each part.
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/precision.h"

namespace otcs::diffusion {

enum class ScheduleKind { Ddpm, VpSde, VeSde };
ScheduleKind parse_schedule_kind(const std::string& name);  // "ddpm", "vp", "ve"
std::string schedule_kind_name(ScheduleKind kind);

struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::Ddpm;
  int64_t steps = 1000;      // ddpm: T
  double beta_start = 1e-4;  // ddpm (released: linear 1e-4 .. 0.02)
  double beta_end = 0.02;
  double beta_min = 0.1;  // vp (the continuous limit of the ddpm schedule with T = 1000)
  double beta_max = 20.0;
  double sigma_max = 25.0;  // ve: the base s (the OTCS demos use 25)
  double t_min = 1e-5;      // continuous schedules: smallest training time (the demos' eps)
};

enum class NetworkKind { Mlp, UNet };
NetworkKind parse_network_kind(const std::string& name);  // "mlp", "unet"
std::string network_kind_name(NetworkKind kind);
enum class TimeEmbedding { Fourier, Sinusoidal };
TimeEmbedding parse_time_embedding(const std::string& name);  // "fourier", "sinusoidal"

struct NetworkSpec {
  NetworkKind kind = NetworkKind::Mlp;
  // Both: dimension of a condition feature vector (0: none).
  int64_t cond_dim = 0;
  // MLP
  int64_t data_dim = 2;
  int64_t hidden = 256;
  int64_t blocks = 3;       // residual blocks
  int64_t embed_dim = 128;  // time / condition embedding width
  TimeEmbedding time_embedding = TimeEmbedding::Fourier;
  double fourier_scale = 30.0;
  // Multiplies the network time before a Gaussian-Fourier embedding. Those features (W ~ N(0, scale^2), the VE
  // demos) are built for t in [0, 1]; a DDPM step index 0..T-1 (or the VP SDE's 999 t) would make neighbouring
  // steps unrelated, so the session sets 1/T (ddpm) or 1/999 (vp). Sinusoidal embeddings ignore it.
  double time_scale = 1.0;
  // UNet
  int64_t in_channels = 1;
  int64_t out_channels = 0;   // 0: in_channels
  int64_t cond_channels = 0;  // condition image channels concatenated to the input
  // How a condition vector (cond_dim) enters the time embedding: "linear" (Linear-SiLU-Linear, as the animal
  // task's CLIP feature) or "conv" (the vector is a flattened image [cond_image_channels, r, r]; a small strided
  // CNN encodes it first, so the class of a source digit is learnt from its shape, not from pixel positions), or
  // "channels" (image projects: the source image is concatenated to the input, OTCS's CelebA way; cond_channels).
  std::string cond_encoder = "linear";
  int64_t cond_image_channels = 1;
  int64_t resolution = 28;
  int64_t channels = 32;  // base width (DDIM CelebA: 128)
  std::vector<int64_t> channel_mult = {1, 2, 2};
  int64_t res_blocks = 1;  // per resolution (DDIM CelebA: 2)
  std::vector<int64_t> attention_resolutions = {7};
  double dropout = 0.0;
  int64_t groups = 8;  // GroupNorm groups (32 in DDIM); reduced to a divisor of each width
};

enum class Prediction { Eps, Score };                  // what the network outputs (score: output / sigma, as the demos)
Prediction parse_prediction(const std::string& name);  // "eps", "score"
std::string prediction_name(Prediction p);

struct TrainerSpec {
  Prediction prediction = Prediction::Eps;  // eps: the eps loss; score: the score loss
  double lr = 2e-4;
  double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8, weight_decay = 0.0;
  double grad_clip = 0.0;  // > 0: clip the global gradient norm to this
  double ema_decay = 0.9999;
  bool antithetic = true;
  // Classifier-free guidance training (Ho & Salimans 2022): this share of each batch sees the null condition
  // (zeros), so one network learns both the conditional and the unconditional model. 0: off (as released).
  double cond_dropout = 0.0;
  uint64_t seed = 0;
  // bf16: the network's forward pass in bfloat16 (autocast; GroupNorm and softmax in float32); the parameters,
  // Adam's state, the EMA and the loss stay float32.
  Precision precision = Precision::Fp32;
  // bf16 only, UNet only, not a project key (otcs bench --set native=1 measures it): instead of autocast, a bf16
  // channels-last copy of the network computes the step; it takes the float32 master weights before each step
  // and hands its gradients back to them as float32.
  bool bf16_native = false;
};

enum class SamplerKind { Ancestral, Ddim, EulerMaruyama, Heun, DpmSolverPP, DpmSolverPPSde };
SamplerKind parse_sampler_kind(const std::string& name);  // "ancestral", "ddim", "em", "heun", "dpm-solver++",
                                                          // "dpm-solver++-sde"
std::string sampler_kind_name(SamplerKind kind);
// Whether the sampler works from a clean estimate x0 at every step, which data consistency projects
// (ancestral, ddim, dpm-solver++ and dpm-solver++-sde; em and heun step with the score).
bool sampler_supports_consistency(SamplerKind kind);

struct SamplerSpec {
  SamplerKind kind = SamplerKind::Ancestral;
  int64_t steps = 0;            // 0: T for ddpm schedules, 1000 for continuous ones; dpm-solver++: 20
  double eta = 0.0;             // ddim
  bool large_variance = true;   // ancestral: sigma^2_{t|s} (released) rather than the posterior variance
  double t_end = 0.0;           // em / heun: last time (0: the schedule's t_min); continuous grids end there
  double clip = 0.0;            // > 0: clamp x0 predictions to [-clip, clip] (the released image sampler: 1)
  double sdedit_t0 = 0.0;       // > 0: start from the noised condition-side y at this time
  bool sdedit_refined = false;  // ddpm + sdedit: the released CelebA refinement
  int64_t refined_steps = 1000;
  // Classifier-free guidance weight w: eps = eps(x, null) + w (eps(x, c) - eps(x, null)). 1: the plain
  // conditional model (as released); > 1 needs a network trained with cond_dropout > 0.
  double guidance = 1.0;
  // > 1: data consistency with a low-resolution input (super-resolution): after every step's clean estimate
  // x0, its f x f block means are replaced by the input's (x0 += nearest-upsample(y - avgpool_f(x0)), the
  // exact projection onto {x : avgpool_f(x) = y}, as DDNM, Wang et al. 2023, does for this operator). The
  // output then downsamples (area) exactly to the input; only the detail inside each block is generated.
  int64_t consistency = 0;
  // bf16: the network evaluations in bfloat16 (autocast); the sampler's state and arithmetic stay float32.
  Precision precision = Precision::Fp32;
};

}  // namespace otcs::diffusion
