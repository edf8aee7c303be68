#include "core/imaging/preview.h"

#include <algorithm>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/imaging/image.h"
#include "core/imaging/plot.h"

namespace otcs::imaging {

namespace {

// [K, C, H, W] in [-1, 1] -> one uint8 [H', K * W', C] strip, each image enlarged (nearest) to at least 64 px.
torch::Tensor image_row(const torch::Tensor& images, int64_t scale, int64_t gap) {
  const int64_t k = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  auto big = images.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  auto row = torch::full({c, h * scale, k * (w * scale + gap) - gap}, 1.0f);
  for (int64_t i = 0; i < k; ++i) row.narrow(2, i * (w * scale + gap), w * scale).copy_(big[i]);
  return row;
}

}  // namespace

void write_preview_png(const std::string& path, const session::PreviewFrame& f) {
  if (f.images) {
    const auto& s = f.shape;  // [K, C, H, W]
    auto sources = torch::tensor(f.sources).view(s);
    auto samples = torch::tensor(f.samples).view(s);
    const int64_t scale = std::max<int64_t>(1, (64 + s[2] - 1) / s[2]), gap = 4;
    auto top = image_row(sources, scale, gap), bottom = image_row(samples, scale, gap);
    auto spacer = torch::full({s[1], 2 * gap, top.size(2)}, 1.0f);
    auto grid = torch::cat({top, spacer, bottom}, 1);
    write_png(path, to_uint8_hwc(grid.clamp(-1, 1)));
    return;
  }
  const int64_t k = f.shape[0], p = f.shape[1], d = f.shape[2];
  Plot plot(640, 520);
  plot.title(fmt::format("samples per source at step {}", f.step)).xlabel("y1").ylabel("y2").equal_aspect();
  std::vector<double> tx, ty;
  for (size_t i = 0; i + 1 < f.target.size(); i += size_t(d)) {
    tx.push_back(f.target[i]);
    ty.push_back(f.target[i + 1]);
  }
  plot.scatter(tx, ty, Color{200, 200, 200}, 1.5, "target", 0.6);
  for (int64_t s = 0; s < k; ++s) {
    std::vector<double> x, y;
    for (int64_t j = 0; j < p; ++j) {
      const size_t at = size_t((s * p + j) * d);
      x.push_back(f.samples[at]);
      y.push_back(f.samples[at + 1]);
    }
    plot.scatter(x, y, palette(int(s)), 2.5, s == 0 ? "samples" : std::string(), 0.85);
    plot.markers({double(f.sources[size_t(s * d)])}, {double(f.sources[size_t(s * d + 1)])}, palette(int(s)), 8,
                 s == 0 ? "source" : std::string());
  }
  plot.save_png(path);
}

}  // namespace otcs::imaging
