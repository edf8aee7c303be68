#pragma once
// Noise schedules behind one interface, so losses and samplers never ask which one they have.
//
// Every schedule is a forward process with Gaussian marginals  x_t = alpha(t) x_0 + sigma(t) z  on continuous
// time t in (0, 1], and the linear SDE  dx = f(t) x dt + g(t) dW  that produces them. Time t = 0 is the data
// (alpha = 1, sigma = 0). What differs is how t reaches the network (network_time) and how training times
// are drawn (sample_times):
//   ddpm   discrete VP (Ho et al.; OTCS configs): beta_i linear from beta_start to beta_end over T steps,
//          alphabar_i = prod_{k<=i} (1 - beta_k). Step i sits at t = (i + 1) / T and the network sees i (so
//          fractional times, as the CelebA SDEdit sampler feeds k/5, map to fractional indices). Between grid
//          points log alphabar is linear in t, which makes f, g piecewise constant.
//   vp     continuous VP SDE (Song et al.): beta(t) = beta_min + t (beta_max - beta_min); network sees 999 t.
//   ve     VE SDE of the OTCS 2-D demos: sigma(t) = sqrt((s^(2t) - 1) / (2 ln s)), g(t) = s^t, f = 0; the
//          network sees t.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "core/diffusion/specs.h"

namespace otcs::diffusion {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual ScheduleKind kind() const = 0;

  // Marginal coefficients; t is a float tensor of any shape (values in [0, 1]), results have its shape.
  virtual torch::Tensor alpha(const torch::Tensor& t) const = 0;
  virtual torch::Tensor sigma(const torch::Tensor& t) const = 0;
  // Forward SDE: drift f(t) x and diffusion g(t).
  virtual torch::Tensor drift_coefficient(const torch::Tensor& t) const = 0;
  virtual torch::Tensor diffusion(const torch::Tensor& t) const = 0;
  // What the network is fed for time t.
  virtual torch::Tensor network_time(const torch::Tensor& t) const = 0;

  // Training times for a batch of n. ddpm: integers as released, antithetic = draw n/2 + 1 indices, append
  // T - 1 - i, keep n. Continuous: U(t_min, 1), antithetic pairs t with 1 + t_min - t.
  virtual torch::Tensor sample_times(int64_t n, bool antithetic, at::Generator& gen) const = 0;

  // The default descending time grid of a sampler with `steps` steps, from t_start down to the last time
  // before the data (the sampler then steps to t = 0). ddpm: indices i = T-1 ... 0 spaced by T/steps as
  // released (range(0, T, skip)); continuous: linspace(t_start, t_min, steps).
  virtual std::vector<double> time_grid(int64_t steps, double t_start = 1.0) const = 0;

  virtual double t_min() const = 0;
  // Discrete steps T of a ddpm schedule (0 for continuous ones).
  virtual int64_t discrete_steps() const { return 0; }
  // Std of the prior at t = 1 used to start sampling from noise (1 for VP; sigma(1) for VE).
  double prior_std() const;
};

std::shared_ptr<Schedule> make_schedule(const ScheduleSpec& spec);

// The discrete VP schedule with explicit betas, exposed for the refined SDEdit schedule of the CelebA sampler
// (betas' = linspace(beta_0, beta_T0, K) / r and network time k / r).
class DdpmSchedule : public Schedule {
 public:
  // betas float64 [T]; the network sees (index) * network_time_scale.
  explicit DdpmSchedule(torch::Tensor betas, double network_time_scale = 1.0);
  static std::shared_ptr<DdpmSchedule> linear(int64_t steps, double beta_start, double beta_end);

  ScheduleKind kind() const override { return ScheduleKind::Ddpm; }
  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coefficient(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  torch::Tensor network_time(const torch::Tensor& t) const override;
  torch::Tensor sample_times(int64_t n, bool antithetic, at::Generator& gen) const override;
  std::vector<double> time_grid(int64_t steps, double t_start = 1.0) const override;
  double t_min() const override { return 1.0 / double(steps_); }
  int64_t discrete_steps() const override { return steps_; }

  const torch::Tensor& betas() const { return betas_; }
  const torch::Tensor& alphas_cumprod() const { return alphabar_; }  // float64 [T]
  double time_of_index(double i) const { return (i + 1.0) / double(steps_); }
  // The released SDEdit refinement: start index t0_index, K refined steps, r = K / t0_index.
  std::shared_ptr<DdpmSchedule> refined(int64_t t0_index, int64_t refined_steps) const;

 private:
  torch::Tensor log_alphabar_at(const torch::Tensor& t) const;
  torch::Tensor betas_;       // float64 [T]
  torch::Tensor alphabar_;    // float64 [T]
  torch::Tensor log_ab_ext_;  // float64 [T + 1]: 0 followed by log alphabar_i (t = 0, 1/T, ..., 1)
  int64_t steps_ = 0;
  double net_scale_ = 1.0;
};

}  // namespace otcs::diffusion
