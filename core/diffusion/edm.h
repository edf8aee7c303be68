#pragma once
// EDM (Karras, Aittala, Aila, Laine 2022) around the project's UNet: the preconditioned denoiser
//   D(x; σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ), class)
//   c_skip = σ_d² / (σ² + σ_d²), c_out = σ σ_d / sqrt(σ² + σ_d²), c_in = 1 / sqrt(σ² + σ_d²), c_noise = ln(σ) / 4
// with σ_d = 0.5 (data in [-1, 1]); the loss λ(σ) ‖D(x + σ n; σ) − x‖² with λ = (σ² + σ_d²) / (σ σ_d)² and
// ln σ ~ N(P_mean = −1.2, P_std = 1.2²); an EMA of the weights by half-life in images with EDM's ramp-up (the
// half-life is at most ramp × images seen); and the deterministic Heun sampler (EDM Algorithm 1 without churn):
//   t_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for i < N, t_N = 0, σ_min 0.002, σ_max 80,
//   N Euler steps with a second-order correction on every step but the last: NFE = 2N − 1.
// Class conditioning: one-hot labels through the UNet's condition vector (cond_dim = classes).
// The pairing of noise with images is the caller's (AOT, core/diffusion/aot.h): the trainer takes unit noise.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "core/diffusion/networks.h"
#include "core/diffusion/specs.h"

namespace otcs::diffusion {

struct EdmSpec {
  double sigma_data = 0.5;
  double p_mean = -1.2, p_std = 1.2;  // training ln σ ~ N(p_mean, p_std²)
  int64_t classes = 0;                // > 0: class-conditional (one-hot labels, the UNet's cond_dim)
};

struct EdmCoefficients {
  double c_skip, c_out, c_in, c_noise;
};
EdmCoefficients edm_coefficients(double sigma, double sigma_data);
double edm_loss_weight(double sigma, double sigma_data);  // (σ² + σ_d²) / (σ σ_d)²

// One-hot [B, classes] float32 of int64 labels (undefined when classes == 0).
torch::Tensor one_hot_labels(const torch::Tensor& labels, int64_t classes);

// The preconditioned denoiser: x [B, C, H, W], sigma [B] (> 0), labels int64 [B] or undefined.
torch::Tensor edm_denoise(ScoreNetwork& net, const EdmSpec& spec, const torch::Tensor& x, const torch::Tensor& sigma,
                          const torch::Tensor& labels);

struct EdmTrainerSpec {
  double lr = 1e-3;
  int64_t lr_rampup = 0;        // steps of linear warm-up (EDM: 10 Mimg / batch)
  double grad_clip = 0;         // > 0: clip the global gradient norm (EDM instead zeroes NaNs)
  double ema_halflife = 20000;  // images
  double ema_rampup = 0.05;     // half-life at most this × images seen (EDM's ema_rampup_ratio)
  uint64_t seed = 0;
};

class EdmTrainer {
 public:
  // Builds the network (global RNG seeded from spec.seed, restored afterwards) and its EMA copy.
  EdmTrainer(const NetworkSpec& net_spec, const EdmSpec& edm, const EdmTrainerSpec& spec);

  // One Adam step on clean images x [B, C, H, W] in [-1, 1], their unit noises [B, C, H, W] (already paired
  // with the images) and labels (int64 [B], or undefined when unconditional). σ is drawn here, per sample and
  // independently of the pairing. Returns the batch loss (mean over the batch of the weighted per-pixel mean).
  double step(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels);

  int64_t steps_done() const { return step_; }
  // Everything a resumed training needs to continue exactly: both networks, Adam's state, σ's generator, the
  // step and the images seen (a checkpoint).
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);  // throws std::runtime_error on a missing entry
  std::shared_ptr<ScoreNetwork> network() const { return net_; }
  std::shared_ptr<ScoreNetwork> ema_network() const { return ema_; }
  const NetworkSpec& network_spec() const { return net_spec_; }
  const EdmSpec& edm_spec() const { return edm_; }

 private:
  NetworkSpec net_spec_;
  EdmSpec edm_;
  EdmTrainerSpec spec_;
  std::shared_ptr<ScoreNetwork> net_, ema_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  at::Generator gen_;
  int64_t step_ = 0;
  double images_seen_ = 0;
};

// A trained model for sampling: the EMA network in eval mode and its specs.
struct EdmModel {
  std::shared_ptr<ScoreNetwork> network;
  NetworkSpec network_spec;
  EdmSpec edm;
  torch::Tensor denoise(const torch::Tensor& x, double sigma, const torch::Tensor& labels) const;
};

struct HeunSpec {
  int64_t steps = 18;  // N
  double rho = 7;
  double sigma_min = 0.002, sigma_max = 80;
};
std::vector<double> heun_grid(const HeunSpec& spec);  // N + 1 values, t_0 = σ_max ... t_{N−1} = σ_min, t_N = 0
int64_t heun_nfe(int64_t steps);                      // 2N − 1 (N >= 1)
int64_t heun_nfe_from(int64_t steps, int64_t start);  // steps i = start .. N−1: 2 (N − start) − 1

// A recorded ODE path: the state at each visited time (t[0] = the start, ..., t.back() = 0).
struct Trajectory {
  std::vector<double> t;
  std::vector<torch::Tensor> x;
};

// Deterministic Heun from x (the state at grid[start], e.g. σ_max · n for start 0) down to σ = 0.
// `trajectory` (optional) receives every visited state. `nfe` (optional) receives the evaluations used.
torch::Tensor heun_sample(const EdmModel& model, const torch::Tensor& x, const std::vector<double>& grid,
                          const torch::Tensor& labels, int64_t start = 0, Trajectory* trajectory = nullptr,
                          int64_t* nfe = nullptr, int64_t batch = 256);

}  // namespace otcs::diffusion
