#include "core/metrics/distribution.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::metrics {
namespace {

// Symmetric PSD square root through the eigendecomposition (negative round-off eigenvalues clipped).
torch::Tensor sqrtm_psd(const torch::Tensor& s) {
  auto [evals, evecs] = torch::linalg::eigh(s, "L");
  return evecs.matmul(torch::diag(evals.clamp_min(0).sqrt())).matmul(evecs.t());
}

void check_features(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1))
    fail("feature sets must be [N, D] with the same D (got {} and {} dimensions)", a.dim(), b.dim());
  if (a.size(0) < 2 || b.size(0) < 2) fail("feature sets need at least 2 samples each");
}

}  // namespace

double frechet_distance(const torch::Tensor& a_in, const torch::Tensor& b_in) {
  check_features(a_in, b_in);
  auto a = a_in.to(torch::kFloat64), b = b_in.to(torch::kFloat64);
  auto mu_a = a.mean(0), mu_b = b.mean(0);
  auto ca = a - mu_a, cb = b - mu_b;
  auto sa = ca.t().matmul(ca) / double(a.size(0) - 1), sb = cb.t().matmul(cb) / double(b.size(0) - 1);
  // tr((Sa^½ Sb Sa^½)^½) equals tr((Sa Sb)^½) and stays symmetric, so eigh applies.
  auto ra = sqrtm_psd(sa);
  auto cross = sqrtm_psd(ra.matmul(sb).matmul(ra));
  double d = (mu_a - mu_b).pow(2).sum().item<double>() + sa.trace().item<double>() + sb.trace().item<double>() -
             2.0 * cross.trace().item<double>();
  return std::max(d, 0.0);
}

KidResult kernel_inception_distance(const torch::Tensor& a_in, const torch::Tensor& b_in, int subsets, int subset_size,
                                    uint64_t seed) {
  check_features(a_in, b_in);
  auto a = a_in.to(torch::kFloat64), b = b_in.to(torch::kFloat64);
  int64_t m = std::min<int64_t>({subset_size, a.size(0), b.size(0)});
  double d = double(a.size(1));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<double> values;
  for (int s = 0; s < subsets; ++s) {
    auto x = a.index_select(0, torch::randperm(a.size(0), gen, torch::kInt64).slice(0, 0, m));
    auto y = b.index_select(0, torch::randperm(b.size(0), gen, torch::kInt64).slice(0, 0, m));
    auto kxx = (x.matmul(x.t()) / d + 1).pow(3), kyy = (y.matmul(y.t()) / d + 1).pow(3);
    auto kxy = (x.matmul(y.t()) / d + 1).pow(3);
    double mm = double(m);
    double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (mm * (mm - 1));
    double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (mm * (mm - 1));
    values.push_back(sxx + syy - 2 * kxy.mean().item<double>());
  }
  KidResult r;
  for (double v : values) r.mean += v / double(values.size());
  for (double v : values) r.stddev += (v - r.mean) * (v - r.mean) / double(std::max<size_t>(1, values.size() - 1));
  r.stddev = std::sqrt(r.stddev);
  return r;
}

}  // namespace otcs::metrics
