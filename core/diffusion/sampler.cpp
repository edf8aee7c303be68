#include "core/diffusion/sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/io/npy.h"

namespace otcs::diffusion {

NoiseLevel noise_level(const Schedule& schedule, double t) {
  auto tt = torch::full({1}, t, torch::kFloat64);
  NoiseLevel level;
  level.t = t;
  level.alpha = schedule.alpha(tt).item<double>();
  level.sigma = schedule.sigma(tt).item<double>();
  level.network_time = schedule.network_time(tt).item<double>();
  return level;
}

torch::Tensor NetworkDenoiser::eps(const torch::Tensor& x, const NoiseLevel& level, const torch::Tensor& cond) {
  torch::NoGradGuard no_grad;
  evaluations_ += guidance_ != 1.0 && cond.defined() ? 2 : 1;
  auto run = [&](const torch::Tensor& xb, const torch::Tensor& cb) {
    auto t = torch::full({xb.size(0)}, level.network_time, torch::kFloat32);
    AutocastScope scope(precision_, xb.device());
    torch::Tensor out;
    if (guidance_ != 1.0 && cb.defined()) {
      const int64_t n = xb.size(0);
      auto both =
          net_->forward(torch::cat({xb, xb}, 0), torch::cat({t, t}, 0), torch::cat({cb, torch::zeros_like(cb)}, 0));
      auto cond_out = both.narrow(0, 0, n), null_out = both.narrow(0, n, n);
      out = widen(null_out) + guidance_ * (widen(cond_out) - widen(null_out));
    } else {
      out = widen(net_->forward(xb, t, cb));
    }
    // A score network's output o is s * sigma (the demos divide it by sigma to get s), so eps = -o.
    return prediction_ == Prediction::Score ? -out : out;
  };
  if (chunk_ <= 0 || x.size(0) <= chunk_) return run(x, cond);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += chunk_) {
    const int64_t j = std::min(x.size(0), i + chunk_);
    parts.push_back(run(x.slice(0, i, j), cond.defined() ? cond.slice(0, i, j) : cond));
  }
  return torch::cat(parts, 0);
}

// ---------------------------------------------------------------------------------------- recorder

void TrajectoryRecorder::begin(int64_t total_steps) {
  frames_.clear();
  keep_.assign(static_cast<size_t>(std::max<int64_t>(total_steps, 0)), false);
  if (total_steps <= 0) return;
  keep_.front() = keep_.back() = true;
  for (int64_t w : wanted_) {
    int64_t s = w < 0 ? total_steps + w : w;
    if (s >= 0 && s < total_steps) keep_[size_t(s)] = true;
  }
  if (count_ > 1)
    for (int64_t k = 0; k < count_; ++k)
      keep_[size_t(std::llround(double(k) * double(total_steps - 1) / double(count_ - 1)))] = true;
}

bool TrajectoryRecorder::wants(int64_t step) const {
  return step >= 0 && size_t(step) < keep_.size() && keep_[size_t(step)];
}

void TrajectoryRecorder::record(int64_t step, double t, const torch::Tensor& x, const torch::Tensor& x0) {
  if (!wants(step)) return;
  auto rows = [this](const torch::Tensor& v) {
    auto out = v.detach();
    if (rows_ > 0 && out.dim() > 0 && out.size(0) > rows_) out = out.narrow(0, 0, rows_);
    return out.to(torch::kFloat32).clone();
  };
  TrajectoryFrame frame{step, t, rows(x), rows(x0)};
  frames_.push_back(frame);
  if (on_frame) on_frame(frames_.back());
}

void TrajectoryRecorder::save_npz(const std::string& path) const {
  if (frames_.empty()) throw std::runtime_error("trajectory recorder: nothing recorded");
  std::vector<torch::Tensor> xs, x0s;
  std::vector<int64_t> steps;
  std::vector<double> ts;
  for (const auto& f : frames_) {
    xs.push_back(f.x);
    x0s.push_back(f.x0);
    steps.push_back(f.step);
    ts.push_back(f.t);
  }
  io::write_npz(path, {{"x", torch::stack(xs)},
                       {"x0", torch::stack(x0s)},
                       {"step", torch::tensor(steps, torch::kInt64)},
                       {"t", torch::tensor(ts, torch::kFloat64)}});
}

// ---------------------------------------------------------------------------------------- samplers

torch::Tensor project_block_means(const torch::Tensor& x0, const torch::Tensor& low, int64_t f) {
  namespace F = torch::nn::functional;
  if (x0.dim() != 4 || low.dim() != 4 || x0.size(0) != low.size(0) || x0.size(1) != low.size(1) ||
      x0.size(2) != low.size(2) * f || x0.size(3) != low.size(3) * f)
    fail("sampler: consistency {}: a low-resolution input of [B, C, H/{}, W/{}] is needed for samples of {}", f, f, f,
         fmt::format("[{}]", fmt::join(x0.sizes(), ", ")));
  auto means = F::avg_pool2d(x0, F::AvgPool2dFuncOptions(f).stride(f));
  return x0 + (low.to(x0.dtype()) - means).repeat_interleave(f, 2).repeat_interleave(f, 3);
}

namespace {

torch::Tensor noise(const std::vector<int64_t>& shape, at::Generator& gen) {
  return torch::randn(shape, gen, torch::kFloat32);
}

std::vector<double> linspace(double a, double b, int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[size_t(k)] = n == 1 ? a : a + (b - a) * double(k) / double(n - 1);
  return v;
}

double log_snr(const NoiseLevel& l) { return std::log(l.alpha / l.sigma); }

// n times from t_start down to t_end, uniform in lambda = log(alpha / sigma) (increasing as t falls); lambda(t)
// is inverted by bisection, so any schedule serves.
std::vector<double> log_snr_grid(const Schedule& schedule, double t_start, double t_end, int64_t n) {
  const double l0 = log_snr(noise_level(schedule, t_start)), l1 = log_snr(noise_level(schedule, t_end));
  std::vector<double> grid;
  for (double target : linspace(l0, l1, n)) {
    double hi = t_start, lo = t_end;  // lambda(hi) <= target <= lambda(lo)
    for (int i = 0; i < 60; ++i) {
      const double mid = 0.5 * (lo + hi);
      (log_snr(noise_level(schedule, mid)) < target ? hi : lo) = mid;
    }
    grid.push_back(0.5 * (lo + hi));
  }
  grid.front() = t_start;
  grid.back() = t_end;
  return grid;
}

}  // namespace

torch::Tensor sample(Denoiser& denoiser, const Schedule& schedule, const SamplerSpec& spec,
                     const std::vector<int64_t>& shape, at::Generator& gen, const SampleOptions& options) {
  torch::NoGradGuard no_grad;
  const Schedule* sched = &schedule;
  std::shared_ptr<DdpmSchedule> refined;
  double t_start = 1.0;
  torch::Tensor x;
  if (spec.sdedit_t0 > 0) {
    if (!options.sdedit_source.defined()) throw std::invalid_argument("sdedit start needs a source tensor");
    if (!(spec.sdedit_t0 <= 1.0)) fail("sampler: sdedit_t0 must lie in (0, 1] (got {})", spec.sdedit_t0);
    const auto* ddpm = dynamic_cast<const DdpmSchedule*>(&schedule);
    if (ddpm) {
      // The released code starts at index int(T t0) (= 200 for t0 = 0.2), i.e. time (i0 + 1) / T.
      const auto i0 = std::max<int64_t>(1, int64_t(double(ddpm->discrete_steps()) * spec.sdedit_t0));
      t_start = ddpm->time_of_index(double(std::min(i0, ddpm->discrete_steps() - 1)));
      if (spec.sdedit_refined) {
        refined = ddpm->refined(std::min(i0, ddpm->discrete_steps() - 1), spec.refined_steps);
        sched = refined.get();
      }
    } else {
      if (spec.sdedit_refined) fail("sampler: the refined sdedit start needs a ddpm schedule");
      t_start = spec.sdedit_t0;
    }
    const auto start = noise_level(schedule, t_start);  // the original schedule's alphabar at the start
    x = start.alpha * options.sdedit_source.to(torch::kFloat32) + start.sigma * noise(shape, gen);
    if (refined) t_start = 1.0;
  } else if (options.x_init.defined()) {
    x = options.x_init.to(torch::kFloat32).clone();
  } else {
    x = noise(shape, gen) * sched->prior_std();
  }

  const bool dpm_solver = spec.kind == SamplerKind::DpmSolverPP || spec.kind == SamplerKind::DpmSolverPPSde;
  const int64_t default_steps = dpm_solver ? 20 : (sched->discrete_steps() > 0 ? sched->discrete_steps() : 1000);
  const int64_t steps = spec.steps > 0 ? spec.steps : default_steps;
  const double t_end = spec.t_end > 0 ? spec.t_end : sched->t_min();
  std::vector<double> grid;
  switch (spec.kind) {
    case SamplerKind::Ancestral:
    case SamplerKind::Ddim:
      grid = sched->time_grid(steps, t_start);
      break;
    case SamplerKind::EulerMaruyama:
      grid = linspace(t_start, t_end, steps);
      break;
    case SamplerKind::Heun:
      grid = linspace(t_start, t_end, steps + 1);
      break;
    case SamplerKind::DpmSolverPP:
    case SamplerKind::DpmSolverPPSde:
      grid = log_snr_grid(*sched, t_start, std::min(t_end, t_start), steps + 1);
      break;
  }
  if (spec.consistency > 1) {
    if (!sampler_supports_consistency(spec.kind))
      fail("sampler: consistency needs the ancestral, ddim, dpm-solver++ or dpm-solver++-sde sampler (got {})",
           sampler_kind_name(spec.kind));
    if (!options.low_res.defined()) fail("sampler: consistency {} needs the low-resolution input", spec.consistency);
    project_block_means(x, options.low_res, spec.consistency);  // shape check before any network call
  }
  auto consistent = [&](torch::Tensor x0) {
    if (spec.consistency <= 1) return x0;
    x0 = project_block_means(x0, options.low_res, spec.consistency);
    return spec.clip > 0 ? x0.clamp(-spec.clip, spec.clip) : x0;
  };
  const bool grid_has_end = spec.kind == SamplerKind::Heun || dpm_solver;
  const int64_t n_steps = grid_has_end ? int64_t(grid.size()) - 1 : int64_t(grid.size());
  if (options.recorder) options.recorder->begin(n_steps + 1);
  const auto& cond = options.cond;
  torch::Tensor previous_x0;  // dpm-solver++: the last step's clean estimate ...
  double previous_h = 0;      // ... and its log-SNR step

  for (int64_t k = 0; k < n_steps; ++k) {
    if (options.cancelled && options.cancelled()) return {};
    const double t = grid[size_t(k)];
    const auto lt = noise_level(*sched, t);
    auto e = denoiser.eps(x, lt, cond);
    auto x0 = (x - lt.sigma * e) / lt.alpha;
    switch (spec.kind) {
      case SamplerKind::Ancestral: {
        const bool last = k + 1 == n_steps;
        const NoiseLevel ls = last ? NoiseLevel{0, 1, 0, 0} : noise_level(*sched, grid[size_t(k) + 1]);
        if (spec.clip > 0) x0 = x0.clamp(-spec.clip, spec.clip);
        x0 = consistent(x0);
        if (options.recorder) options.recorder->record(k, t, x, x0);
        const double a_ts = lt.alpha / ls.alpha;
        const double var_ts = std::max(0.0, lt.sigma * lt.sigma - a_ts * a_ts * ls.sigma * ls.sigma);
        const double st2 = lt.sigma * lt.sigma;
        auto mean = (a_ts * ls.sigma * ls.sigma / st2) * x + (ls.alpha * var_ts / st2) * x0;
        const double var = spec.large_variance ? var_ts : var_ts * ls.sigma * ls.sigma / st2;
        x = last ? mean : mean + std::sqrt(var) * noise(shape, gen);
        break;
      }
      case SamplerKind::Ddim: {
        // With clipping, the clean estimate is clamped and the noise direction recomputed from it (as the DDIM
        // code with clip_denoised does); otherwise an image model's early x0 errors, amplified by 1/alpha (~158
        // at t = T), stay in the deterministic path: 28x28 digits came out as salt-and-pepper noise at 25 and
        // 250 steps while the ancestral sampler with the same model drew clean characters.
        if (spec.clip > 0) x0 = x0.clamp(-spec.clip, spec.clip);
        x0 = consistent(x0);
        if ((spec.clip > 0 || spec.consistency > 1) && lt.sigma > 0) e = (x - lt.alpha * x0) / lt.sigma;
        if (options.recorder) options.recorder->record(k, t, x, x0);
        const bool last = k + 1 == n_steps;
        const NoiseLevel ls = last ? NoiseLevel{0, 1, 0, 0} : noise_level(*sched, grid[size_t(k) + 1]);
        const double a_ts = lt.alpha / ls.alpha;
        const double var_ts = std::max(0.0, lt.sigma * lt.sigma - a_ts * a_ts * ls.sigma * ls.sigma);
        const double c1 = spec.eta * std::sqrt(var_ts * ls.sigma * ls.sigma / (lt.sigma * lt.sigma));
        const double c2 = std::sqrt(std::max(0.0, ls.sigma * ls.sigma - c1 * c1));
        x = ls.alpha * x0 + c2 * e;
        if (c1 > 0) x = x + c1 * noise(shape, gen);
        break;
      }
      case SamplerKind::EulerMaruyama: {
        if (options.recorder) options.recorder->record(k, t, x, x0);
        // Constant step as the demos (linspace(1, eps, N), step = ts[0] - ts[1]); the last one ends near 0.
        const double dt = n_steps > 1 ? (grid[0] - grid[size_t(n_steps) - 1]) / double(n_steps - 1) : grid[0];
        auto tt = torch::full({1}, t, torch::kFloat64);
        const double f = sched->drift_coefficient(tt).item<double>();
        const double g = sched->diffusion(tt).item<double>();
        auto score = -e / lt.sigma;
        auto mean = x + (g * g * score - f * x) * dt;
        x = k + 1 == n_steps ? mean : mean + g * std::sqrt(dt) * noise(shape, gen);
        break;
      }
      case SamplerKind::Heun: {
        if (options.recorder) options.recorder->record(k, t, x, x0);
        const double tn = grid[size_t(k) + 1];
        auto drift = [&](const torch::Tensor& xv, const torch::Tensor& ev, double tv, double sigma) {
          auto tt = torch::full({1}, tv, torch::kFloat64);
          const double f = sched->drift_coefficient(tt).item<double>();
          const double g = sched->diffusion(tt).item<double>();
          return f * xv + 0.5 * g * g * ev / sigma;  // f x - g^2 s / 2 with s = -eps / sigma
        };
        auto d1 = drift(x, e, t, lt.sigma);
        auto xe = x + (tn - t) * d1;
        const auto ln = noise_level(*sched, tn);
        auto d2 = drift(xe, denoiser.eps(xe, ln, cond), tn, ln.sigma);
        x = x + (tn - t) * 0.5 * (d1 + d2);
        break;
      }
      case SamplerKind::DpmSolverPP:
      case SamplerKind::DpmSolverPPSde: {
        if (spec.clip > 0) x0 = x0.clamp(-spec.clip, spec.clip);
        x0 = consistent(x0);
        if (options.recorder) options.recorder->record(k, t, x, x0);
        if (k + 1 == n_steps) {
          // The last step goes to t = 0 rather than to t_end (sigma = 0, lambda = inf): the first-order step is
          // then the clean estimate itself, which keeps data consistency exact.
          x = x0;
          break;
        }
        // x_s = (sigma_s / sigma_t) x_t + alpha_s (1 - e^-h) D, h = lambda_s - lambda_t, with D = x0 (first
        // order) or, after the first step, D = (1 + 1/(2r)) x0 - 1/(2r) x0_prev, r = h_prev / h.
        const auto ls = noise_level(*sched, grid[size_t(k) + 1]);
        const double h = log_snr(ls) - log_snr(lt);
        auto d = x0;
        if (previous_x0.defined() && previous_h > 0) {
          const double c = 0.5 * h / previous_h;  // 1 / (2r)
          d = (1 + c) * x0 - c * previous_x0;
        }
        if (spec.kind == SamplerKind::DpmSolverPP) {
          x = (ls.sigma / lt.sigma) * x - ls.alpha * std::expm1(-h) * d;
        } else {
          // SDE-DPM-Solver++(2M): the reverse SDE's linear part solved exactly, x_s = (sigma_s / sigma_t) e^-h x_t
          // + alpha_s (1 - e^-2h) D + sigma_s sqrt(1 - e^-2h) z, with the same second-order D (the "midpoint"
          // form of the official and k-diffusion code).
          const double keep = -std::expm1(-2 * h);
          x = (ls.sigma / lt.sigma) * std::exp(-h) * x + ls.alpha * keep * d +
              ls.sigma * std::sqrt(keep) * noise(shape, gen);
        }
        previous_x0 = x0;
        previous_h = h;
        break;
      }
    }
    if (options.progress) options.progress(k + 1, n_steps);
  }
  if (options.recorder) options.recorder->record(n_steps, 0.0, x, x);
  return x;
}

}  // namespace otcs::diffusion
