#include "core/ot/semidiscrete.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
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

std::string describe(const SemiDiscreteStep& s) {
  return fmt::format("sdot iter {}: |g| {:.3e} (noise removed {:.3e}), empty cells {}, samples {}, step {:.3g}",
                     s.iteration, s.grad_norm, s.grad_estimate, s.empty_cells, s.samples, s.step);
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

namespace {

// The best and the second-best score <x, y_i> + h_i of every x, with their cells, streamed over target chunks.
struct TopTwo {
  torch::Tensor first, second;  // int64 [b]
  torch::Tensor best;           // float32 [b]: the best score
  torch::Tensor gap;            // float32 [b]: best minus second-best score (>= 0)
};

TopTwo top_two(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& hf, int64_t target_chunk) {
  const int64_t b = x.size(0);
  const float inf = std::numeric_limits<float>::infinity();
  auto v1 = torch::full({b}, -inf, torch::kFloat32), v2 = v1.clone();
  auto a1 = torch::zeros({b}, torch::kInt64), a2 = a1.clone();
  for (int64_t j = 0; j < y.size(0); j += target_chunk) {
    const int64_t end = std::min(j + target_chunk, y.size(0));
    auto scores = torch::addmm(hf.slice(0, j, end).unsqueeze(0), x, y.slice(0, j, end).t());
    torch::Tensor c1, c2, i1, i2;
    if (end - j == 1) {
      c1 = scores.select(1, 0);
      c2 = torch::full({b}, -inf, torch::kFloat32);
      i1 = i2 = torch::full({b}, j, torch::kInt64);
    } else {
      auto [v, i] = scores.topk(2, 1);
      c1 = v.select(1, 0), c2 = v.select(1, 1);
      i1 = i.select(1, 0) + j, i2 = i.select(1, 1) + j;
    }
    // Merge: if the chunk's best wins, the runner-up is the better of the old best and the chunk's second;
    // otherwise the better of the old second and the chunk's best.
    auto take = c1 > v1;
    auto second = torch::where(take, torch::maximum(v1, c2), torch::maximum(v2, c1));
    a2 = torch::where(take, torch::where(v1 >= c2, a1, i2), torch::where(v2 >= c1, a2, i1));
    v2 = second;
    a1 = torch::where(take, i1, a1);
    v1 = torch::where(take, c1, v1);
  }
  return {a1, a2, v1, v1 - v2};
}

// For every cell, how far its height is below winning at any of the points x: min_x (best(x) − score_i(x)).
torch::Tensor deficits(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& hf,
                       const torch::Tensor& best, int64_t target_chunk) {
  std::vector<torch::Tensor> parts;
  for (int64_t j = 0; j < y.size(0); j += target_chunk) {
    const int64_t end = std::min(j + target_chunk, y.size(0));
    auto scores = torch::addmm(hf.slice(0, j, end).unsqueeze(0), x, y.slice(0, j, end).t());
    parts.push_back(std::get<0>((best.unsqueeze(1) - scores).min(0)));
  }
  return torch::cat(parts).to(torch::kFloat64);
}

// Sums the weights of equal keys: (unique keys, summed weights).
std::pair<torch::Tensor, torch::Tensor> sum_by_key(const torch::Tensor& keys, const torch::Tensor& weights) {
  auto [unique, inverse, counts] = torch::_unique2(keys, true, true, false);
  return {unique, torch::zeros({unique.size(0)}, torch::kFloat64).index_add_(0, inverse, weights)};
}

// One iteration's Monte-Carlo statistics.
struct Measurement {
  torch::Tensor mu;          // float64 [N]: cell measures
  torch::Tensor pairs;       // int64 [E]: i·N + j (i < j) for cells that were a point's top two within the band
  torch::Tensor pair_count;  // float64 [E]: how often
  torch::Tensor deficit;     // float64 [N] when asked for: deficits() over the first batch
  double band = 0;           // δ: the 10 % quantile of the gaps
  double median_gap = 0;
};

double kth_gap(const torch::Tensor& gaps, double q) {
  const int64_t k = std::clamp<int64_t>(int64_t(q * double(gaps.size(0))), 1, gaps.size(0));
  return std::get<0>(torch::kthvalue(gaps, k)).item<double>();
}

Measurement measure(const torch::Tensor& y, const torch::Tensor& h, SourceKind source, int64_t n, at::Generator& gen,
                    int64_t source_batch, int64_t target_chunk, bool want_deficit) {
  const int64_t cells = y.size(0);
  auto hf = h.to(torch::kFloat32);
  Measurement m;
  auto counts = torch::zeros({cells}, torch::kFloat64);
  std::vector<torch::Tensor> pairs;
  for (int64_t done = 0; done < n; done += source_batch) {
    const int64_t b = std::min(source_batch, n - done);
    auto x = sample_source(source, b, y.size(1), gen);
    auto t = top_two(x, y, hf, target_chunk);
    if (done == 0) {
      // The band and the trust region from the first batch (up to 10,000 points): the gaps' scale.
      m.median_gap = kth_gap(t.gap, 0.5);
      m.band = kth_gap(t.gap, 0.1);
      if (!(m.band > 0)) m.band = m.median_gap > 0 ? 0.1 * m.median_gap : 1e-12;
      if (want_deficit) m.deficit = deficits(x, y, hf, t.best, target_chunk);
    }
    counts += torch::bincount(t.first, {}, cells).to(torch::kFloat64);
    auto close = t.gap < float(m.band);
    auto i = t.first.masked_select(close), j = t.second.masked_select(close);
    pairs.push_back(torch::minimum(i, j) * cells + torch::maximum(i, j));
  }
  m.mu = counts / double(n);
  auto keys = torch::cat(pairs);
  std::tie(m.pairs, m.pair_count) = sum_by_key(keys, torch::ones({keys.size(0)}, torch::kFloat64));
  return m;
}

// The Hessian of the energy as a weighted graph Laplacian: (L v)_i = Σ_j w_ij (v_i − v_j), with w_ij the source
// mass per unit score on the facet between cells i and j. Its weights are read off the samples: a pair (i, j)
// is a point's top two with a gap below δ with probability 2 δ w_ij (a slab on either side of the facet).
struct Laplacian {
  torch::Tensor i, j, w;  // edges
  torch::Tensor diag;     // Σ_j w_ij
  double ridge = 0;       // added to the diagonal: keeps the solve defined for cells without edges

  torch::Tensor apply(const torch::Tensor& v) const {
    auto out = (diag + ridge) * v;
    out.index_add_(0, i, -w * v.index_select(0, j));
    out.index_add_(0, j, -w * v.index_select(0, i));
    return out;
  }
  // Conjugate gradients preconditioned by the diagonal: an approximate L⁻¹ rhs (rhs sums to zero).
  torch::Tensor solve(const torch::Tensor& rhs, int max_iter = 200, double tolerance = 1e-3) const {
    auto inv = 1.0 / (diag + ridge);
    auto x = torch::zeros_like(rhs), r = rhs.clone(), z = inv * r, p = z.clone();
    double rz = r.dot(z).item<double>();
    const double stop = tolerance * tolerance * rhs.dot(rhs).item<double>();
    for (int k = 0; k < max_iter && rz > 0; ++k) {
      auto ap = apply(p);
      const double alpha = rz / p.dot(ap).item<double>();
      x.add_(p, alpha);
      r.sub_(ap, alpha);
      if (r.dot(r).item<double>() < stop) break;
      z = inv * r;
      const double next = r.dot(z).item<double>();
      p = z + (next / rz) * p;
      rz = next;
    }
    return x;
  }
};

// ‖g‖² of a Monte-Carlo gradient g = mû − ν from n samples carries the multinomial noise Σ mu_i (1 − mu_i) / n
// on average; removing it estimates the true ‖g‖², and `bound` adds two standard deviations of that estimate.
struct GradientEstimate {
  double measured = 0, noise = 0, estimate = 0, bound = 0;
};

GradientEstimate estimate_gradient(const torch::Tensor& mu, const torch::Tensor& g, int64_t n) {
  GradientEstimate e;
  const double nn = double(n);
  const double sq = g.pow(2).sum().item<double>();
  const double mu2 = mu.pow(2).sum().item<double>();
  const double noise = std::max(0.0, 1.0 - mu2) / nn;
  const double sd = std::sqrt(2.0 * mu2) / nn + 2.0 * std::sqrt((g.pow(2) * mu).sum().item<double>() / nn);
  e.measured = std::sqrt(sq);
  e.noise = std::sqrt(noise);
  e.estimate = std::sqrt(std::max(0.0, sq - noise));
  e.bound = std::sqrt(std::max(0.0, sq - noise + 2.0 * sd));
  return e;
}

// Starting heights: the cells of h_i = −<m, y_i> − |y_i − ȳ|² / (2 s) are the Voronoi cells of the points
// m + (y_i − ȳ) / s (m the source mean), i.e. of the targets moved onto the source; s = ∞ leaves only the mean
// term, so that no target wins by its offset alone. The scale s with the most even cells on a pilot sample is
// taken from a geometric grid around the one that matches the two spreads (low dimensions want about that one,
// high dimensions a larger one: there the source's spread favours long targets).
torch::Tensor initial_heights(const torch::Tensor& y, SourceKind source, at::Generator& gen, int64_t target_chunk) {
  const int64_t n = y.size(0), d = y.size(1);
  auto yd = y.to(torch::kFloat64);
  auto offset = source == SourceKind::Uniform ? -0.5 * yd.sum(1) : torch::zeros({n}, torch::kFloat64);
  auto spread = (yd - yd.mean(0)).pow(2).sum(1);
  const double radius = std::sqrt(spread.mean().item<double>());
  if (!(radius > 0)) return offset;
  const double source_sd = source == SourceKind::Uniform ? std::sqrt(1.0 / 12.0) : 1.0;
  const double matched = radius / (source_sd * std::sqrt(double(d)));
  auto x = sample_source(source, std::clamp<int64_t>(10 * n, 1000, 20000), d, gen);
  torch::Tensor best = offset;
  double best_error = std::numeric_limits<double>::infinity();
  for (int k = -3; k <= 10; ++k) {
    auto h = k == 10 ? offset : offset - spread / (2 * matched * std::pow(2.0, k));
    auto mu = torch::bincount(assign_cells(x, y, h, target_chunk), {}, n).to(torch::kFloat64) / double(x.size(0));
    const double error = (mu - 1.0 / double(n)).pow(2).sum().item<double>();
    if (error < best_error) {
      best_error = error;
      best = h;
    }
  }
  return best - best.mean();
}

}  // namespace

SemiDiscreteResult solve_semidiscrete(const torch::Tensor& targets, const SemiDiscreteOptions& o,
                                      const std::function<void(const SemiDiscreteStep&)>& on_step,
                                      const std::atomic<bool>* cancel) {
  if (targets.dim() != 2 || targets.size(0) < 1) fail("semi-discrete OT needs a target matrix [N, d]");
  auto start = std::chrono::steady_clock::now();
  const int64_t n = targets.size(0);
  auto y = targets.to(torch::kFloat32).contiguous();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  SemiDiscreteResult r;
  r.h = torch::zeros({n}, torch::kFloat64);
  if (n == 1) {  // one cell holds everything
    r.converged = true;
    return r;
  }
  const bool adam = o.lr > 0;
  const double nu = 1.0 / double(n);
  auto h = initial_heights(y, o.source, gen, o.target_chunk);
  int64_t samples = o.samples_per_iter > 0 ? o.samples_per_iter : 10 * n;
  // More samples than the stopping test can use are not drawn (its noise term is about 1/samples).
  const int64_t max_samples = std::max(samples, int64_t(std::min(4.0 / (o.grad_threshold * o.grad_threshold), 1e9)));
  auto m = torch::zeros_like(h), v = torch::zeros_like(h);        // Adam's moments
  torch::Tensor edges = torch::zeros({0}, torch::kInt64);         // the Hessian's edges seen so far ...
  torch::Tensor edge_count = torch::zeros({0}, torch::kFloat64);  // ... their running counts ...
  double band_mass = 0;                                           // ... and the running 2 δ n they divide by
  int64_t empty = 1;                                              // empty cells at the last measurement
  double lr = o.lr, best = std::numeric_limits<double>::infinity(), best_bound = best;
  int bad = 0;
  r.h = h.clone();
  r.grad_norm = r.grad_estimate = best;
  for (int it = 1; it <= o.max_iter; ++it) {
    if (cancel && cancel->load()) break;
    Measurement meas;
    if (adam)
      meas.mu = cell_measures(y, h, o.source, samples, gen, o.source_batch, o.target_chunk);
    else
      meas = measure(y, h, o.source, samples, gen, o.source_batch, o.target_chunk, empty > 0);
    auto g = meas.mu - nu;
    const auto est = estimate_gradient(meas.mu, g, samples);
    empty = (meas.mu == 0).sum().item<int64_t>();
    const bool done = est.bound < o.grad_threshold && empty == 0;
    r.iterations = it;
    if (done || est.bound < best_bound) {
      // The gradient was measured at the current h (before this step's update): that is the h to keep.
      best_bound = est.bound;
      r.h = h.clone();
      r.grad_norm = est.measured;
      r.grad_estimate = est.estimate;
      r.noise = est.noise;
      r.samples = samples;
      r.empty_cells = empty;
    }
    if (done) {
      r.converged = true;
      if (on_step) on_step({it, est.measured, est.estimate, empty, samples, 0.0});
      break;
    }
    auto before = h.clone();
    const int64_t used = samples;
    if (adam) {
      // The released update: Adam without bias correction, refined on a plateau of the measured ‖g‖.
      if (est.measured < best) {
        best = est.measured;
        bad = 0;
      } else {
        ++bad;
      }
      m.mul_(0.9).add_(g, 0.1);
      v.mul_(0.999).addcmul_(g, g, 0.001);
      h.sub_(lr * m / (v.sqrt() + 1e-8));
      if (bad > o.patience && r.doublings < o.max_doublings) {
        samples *= 2;
        lr *= 0.8;
        ++r.doublings;
        bad = 0;
        best = std::numeric_limits<double>::infinity();
      }
    } else {
      // Damped Newton: half the step −L⁻¹ g, with the Laplacian's counts averaged over the last iterations
      // (weights halving), each height's move capped at the median gap (larger steps oscillate in 2-D, where
      // the Laplacian is ill-conditioned and its estimate noisy). An empty cell has no edges; it is raised
      // instead to where it just wins at one of the first batch's points.
      std::tie(edges, edge_count) =
          sum_by_key(torch::cat({edges, meas.pairs}), torch::cat({0.5 * edge_count, meas.pair_count}));
      auto kept = edge_count > 0.01;
      edges = edges.masked_select(kept);
      edge_count = edge_count.masked_select(kept);
      band_mass = 0.5 * band_mass + 2.0 * meas.band * double(samples);
      Laplacian lap{edges.div(n, "floor"), edges.remainder(n), edge_count / band_mass, {}, 0};
      lap.diag = torch::zeros({n}, torch::kFloat64).index_add_(0, lap.i, lap.w).index_add_(0, lap.j, lap.w);
      lap.ridge = std::max(1e-3 * lap.diag.mean().item<double>(), 1e-300);
      // The measured g is the true one plus sampling noise: scaling it by signal / (signal + noise) (in power)
      // keeps a noisy Hessian estimate from fitting the noise.
      const double signal = est.estimate * est.estimate, noise = est.noise * est.noise;
      auto step = (0.5 * signal / (signal + noise) * lap.solve(-g)).clamp(-meas.median_gap, meas.median_gap);
      if (meas.deficit.defined()) step = torch::where(meas.mu == 0, meas.deficit + meas.band, step);
      h.add_(step);
      if (est.estimate <= est.noise && samples < max_samples) {
        // At least twice as many, or enough for the noise to fall to the gradient's size (at most 16 times).
        const double ratio = est.noise / std::max(est.estimate, 0.25 * est.noise);
        samples = std::min(int64_t(double(samples) * std::max(2.0, ratio * ratio)), max_samples);
        ++r.doublings;
      }
    }
    h.sub_(h.mean());  // h is defined up to a constant
    if (on_step)
      on_step({it, est.measured, est.estimate, empty, used, (h - before).pow(2).mean().sqrt().item<double>()});
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace otcs::ot
