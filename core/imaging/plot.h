#pragma once
// Raster figures for headless runs (PNG files in a run directory, docs figures): scatter plots, lines, pair
// segments, scalar fields and heatmaps with axes, ticks, labels and a legend. OpenCV draws; no Qt. The GUI has
// its own interactive views; these are the figures a terminal user gets.
#include <array>
#include <string>
#include <vector>

#include <torch/types.h>

namespace otcs::imaging {

struct Color {
  unsigned char r = 0, g = 0, b = 0;
};

// A colour-blind-safe qualitative palette (Okabe–Ito), indexed cyclically.
Color palette(int index);

class Plot {
 public:
  Plot(int width = 720, int height = 540);

  Plot& title(std::string text);
  Plot& xlabel(std::string text);
  Plot& ylabel(std::string text);
  Plot& limits(double x0, double x1, double y0, double y1);  // otherwise from the data, with a margin
  Plot& log_y(bool on = true);
  Plot& equal_aspect(bool on = true);

  Plot& scatter(const std::vector<double>& x, const std::vector<double>& y, Color color, double radius = 2.5,
                std::string label = {}, double alpha = 0.8);
  Plot& line(const std::vector<double>& x, const std::vector<double>& y, Color color, double width = 1.5,
             std::string label = {}, double alpha = 1.0);
  // One segment per i from (x0[i], y0[i]) to (x1[i], y1[i]).
  Plot& segments(const std::vector<double>& x0, const std::vector<double>& y0, const std::vector<double>& x1,
                 const std::vector<double>& y1, Color color, double width = 1.0, std::string label = {},
                 double alpha = 0.6);
  Plot& markers(const std::vector<double>& x, const std::vector<double>& y, Color color, double size = 7,
                std::string label = {});  // outlined diamonds, e.g. keypoints
  // A scalar field on the rectangle [x0, x1] × [y0, y1] (row 0 = top = y1), drawn under everything else with
  // the viridis colour map; a colour bar is added on the right.
  Plot& field(const torch::Tensor& values, double x0, double x1, double y0, double y1, std::string bar_label = {},
              bool log_scale = false);

  // Renders to a uint8 [H, W, 3] RGB tensor.
  torch::Tensor render() const;
  void save_png(const std::string& path) const;

 private:
  struct Series {
    enum Kind { kScatter, kLine, kSegments, kMarkers } kind;
    std::vector<double> x, y, x1, y1;
    Color color;
    double size, alpha;
    std::string label;
  };
  int width_, height_;
  std::string title_, xlabel_, ylabel_, bar_label_;
  bool has_limits_ = false, log_y_ = false, equal_aspect_ = false, field_log_ = false;
  std::array<double, 4> limits_{};
  std::vector<Series> series_;
  torch::Tensor field_;
  std::array<double, 4> field_rect_{};
};

// Places rendered panels (uint8 [H, W, 3]) in a grid, left to right, top to bottom, on white.
torch::Tensor compose(const std::vector<torch::Tensor>& panels, int columns);

// A grid of images: float [N, C, H, W] in [-1, 1] (C = 1 or 3) -> uint8 [H', W', 3], nrow images per row,
// each scaled up by an integer factor.
torch::Tensor image_grid(const torch::Tensor& images, int per_row, int pad = 2, int scale = 1);

// Source images above their translations: uint8 [N, C, H, W] sources and one or more uint8 [N, ...] translation
// sets (one per model), per_row images a row: a row of sources, then that row's translations from each set, and so
// on (a short last row is padded with white). Every image is drawn at the sources' size and scaled up by `scale`.
// With `row_labels` (one for the sources and one per translation set), each row's label stands right-aligned in a
// column on the left.
torch::Tensor translation_grid(const torch::Tensor& sources_u8, const std::vector<torch::Tensor>& translations_u8,
                               int64_t per_row, int scale, const std::vector<std::string>& row_labels = {});

}  // namespace otcs::imaging
