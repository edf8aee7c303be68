// otcs metrics: image quality numbers between two images (or two .npy arrays).
#include <cmath>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/npy.h"
#include "core/metrics/image_metrics.h"
#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/image.h"
#endif

namespace otcs::cli {
namespace {

torch::Tensor load_any(const std::string& path, double* range) {
  auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") {
    auto t = io::read_npy(path);
    if (!torch::isfinite(t.to(torch::kFloat64)).all().item<bool>()) fail("{}: contains NaN or Inf", path);
    if (t.scalar_type() != torch::kUInt8 && *range <= 0) *range = 255.0;
    return t;
  }
#ifdef OTCS_HAVE_IMAGING
  return imaging::read_image(path);
#else
  fail("{}: this build has no image decoding (OTCS_WITH_OPENCV=OFF); pass .npy arrays", path);
#endif
}

}  // namespace

void register_metrics(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "metrics";
  cmd.summary = "image quality metrics: ssim and psnr between two images";
  cmd.usage = "otcs metrics {ssim,psnr} A B [--data-range L]";
  cmd.description =
      "ssim: Wang et al. (2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, valid region, mean over\n"
      "channels. psnr: 10 log10(L^2 / MSE) in dB (inf for identical images). A and B are PNG/JPEG files (compared\n"
      "as 8-bit, L = 255) or .npy arrays [H, W] or [H, W, C] (L = 255 unless --data-range says otherwise).\n"
      "Prints one number.";
  cmd.options = {{"--data-range", "L", "dynamic range of the pixel values", "255"}};
  cmd.min_positional = 3;
  cmd.max_positional = 3;
  cmd.writes_log = false;
  cmd.run = [](const Args& args) {
    const auto& pos = args.positional();
    const std::string& metric = pos[0];
    if (metric != "ssim" && metric != "psnr") fail("metrics: unknown metric '{}' (use ssim or psnr)", metric);
    double range = args.has("--data-range") ? positive_double(args, "--data-range", 255) : 255.0;
    auto a = load_any(pos[1], &range);
    auto b = load_any(pos[2], &range);
    if (a.sizes() != b.sizes())
      fail("{} is {} but {} is {}: the images must have the same size", pos[1], fmt::join(a.sizes().vec(), "x"), pos[2],
           fmt::join(b.sizes().vec(), "x"));
    if (metric == "ssim") {
      metrics::SsimOptions options;
      options.data_range = range;
      std::cout << fmt::format("{:.6f}\n", metrics::ssim(a, b, options));
    } else {
      double v = metrics::psnr(a, b, range);
      std::cout << (std::isinf(v) ? std::string("inf") : fmt::format("{:.4f}", v)) << "\n";
    }
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
