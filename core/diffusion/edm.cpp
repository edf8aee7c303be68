#include "core/diffusion/edm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>

#include "core/diffusion/trainer.h"

namespace otcs::diffusion {

EdmCoefficients edm_coefficients(double sigma, double sigma_data) {
  const double s2 = sigma * sigma + sigma_data * sigma_data;
  return {sigma_data * sigma_data / s2, sigma * sigma_data / std::sqrt(s2), 1.0 / std::sqrt(s2), std::log(sigma) / 4};
}

double edm_loss_weight(double sigma, double sigma_data) {
  return (sigma * sigma + sigma_data * sigma_data) / std::pow(sigma * sigma_data, 2);
}

torch::Tensor one_hot_labels(const torch::Tensor& labels, int64_t classes) {
  if (classes <= 0) return {};
  if (!labels.defined()) throw std::invalid_argument("one_hot_labels: a conditional model needs labels");
  return torch::one_hot(labels.to(torch::kInt64), classes).to(torch::kFloat32);
}

torch::Tensor edm_denoise(ScoreNetwork& net, const EdmSpec& spec, const torch::Tensor& x, const torch::Tensor& sigma,
                          const torch::Tensor& labels) {
  const double sd = spec.sigma_data;
  auto s = sigma.to(torch::kFloat32).reshape({-1, 1, 1, 1});
  auto s2 = s * s + sd * sd;
  auto c_skip = (sd * sd) / s2;
  auto c_out = s * sd / s2.sqrt();
  auto c_in = s2.rsqrt();
  auto c_noise = sigma.to(torch::kFloat32).log() / 4;
  auto f = net.forward(c_in * x, c_noise, one_hot_labels(labels, spec.classes));
  return c_skip * x + c_out * f;
}

EdmTrainer::EdmTrainer(const NetworkSpec& net_spec, const EdmSpec& edm, const EdmTrainerSpec& spec)
    : net_spec_(net_spec), edm_(edm), spec_(spec), gen_(at::make_generator<at::CPUGeneratorImpl>(spec.seed)) {
  net_spec_.cond_dim = edm.classes;
  auto pair = make_network_with_ema(net_spec_, spec.seed);
  net_ = pair.net;
  ema_ = pair.ema;
  optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(spec.lr));
}

double EdmTrainer::step(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels) {
  if (!x.sizes().equals(noise.sizes())) throw std::invalid_argument("EdmTrainer::step: x and noise differ in shape");
  const int64_t b = x.size(0);
  net_->train();
  optimizer_->zero_grad();
  // σ per sample, drawn after (and independently of) the noise-image pairing.
  auto sigma = (torch::randn({b}, gen_, torch::kFloat32) * edm_.p_std + edm_.p_mean).exp();
  auto s = sigma.reshape({-1, 1, 1, 1});
  auto denoised = edm_denoise(*net_, edm_, x + s * noise, sigma, labels);
  const double sd2 = edm_.sigma_data * edm_.sigma_data;
  auto weight = (s * s + sd2) / (s * s * sd2);
  auto loss = (weight * (denoised - x).pow(2)).mean();
  const double value = loss.item<double>();
  if (!std::isfinite(value))
    throw DivergedError(fmt::format("the EDM loss is {} at step {}", value, step_ + 1), step_ + 1);
  loss.backward();
  if (spec_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net_->parameters(), spec_.grad_clip);
  if (spec_.lr_rampup > 0) {
    const double lr = spec_.lr * std::min(1.0, double(step_ + 1) / double(spec_.lr_rampup));
    for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
  optimizer_->step();
  ++step_;
  images_seen_ += double(b);
  // EDM's EMA: half-life in images, ramped up to at most ema_rampup × images seen.
  double halflife = spec_.ema_halflife;
  if (spec_.ema_rampup > 0) halflife = std::min(halflife, images_seen_ * spec_.ema_rampup);
  const double beta = std::pow(0.5, double(b) / std::max(halflife, 1e-8));
  update_ema(*ema_, *net_, beta);
  return value;
}

void EdmTrainer::save(torch::serialize::OutputArchive& archive) const {
  save_training_state(archive, *net_, *ema_, *optimizer_, step_, gen_);
  archive.write("trainer_images_seen", c10::IValue(images_seen_));
}

void EdmTrainer::load(torch::serialize::InputArchive& archive) {
  load_training_state(archive, *net_, *ema_, *optimizer_, step_, gen_);
  c10::IValue v;
  if (!archive.try_read("trainer_images_seen", v) || !v.isDouble())
    throw std::runtime_error("missing 'trainer_images_seen'");
  images_seen_ = v.toDouble();
}

torch::Tensor EdmModel::denoise(const torch::Tensor& x, double sigma, const torch::Tensor& labels) const {
  torch::NoGradGuard no_grad;
  return edm_denoise(*network, edm, x, torch::full({x.size(0)}, sigma, torch::kFloat32), labels);
}

std::vector<double> heun_grid(const HeunSpec& spec) {
  if (spec.steps < 1) throw std::invalid_argument("heun_grid: steps must be >= 1");
  std::vector<double> t;
  const double a = std::pow(spec.sigma_max, 1.0 / spec.rho), b = std::pow(spec.sigma_min, 1.0 / spec.rho);
  const int64_t n = spec.steps;
  for (int64_t i = 0; i < n; ++i) {
    const double f = n == 1 ? 0.0 : double(i) / double(n - 1);
    t.push_back(std::pow(a + f * (b - a), spec.rho));
  }
  t.push_back(0.0);
  return t;
}

int64_t heun_nfe(int64_t steps) { return 2 * steps - 1; }
int64_t heun_nfe_from(int64_t steps, int64_t start) { return 2 * (steps - start) - 1; }

namespace {

torch::Tensor heun_chunk(const EdmModel& model, torch::Tensor x, const std::vector<double>& grid,
                         const torch::Tensor& labels, int64_t start, std::vector<torch::Tensor>* states, int64_t* nfe) {
  const int64_t n = int64_t(grid.size()) - 1;
  if (states) states->push_back(x.clone());
  int64_t evals = 0;
  for (int64_t i = start; i < n; ++i) {
    const double t_cur = grid[size_t(i)], t_next = grid[size_t(i + 1)];
    auto d_cur = (x - model.denoise(x, t_cur, labels)) / t_cur;
    ++evals;
    auto x_next = x + (t_next - t_cur) * d_cur;
    if (i < n - 1) {
      auto d_prime = (x_next - model.denoise(x_next, t_next, labels)) / t_next;
      ++evals;
      x_next = x + (t_next - t_cur) * (0.5 * d_cur + 0.5 * d_prime);
    }
    x = x_next;
    if (states) states->push_back(x.clone());
  }
  if (nfe) *nfe = evals;
  return x;
}

}  // namespace

torch::Tensor heun_sample(const EdmModel& model, const torch::Tensor& x, const std::vector<double>& grid,
                          const torch::Tensor& labels, int64_t start, Trajectory* trajectory, int64_t* nfe,
                          int64_t batch) {
  const int64_t n = int64_t(grid.size()) - 1;
  if (start < 0 || start >= n) throw std::invalid_argument("heun_sample: start outside the grid");
  std::vector<torch::Tensor> outs;
  std::vector<std::vector<torch::Tensor>> chunk_states;
  for (int64_t lo = 0; lo < x.size(0); lo += batch) {
    const int64_t hi = std::min(x.size(0), lo + batch);
    std::vector<torch::Tensor> states;
    outs.push_back(heun_chunk(model, x.slice(0, lo, hi), grid, labels.defined() ? labels.slice(0, lo, hi) : labels,
                              start, trajectory ? &states : nullptr, nfe));
    if (trajectory) chunk_states.push_back(std::move(states));
  }
  if (trajectory) {
    trajectory->t.assign(grid.begin() + start, grid.end());
    trajectory->x.clear();
    for (size_t k = 0; k < trajectory->t.size(); ++k) {
      std::vector<torch::Tensor> parts;
      for (auto& s : chunk_states) parts.push_back(s[k]);
      trajectory->x.push_back(torch::cat(parts, 0));
    }
  }
  return torch::cat(outs, 0);
}

}  // namespace otcs::diffusion
