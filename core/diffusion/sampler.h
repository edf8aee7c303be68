#pragma once
// Reverse-process samplers over any Schedule, and the trajectory recorder.
//   ancestral  the released DDPM sampler (OTCS:functions/denoising.py): x0 from eps (optionally clamped),
//              the posterior mean of q(x_s | x_t, x0), variance "large" (sigma^2_{t|s}, = beta_t for ddpm, as
//              released although the configs say fixedsmall) or "small"; no noise on the last step.
//   ddim       DDIM with eta (eta = 0 deterministic) on a shorter grid (range(0, T, T/steps) for ddpm).
//   em         Euler-Maruyama for the reverse SDE, constant step as the OTCS demos; returns the last mean.
//   heun       Heun's second-order method for the probability-flow ODE dx/dt = f x - g^2 s / 2.
//   dpm-solver++  DPM-Solver++(2M) (Lu et al. 2022): the probability-flow ODE solved exactly in its linear part,
//              second-order multistep in the data prediction x0, on a grid uniform in log-SNR
//              lambda = log(alpha / sigma) (the official code's choice for low-resolution images): steps + 1
//              times from the start to t_end, the network evaluated at the first `steps` of them. The first
//              step is first order, and the last goes to t = 0 instead of t_end (the clean estimate itself).
//              One network evaluation per step: 10-20 steps suffice where ddim needs hundreds.
//   dpm-solver++-sde  SDE-DPM-Solver++(2M) (Lu et al. 2022, section 5): the same grid, data prediction and
//              second-order correction, for the reverse SDE instead of the ODE: each step contracts x by e^-h more
//              and adds fresh noise sigma_s sqrt(1 - e^-2h) z. It follows the stochastic path the ancestral
//              sampler follows, in a few dozen steps; on guided models it lands where ancestral sampling does
//              when the deterministic path ends elsewhere.
// For the general Gaussian-marginal process, q(x_s | x_t) has alpha_{t|s} = alpha_t / alpha_s and
// sigma^2_{t|s} = sigma_t^2 - alpha_{t|s}^2 sigma_s^2, which reduces to the DDPM formulas on a ddpm schedule
// (with alphabar = 1 after the last step), so the same code serves VP and VE schedules.
// SDEdit start: x_{t0} = alpha(t0) y + sigma(t0) z from a given y, then the sampler runs from t0 down. With
// `refined` on a ddpm schedule it is the released CelebA sampler: start index i0 = int(T t0), a 1000-step
// schedule beta' = linspace(beta_0, beta_i0, K) / r (r = K / i0) whose network time is k / r.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "core/common/precision.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/schedule.h"

namespace otcs::diffusion {

// One noise level of the process: the samplers evaluate the denoiser at one time for the whole batch.
struct NoiseLevel {
  double t = 1;
  double alpha = 1;
  double sigma = 1;
  double network_time = 0;
};
NoiseLevel noise_level(const Schedule& schedule, double t);

// Predicts the noise eps of x_t = alpha x0 + sigma eps; the score is -eps / sigma.
class Denoiser {
 public:
  virtual ~Denoiser() = default;
  virtual torch::Tensor eps(const torch::Tensor& x, const NoiseLevel& level, const torch::Tensor& cond) = 0;
};

// A trained network behind the Denoiser interface (evaluated without gradients).
class NetworkDenoiser : public Denoiser {
 public:
  // guidance != 1: classifier-free guidance, eps_null + w (eps_cond - eps_null), the null condition being zeros
  // (a network trained with cond_dropout); both evaluated in one batch.
  // precision bf16: each evaluation runs under bf16 autocast (on x's device) and returns float32.
  NetworkDenoiser(std::shared_ptr<ScoreNetwork> net, Prediction prediction, int64_t chunk = 0, double guidance = 1.0,
                  Precision precision = Precision::Fp32)
      : net_(std::move(net)), prediction_(prediction), chunk_(chunk), guidance_(guidance), precision_(precision) {}
  torch::Tensor eps(const torch::Tensor& x, const NoiseLevel& level, const torch::Tensor& cond) override;
  // Network evaluations per sample so far (NFE): one per call, two when guidance also evaluates the null
  // condition.
  int64_t evaluations() const { return evaluations_; }

 private:
  int64_t evaluations_ = 0;
  std::shared_ptr<ScoreNetwork> net_;
  Prediction prediction_;
  int64_t chunk_;
  double guidance_;
  Precision precision_;
};

struct TrajectoryFrame {
  int64_t step = 0;  // 0-based sampler step
  double t = 0;
  torch::Tensor x;   // x_t before the step
  torch::Tensor x0;  // the denoiser's clean prediction at that step
};

// Records a chosen subset of steps (the first and the last are always kept) and forwards each frame.
class TrajectoryRecorder {
 public:
  // wanted: step indices to keep (negative counts from the end); count > 0 instead spreads `count` frames
  // evenly over the run.
  explicit TrajectoryRecorder(std::vector<int64_t> wanted = {}, int64_t count = 0)
      : wanted_(std::move(wanted)), count_(count) {}
  std::function<void(const TrajectoryFrame&)> on_frame;
  // Keeps only the first `rows` samples of each recorded batch (0: all); a few image paths out of a large batch.
  void keep_rows(int64_t rows) { rows_ = rows; }
  void begin(int64_t total_steps);
  bool wants(int64_t step) const;
  void record(int64_t step, double t, const torch::Tensor& x, const torch::Tensor& x0);
  const std::vector<TrajectoryFrame>& frames() const { return frames_; }
  // Stacked arrays: step [F], t [F], x [F, B, ...], x0 [F, B, ...] (float32), for the run directory.
  void save_npz(const std::string& path) const;

 private:
  std::vector<int64_t> wanted_;
  int64_t count_;
  int64_t rows_ = 0;
  std::vector<bool> keep_;
  std::vector<TrajectoryFrame> frames_;
};

struct SampleOptions {
  torch::Tensor cond;           // [B, ...] condition, or undefined
  torch::Tensor x_init;         // the state at the start time instead of prior noise (fixed previews, tests)
  torch::Tensor sdedit_source;  // [B, ...] y for the SDEdit start (same shape as a sample)
  torch::Tensor low_res;        // [B, C, H/f, W/f] the low-resolution input for spec.consistency = f
  TrajectoryRecorder* recorder = nullptr;
  std::function<bool()> cancelled;  // polled every step; true stops early (returns {})
  std::function<void(int64_t step, int64_t total)> progress;
};

// The projection spec.consistency applies: x0 [B, C, H, W] with its f x f block means replaced by low's.
torch::Tensor project_block_means(const torch::Tensor& x0, const torch::Tensor& low, int64_t f);

// Draws samples of `shape` ([B, ...]). gen drives the initial noise and every step's noise.
torch::Tensor sample(Denoiser& denoiser, const Schedule& schedule, const SamplerSpec& spec,
                     const std::vector<int64_t>& shape, at::Generator& gen, const SampleOptions& options = {});

}  // namespace otcs::diffusion
