#include "core/ot/semidiscrete.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::ot {

SourceKind parse_source_kind(const std::string& name) {
  if (name == "uniform") return SourceKind::Uniform;
  if (name == "gaussian") return SourceKind::Gaussian;
  fail("unknown source distribution '{}' (use uniform or gaussian)", name);
}

torch::Tensor sample_source(SourceKind kind, int64_t n, int64_t d, at::Generator& gen) {
  return kind == SourceKind::Uniform ? torch::rand({n, d}, gen, torch::kFloat32)
                                     : torch::randn({n, d}, gen, torch::kFloat32);
}

torch::Tensor assign_cells(const torch::Tensor& x, const torch::Tensor& targets, const torch::Tensor& h,
                           int64_t target_chunk) {
  torch::NoGradGuard guard;
  auto best = torch::full({x.size(0)}, -std::numeric_limits<float>::infinity(), torch::kFloat32);
  auto arg = torch::zeros({x.size(0)}, torch::kInt64);
  auto hf = h.to(torch::kFloat32);
  for (int64_t j = 0; j < targets.size(0); j += target_chunk) {
    int64_t end = std::min(j + target_chunk, targets.size(0));
    // scores = <x, y_j> + h_j for this chunk, then a running max/argmax.
    auto scores = torch::addmm(hf.slice(0, j, end).unsqueeze(0), x, targets.slice(0, j, end).t());
    auto [value, index] = scores.max(1);
    auto better = value > best;
    best = torch::where(better, value, best);
    arg = torch::where(better, index + j, arg);
  }
  return arg;
}

torch::Tensor cell_measures(const torch::Tensor& targets, const torch::Tensor& h, SourceKind source, int64_t n,
                            at::Generator& gen, int64_t source_batch, int64_t target_chunk) {
  auto y = targets.to(torch::kFloat32).contiguous();
  auto counts = torch::zeros({y.size(0)}, torch::kFloat64);
  for (int64_t done = 0; done < n; done += source_batch) {
    int64_t b = std::min(source_batch, n - done);
    auto cells = assign_cells(sample_source(source, b, y.size(1), gen), y, h, target_chunk);
    counts += torch::bincount(cells, {}, y.size(0)).to(torch::kFloat64);
  }
  return counts / double(n);
}

SemiDiscreteResult solve_semidiscrete(const torch::Tensor& targets, const SemiDiscreteOptions& o,
                                      const std::function<void(const SemiDiscreteStep&)>& on_step,
                                      const std::atomic<bool>* cancel) {
  if (targets.dim() != 2 || targets.size(0) < 1) fail("semi-discrete OT needs a target matrix [N, d]");
  auto start = std::chrono::steady_clock::now();
  int64_t n = targets.size(0);
  auto y = targets.to(torch::kFloat32).contiguous();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto h = torch::zeros({n}, torch::kFloat64);
  auto m = torch::zeros_like(h), v = torch::zeros_like(h);
  const double nu = 1.0 / double(n);
  int64_t samples = o.samples_per_iter > 0 ? o.samples_per_iter : 10 * n;
  double lr = o.lr, best = std::numeric_limits<double>::infinity();
  int bad = 0;
  SemiDiscreteResult r;
  r.h = h.clone();
  r.grad_norm = best;
  for (int it = 1; it <= o.max_iter; ++it) {
    if (cancel && cancel->load()) break;
    auto mu = cell_measures(y, h, o.source, samples, gen, o.source_batch, o.target_chunk);
    auto g = mu - nu;
    double gnorm = g.norm().item<double>();
    int64_t empty = (mu == 0).sum().item<int64_t>();
    r.iterations = it;
    if (gnorm < best) {
      // The gradient was measured at the current h (before this step's update): that is the h to keep.
      best = gnorm;
      r.h = h.clone();
      r.grad_norm = gnorm;
      r.empty_cells = empty;
      bad = 0;
    } else {
      ++bad;
    }
    if (on_step) on_step({it, gnorm, empty, samples, lr});
    if (gnorm < o.grad_threshold && empty == 0) {
      r.h = h.clone();
      r.grad_norm = gnorm;
      r.empty_cells = 0;
      r.converged = true;
      break;
    }
    // Adam without bias correction, as released, then re-centre (h is defined up to a constant).
    m.mul_(0.9).add_(g, 0.1);
    v.mul_(0.999).addcmul_(g, g, 0.001);
    h.sub_(lr * m / (v.sqrt() + 1e-8));
    h.sub_(h.mean());
    if (bad > o.patience && r.doublings < o.max_doublings) {
      samples *= 2;
      lr *= 0.8;
      ++r.doublings;
      bad = 0;
      best = std::numeric_limits<double>::infinity();
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace otcs::ot
