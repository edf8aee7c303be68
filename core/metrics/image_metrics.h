#pragma once
// Full-reference image quality: PSNR and SSIM exactly as defined by Wang, Bovik, Sheikh & Simoncelli (2004):
// an 11×11 Gaussian window with σ = 1.5 (normalised), K1 = 0.01, K2 = 0.03, statistics over the window
// positions that fit inside the image ("valid"), population (not sample) variances, the mean SSIM map, and
// for colour images the mean over channels (as scikit-image's structural_similarity with
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False does).
#include <torch/types.h>

namespace otcs::metrics {

struct SsimOptions {
  double data_range = 255.0;  // L: 255 for 8-bit images, 2 for images in [-1, 1]
  int window = 11;
  double sigma = 1.5;
  double k1 = 0.01;
  double k2 = 0.03;
};

// a, b: [H, W], [H, W, C] (uint8 or float, HWC as images are read) with equal shapes.
double ssim(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options = {});
// The SSIM map (valid region), float64 [C, H - window + 1, W - window + 1].
torch::Tensor ssim_map(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options = {});

// PSNR in dB for the given data range; +inf for identical images.
double psnr(const torch::Tensor& a, const torch::Tensor& b, double data_range = 255.0);

// Batched versions for [N, C, H, W] tensors (e.g. generated vs ground truth): one value per image.
torch::Tensor ssim_batch(const torch::Tensor& a, const torch::Tensor& b, const SsimOptions& options);
torch::Tensor psnr_batch(const torch::Tensor& a, const torch::Tensor& b, double data_range);

}  // namespace otcs::metrics
