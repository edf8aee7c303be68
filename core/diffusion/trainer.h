#pragma once
// Denoising score matching for a conditional network (Stage II of OTCS), one optimiser step at a time so the
// caller (the session) owns the loop, the pair sampler, checkpoints and stopping.
//   eps loss    sum over coordinates of (eps_theta(x_t, t, x) - z)^2, mean over the batch, no time weighting
//               (OTCS:functions/losses.py: summed over pixels).
//   score loss  sum over coordinates of (s_theta sigma + z)^2 with s_theta = output / sigma (the demos).
// Training times come from Schedule::sample_times (antithetic integers for ddpm, as released). Adam, optional
// gradient-norm clipping (the CelebA config's 1.0), and an EMA of the parameters (0.9999 released, 0.999 in
// the demos). Every random draw goes through the trainer's own generator, whose state is checkpointed.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <ATen/core/Generator.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "core/diffusion/networks.h"
#include "core/diffusion/sampler.h"
#include "core/diffusion/schedule.h"

namespace otcs::diffusion {

// A non-finite loss or gradient norm: the step was not applied, the parameters are those of the last good step.
class DivergedError : public std::runtime_error {
 public:
  DivergedError(const std::string& what, int64_t step) : std::runtime_error(what), step_(step) {}
  int64_t step() const { return step_; }

 private:
  int64_t step_;
};

class ScoreTrainer {
 public:
  // Builds the network from `net_spec` (and an identical EMA copy) with the global RNG seeded from spec.seed,
  // restoring the global RNG afterwards, so construction is deterministic and leaves no trace.
  ScoreTrainer(const NetworkSpec& net_spec, std::shared_ptr<Schedule> schedule, const TrainerSpec& spec);

  // One optimiser step on clean samples y0 [B, ...] with their conditions. Returns the batch loss.
  // Data-parallel (dist::current() active): y0 and cond are the global batch, the same on every rank; each rank
  // computes its rows and the gradients are averaged across ranks before clipping and Adam.
  // Throws DivergedError (nothing applied) when the loss or the gradient norm is not finite.
  double step(const torch::Tensor& y0, const torch::Tensor& cond);
  // The loss on a batch without updating anything (times and noise drawn from `gen`).
  double evaluate(const torch::Tensor& y0, const torch::Tensor& cond, at::Generator& gen);

  // Moves the network, its EMA and the training to `device` (before the first step or load). The generator
  // stays on the CPU: times and noise are drawn there and copied, so a run draws the same on every device.
  void to(torch::Device device);
  torch::Device device() const { return device_; }

  int64_t steps_done() const { return step_; }
  std::shared_ptr<ScoreNetwork> network() const { return net_; }
  std::shared_ptr<ScoreNetwork> ema_network() const { return ema_; }
  const Schedule& schedule() const { return *schedule_; }
  const TrainerSpec& spec() const { return spec_; }
  const NetworkSpec& network_spec() const { return net_spec_; }

  // Model, EMA, optimiser, step and generator, as nested archives of `archive`.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  torch::Tensor loss_on(const torch::Tensor& y0, const torch::Tensor& cond, at::Generator& gen, ScoreNetwork& net,
                        int64_t row_begin = 0, int64_t row_end = -1);
  void update_ema();
  // spec.bf16_native: the master weights into the bf16 copy, and its gradients back to the master as float32.
  void refresh_low_precision_copy();
  void take_low_precision_gradients();

  NetworkSpec net_spec_;
  std::shared_ptr<Schedule> schedule_;
  TrainerSpec spec_;
  std::shared_ptr<ScoreNetwork> net_, ema_;
  std::shared_ptr<ScoreNetwork> low_;  // spec.bf16_native: the bf16 channels-last copy that computes each step
  std::unique_ptr<torch::optim::Adam> optimizer_;
  at::Generator gen_;
  int64_t step_ = 0;
  torch::Device device_{torch::kCPU};
};

// A trained network and its EMA twin: both built from `spec` with the global RNG seeded from `seed` (restored
// afterwards), the twin a copy of the network's parameters and buffers, frozen, in eval mode; the network in
// train mode. Shared by the score trainer and the EDM trainer.
struct NetworkWithEma {
  std::shared_ptr<ScoreNetwork> net, ema;
};
NetworkWithEma make_network_with_ema(const NetworkSpec& spec, uint64_t seed);
// ema <- decay ema + (1 - decay) net, parameter by parameter, without gradients.
void update_ema(ScoreNetwork& ema, ScoreNetwork& net, double decay);

// Saves a module (parameters and buffers) into / loads it from an archive key, rejecting missing keys.
void save_module(torch::serialize::OutputArchive& archive, const std::string& key, torch::nn::Module& module);
void load_module(torch::serialize::InputArchive& archive, const std::string& key, torch::nn::Module& module);

// A training's resumable state under fixed keys: the network and its EMA ("model", "ema"), the optimiser
// ("optimizer"), the step ("trainer_step") and the noise generator ("trainer_rng"). Loading throws
// std::runtime_error naming the first missing key.
void save_training_state(torch::serialize::OutputArchive& archive, ScoreNetwork& net, ScoreNetwork& ema,
                         torch::optim::Optimizer& optimizer, int64_t step, const at::Generator& gen);
void load_training_state(torch::serialize::InputArchive& archive, ScoreNetwork& net, ScoreNetwork& ema,
                         torch::optim::Optimizer& optimizer, int64_t& step, at::Generator& gen);

// Runs fn with the global CPU generator's state saved and restored around it.
template <typename Fn>
auto with_global_rng_preserved(Fn&& fn) -> decltype(fn());

}  // namespace otcs::diffusion

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

template <typename Fn>
auto otcs::diffusion::with_global_rng_preserved(Fn&& fn) -> decltype(fn()) {
  auto gen = at::detail::getDefaultCPUGenerator();
  auto state = gen.get_state();
  struct Restore {
    at::Generator& g;
    at::Tensor& s;
    ~Restore() { g.set_state(s); }
  } restore{gen, state};
  return fn();
}
