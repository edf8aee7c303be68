#include "core/data/point_cloud.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/points.h"

namespace otcs::data {

PointCloud generate_mixture(const std::vector<MixtureComponent>& components, int64_t n, uint64_t seed) {
  if (components.empty()) fail("a mixture needs at least one component");
  if (n < 1) fail("a mixture needs n >= 1 points (got {})", n);
  const size_t d = components.front().mean.size();
  double total = 0;
  for (const auto& c : components) {
    if (c.mean.size() != d || d == 0) fail("mixture components must all have the same non-zero dimension");
    if (c.std.size() != 1 && c.std.size() != d)
      fail("a component's std has {} values; expected 1 or {}", c.std.size(), d);
    if (!(c.weight > 0)) fail("mixture weights must be > 0 (got {})", c.weight);
    for (double s : c.std)
      if (!(s >= 0)) fail("mixture std values must be >= 0 (got {})", s);
    total += c.weight;
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<torch::Tensor> blocks, labels;
  int64_t used = 0;
  for (size_t k = 0; k < components.size(); ++k) {
    const auto& c = components[k];
    const int64_t count = k + 1 == components.size() ? n - used : int64_t(std::floor(double(n) * c.weight / total));
    used += count;
    auto mean = torch::tensor(c.mean, torch::kFloat64);
    auto std = c.std.size() == 1 ? torch::full({int64_t(d)}, c.std[0], torch::kFloat64)
                                 : torch::tensor(c.std, torch::kFloat64);
    blocks.push_back(mean + std * torch::randn({count, int64_t(d)}, gen, torch::kFloat64));
    labels.push_back(torch::full({count}, int64_t(k), torch::kInt64));
  }
  return {torch::cat(blocks).to(torch::kFloat32), torch::cat(labels)};
}

torch::Tensor read_point_cloud(const std::string& path) {
  return io::read_points(path).to(torch::kFloat32).contiguous();
}

double total_std(const torch::Tensor& points) {
  auto p = points.to(torch::kFloat64);
  return std::sqrt((p - p.mean(0, true)).pow(2).sum(1).mean().item<double>());
}

}  // namespace otcs::data
