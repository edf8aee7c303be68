#include "core/metrics/image_metrics.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::metrics {
namespace {

// [H, W] or [H, W, C] -> float64 [1, C, H, W]
torch::Tensor as_nchw(const torch::Tensor& t) {
  auto x = t.detach().to(torch::kCPU, torch::kFloat64);
  if (x.dim() == 2) x = x.unsqueeze(2);
  if (x.dim() != 3) throw UserError("image metrics need [H, W] or [H, W, C] images");
  return x.permute({2, 0, 1}).unsqueeze(0).contiguous();
}

void check_same(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes())
    fail("images differ in size: {} vs {}", fmt::join(a.sizes().vec(), "×"), fmt::join(b.sizes().vec(), "×"));
}

// Separable normalised Gaussian filtering of each channel, valid region only.
torch::Tensor filter_valid(const torch::Tensor& x, const torch::Tensor& g) {
  int64_t c = x.size(1), k = g.numel();
  auto gv = g.view({1, 1, k, 1}).expand({c, 1, k, 1}).contiguous();
  auto gh = g.view({1, 1, 1, k}).expand({c, 1, 1, k}).contiguous();
  namespace F = torch::nn::functional;
  auto y = F::conv2d(x, gv, F::Conv2dFuncOptions().groups(c));
  return F::conv2d(y, gh, F::Conv2dFuncOptions().groups(c));
}

torch::Tensor ssim_map_nchw(const torch::Tensor& x, const torch::Tensor& y, const SsimOptions& o) {
  if (x.size(2) < o.window || x.size(3) < o.window)
    fail("SSIM needs images of at least {0}×{0} pixels (got {1}×{2})", o.window, x.size(2), x.size(3));
  auto r = torch::arange(o.window, torch::kFloat64) - (o.window - 1) / 2.0;
  auto g = torch::exp(-(r * r) / (2 * o.sigma * o.sigma));
  g = g / g.sum();
  double c1 = std::pow(o.k1 * o.data_range, 2), c2 = std::pow(o.k2 * o.data_range, 2);
  auto mx = filter_valid(x, g), my = filter_valid(y, g);
  auto sxx = filter_valid(x * x, g) - mx * mx;
  auto syy = filter_valid(y * y, g) - my * my;
  auto sxy = filter_valid(x * y, g) - mx * my;
  return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
}

}  // namespace

torch::Tensor ssim_map(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options) {
  check_same(a, b);
  return ssim_map_nchw(as_nchw(a), as_nchw(b), options).squeeze(0);
}

double ssim(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options) {
  // Mean over each channel's map, then over channels (equal-sized maps, so the plain mean is the same).
  return ssim_map(a, b, options).mean().item<double>();
}

double psnr(const torch::Tensor& a, const torch::Tensor& b, double data_range) {
  check_same(a, b);
  double mse = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).pow(2).mean().item<double>();
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

torch::Tensor ssim_batch(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options) {
  check_same(a, b);
  auto m = ssim_map_nchw(a.to(torch::kFloat64), b.to(torch::kFloat64), options);
  return m.flatten(1).mean(1);
}

torch::Tensor psnr_batch(const torch::Tensor& a, const torch::Tensor& b, double data_range) {
  check_same(a, b);
  auto mse = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).pow(2).flatten(1).mean(1);
  return 10.0 * torch::log10(data_range * data_range / mse);
}

}  // namespace otcs::metrics
