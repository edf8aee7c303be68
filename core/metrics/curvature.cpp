#include "core/metrics/curvature.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace otcs::metrics {

double trajectory_curvature(const std::vector<double>& t, const std::vector<torch::Tensor>& x) {
  if (t.size() != x.size() || t.size() < 2)
    throw std::invalid_argument("trajectory_curvature: need matching times and states, at least 2 of each");
  const double span = t.back() - t.front();
  if (span == 0) throw std::invalid_argument("trajectory_curvature: the path starts and ends at the same time");
  const int64_t b = x.front().size(0);
  auto flat = [&](size_t k) { return x[k].reshape({b, -1}).to(torch::kFloat64); };
  auto chord = (flat(x.size() - 1) - flat(0)) / span;
  auto chord_sq = chord.pow(2).sum(1).clamp_min(1e-300);
  auto total = torch::zeros({b}, torch::kFloat64);
  for (size_t k = 0; k + 1 < t.size(); ++k) {
    const double dt = t[k + 1] - t[k];
    if (dt == 0) throw std::invalid_argument("trajectory_curvature: two consecutive states at the same time");
    auto v = (flat(k + 1) - flat(k)) / dt;
    total += (std::abs(dt) / std::abs(span)) * (v - chord).pow(2).sum(1) / chord_sq;
  }
  return total.mean().item<double>();
}

}  // namespace otcs::metrics
