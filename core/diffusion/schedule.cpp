#include "core/diffusion/schedule.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::diffusion {

double Schedule::prior_std() const { return sigma(torch::ones({1}, torch::kFloat64)).item<double>(); }

namespace {

torch::Tensor f64(const torch::Tensor& t) { return t.to(torch::kFloat64); }

// Continuous training times: U(t_min, 1), optionally antithetic around the middle of the interval.
torch::Tensor uniform_times(int64_t n, bool antithetic, double t_min, at::Generator& gen) {
  if (!antithetic) return torch::rand({n}, gen, torch::kFloat64) * (1.0 - t_min) + t_min;
  auto half = torch::rand({n / 2 + 1}, gen, torch::kFloat64) * (1.0 - t_min) + t_min;
  return torch::cat({half, 1.0 + t_min - half}).slice(0, 0, n);
}

std::vector<double> linspace_grid(int64_t steps, double t_start, double t_end) {
  if (steps < 1) throw std::invalid_argument("a sampler needs at least one step");
  std::vector<double> grid(static_cast<size_t>(steps));
  for (int64_t k = 0; k < steps; ++k)
    grid[size_t(k)] = steps == 1 ? t_start : t_start + (t_end - t_start) * double(k) / double(steps - 1);
  return grid;
}

class VpSdeSchedule : public Schedule {
 public:
  explicit VpSdeSchedule(const ScheduleSpec& s) : b0_(s.beta_min), b1_(s.beta_max), t_min_(s.t_min) {}
  ScheduleKind kind() const override { return ScheduleKind::VpSde; }
  torch::Tensor log_alphabar(const torch::Tensor& t) const {
    auto x = f64(t);
    return -(b0_ * x + 0.5 * (b1_ - b0_) * x * x);
  }
  torch::Tensor alpha(const torch::Tensor& t) const override {
    return torch::exp(0.5 * log_alphabar(t)).to(t.scalar_type());
  }
  torch::Tensor sigma(const torch::Tensor& t) const override {
    return torch::sqrt(-torch::expm1(log_alphabar(t))).to(t.scalar_type());
  }
  torch::Tensor drift_coefficient(const torch::Tensor& t) const override {
    return (-0.5 * (b0_ + f64(t) * (b1_ - b0_))).to(t.scalar_type());
  }
  torch::Tensor diffusion(const torch::Tensor& t) const override {
    return torch::sqrt(b0_ + f64(t) * (b1_ - b0_)).to(t.scalar_type());
  }
  torch::Tensor network_time(const torch::Tensor& t) const override { return t * 999.0; }
  torch::Tensor sample_times(int64_t n, bool antithetic, at::Generator& gen) const override {
    return uniform_times(n, antithetic, t_min_, gen);
  }
  std::vector<double> time_grid(int64_t steps, double t_start) const override {
    return linspace_grid(steps, t_start, t_min_);
  }
  double t_min() const override { return t_min_; }

 private:
  double b0_, b1_, t_min_;
};

class VeSdeSchedule : public Schedule {
 public:
  explicit VeSdeSchedule(const ScheduleSpec& s) : s_(s.sigma_max), t_min_(s.t_min) {
    if (!(s_ > 1)) fail("ve schedule: sigma_max must be > 1 (got {})", s_);
  }
  ScheduleKind kind() const override { return ScheduleKind::VeSde; }
  torch::Tensor alpha(const torch::Tensor& t) const override { return torch::ones_like(t); }
  torch::Tensor sigma(const torch::Tensor& t) const override {
    const double log_s = std::log(s_);
    return torch::sqrt(torch::expm1(2.0 * log_s * f64(t)) / (2.0 * log_s)).to(t.scalar_type());
  }
  torch::Tensor drift_coefficient(const torch::Tensor& t) const override { return torch::zeros_like(t); }
  torch::Tensor diffusion(const torch::Tensor& t) const override {
    return torch::exp(std::log(s_) * f64(t)).to(t.scalar_type());
  }
  torch::Tensor network_time(const torch::Tensor& t) const override { return t; }
  torch::Tensor sample_times(int64_t n, bool antithetic, at::Generator& gen) const override {
    return uniform_times(n, antithetic, t_min_, gen);
  }
  std::vector<double> time_grid(int64_t steps, double t_start) const override {
    return linspace_grid(steps, t_start, t_min_);
  }
  double t_min() const override { return t_min_; }

 private:
  double s_, t_min_;
};

}  // namespace

DdpmSchedule::DdpmSchedule(torch::Tensor betas, double network_time_scale)
    : betas_(betas.to(torch::kFloat64).contiguous()), net_scale_(network_time_scale) {
  if (betas_.dim() != 1 || betas_.numel() < 1) throw std::invalid_argument("ddpm: betas must be a 1-D tensor");
  if ((betas_ <= 0).any().item<bool>() || (betas_ >= 1).any().item<bool>())
    fail("ddpm schedule: every beta must lie in (0, 1)");
  steps_ = betas_.numel();
  alphabar_ = torch::cumprod(1.0 - betas_, 0);
  log_ab_ext_ = torch::cat({torch::zeros({1}, torch::kFloat64), torch::cumsum(torch::log1p(-betas_), 0)});
}

std::shared_ptr<DdpmSchedule> DdpmSchedule::linear(int64_t steps, double beta_start, double beta_end) {
  if (steps < 1) fail("ddpm schedule: steps must be >= 1 (got {})", steps);
  if (!(beta_start > 0 && beta_end < 1 && beta_start <= beta_end))
    fail("ddpm schedule: need 0 < beta_start <= beta_end < 1 (got {} and {})", beta_start, beta_end);
  return std::make_shared<DdpmSchedule>(torch::linspace(beta_start, beta_end, steps, torch::kFloat64));
}

torch::Tensor DdpmSchedule::log_alphabar_at(const torch::Tensor& t) const {
  // Piecewise linear in t between the knots t_k = k / T (k = 0 .. T), exact at every grid point.
  auto x = f64(t).clamp(0.0, 1.0) * double(steps_);
  auto k = x.floor().clamp(0, double(steps_ - 1));
  auto lo = log_ab_ext_.index({k.to(torch::kLong)});
  auto hi = log_ab_ext_.index({k.to(torch::kLong) + 1});
  return lo + (x - k) * (hi - lo);
}

torch::Tensor DdpmSchedule::alpha(const torch::Tensor& t) const {
  return torch::exp(0.5 * log_alphabar_at(t)).to(t.scalar_type());
}

torch::Tensor DdpmSchedule::sigma(const torch::Tensor& t) const {
  return torch::sqrt(-torch::expm1(log_alphabar_at(t))).to(t.scalar_type());
}

torch::Tensor DdpmSchedule::drift_coefficient(const torch::Tensor& t) const {
  // Reverse-time samplers integrate downwards, so the segment to the left of a grid point applies there.
  auto k = (torch::ceil(f64(t) * double(steps_)) - 1).clamp(0, double(steps_ - 1)).to(torch::kLong);
  auto slope = torch::log1p(-betas_.index({k})) * double(steps_);  // d log alphabar / dt
  return (0.5 * slope).to(t.scalar_type());
}

torch::Tensor DdpmSchedule::diffusion(const torch::Tensor& t) const {
  auto k = (torch::ceil(f64(t) * double(steps_)) - 1).clamp(0, double(steps_ - 1)).to(torch::kLong);
  return torch::sqrt(-torch::log1p(-betas_.index({k})) * double(steps_)).to(t.scalar_type());
}

torch::Tensor DdpmSchedule::network_time(const torch::Tensor& t) const {
  return ((f64(t) * double(steps_) - 1.0) * net_scale_).to(t.scalar_type());
}

torch::Tensor DdpmSchedule::sample_times(int64_t n, bool antithetic, at::Generator& gen) const {
  torch::Tensor idx;
  if (antithetic) {
    auto half = torch::randint(0, steps_, {n / 2 + 1}, gen, torch::kLong);
    idx = torch::cat({half, steps_ - 1 - half}).slice(0, 0, n);
  } else {
    idx = torch::randint(0, steps_, {n}, gen, torch::kLong);
  }
  return (idx.to(torch::kFloat64) + 1.0) / double(steps_);
}

std::vector<double> DdpmSchedule::time_grid(int64_t steps, double t_start) const {
  if (steps < 1) throw std::invalid_argument("a sampler needs at least one step");
  int64_t i_max = std::llround(t_start * double(steps_) - 1.0);
  i_max = std::max<int64_t>(0, std::min(i_max, steps_ - 1));
  int64_t skip = std::max<int64_t>(1, (i_max + 1) / steps);
  std::vector<double> grid;
  for (int64_t i = 0; i <= i_max; i += skip) grid.push_back(time_of_index(double(i)));
  return {grid.rbegin(), grid.rend()};
}

std::shared_ptr<DdpmSchedule> DdpmSchedule::refined(int64_t t0_index, int64_t refined_steps) const {
  if (t0_index < 1 || t0_index >= steps_) fail("sdedit: start index {} outside [1, {})", t0_index, steps_);
  const double r = double(refined_steps) / double(t0_index);
  auto b =
      torch::linspace(betas_[0].item<double>(), betas_[t0_index].item<double>(), refined_steps, torch::kFloat64) / r;
  return std::make_shared<DdpmSchedule>(b, 1.0 / r);
}

std::shared_ptr<Schedule> make_schedule(const ScheduleSpec& spec) {
  switch (spec.kind) {
    case ScheduleKind::Ddpm:
      return DdpmSchedule::linear(spec.steps, spec.beta_start, spec.beta_end);
    case ScheduleKind::VpSde:
      return std::make_shared<VpSdeSchedule>(spec);
    case ScheduleKind::VeSde:
      return std::make_shared<VeSdeSchedule>(spec);
  }
  throw std::invalid_argument("unknown schedule kind");
}

}  // namespace otcs::diffusion
