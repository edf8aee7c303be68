#include "core/imaging/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/imaging/image.h"

namespace otcs::imaging {
namespace {

const Color kPalette[] = {{0, 114, 178}, {213, 94, 0},   {0, 158, 115},  {204, 121, 167},
                          {230, 159, 0}, {86, 180, 233}, {240, 228, 66}, {0, 0, 0}};

cv::Scalar bgr(Color c) { return cv::Scalar(c.b, c.g, c.r); }

// "Nice" tick positions covering [lo, hi] (Heckbert's labelling).
std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  std::vector<double> ticks;
  if (!(hi > lo)) return ticks;
  double range = hi - lo;
  double rough = range / target;
  double mag = std::pow(10.0, std::floor(std::log10(rough)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (rough <= step) break;
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

// Ticks for a log10 axis given in log units: 1-2-5 per decade over a wide range, plain nice values over a narrow one
// (so labels read 0.15, 0.2, 0.3 rather than 10^-0.8 = 0.158489).
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> out;
  if (!(hi > lo)) return out;
  if (hi - lo < 1.0) {
    for (double t : nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 5))
      if (t > 0) out.push_back(std::log10(t));
    return out;
  }
  const std::vector<double> mult = hi - lo <= 3 ? std::vector<double>{1, 2, 5} : std::vector<double>{1};
  const int step = hi - lo > 8 ? int(std::ceil((hi - lo) / 8)) : 1;
  for (int k = int(std::floor(lo)); k <= int(std::ceil(hi)); ++k) {
    if ((k % step) != 0) continue;
    for (double m : mult) {
      double t = std::log10(m) + k;
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push_back(t);
    }
  }
  return out;
}

std::string tick_label(double v) {
  double a = std::abs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-3)) return fmt::format("{:.0e}", v);
  return fmt::format("{:g}", std::round(v * 1e6) / 1e6);
}

void blend_layer(cv::Mat& canvas, const cv::Mat& layer, const cv::Mat& mask, double alpha) {
  cv::Mat mixed;
  cv::addWeighted(layer, alpha, canvas, 1.0 - alpha, 0.0, mixed);
  mixed.copyTo(canvas, mask);
}

}  // namespace

Color palette(int index) { return kPalette[((index % 8) + 8) % 8]; }

Plot::Plot(int width, int height) : width_(width), height_(height) {}
Plot& Plot::title(std::string t) {
  title_ = std::move(t);
  return *this;
}
Plot& Plot::xlabel(std::string t) {
  xlabel_ = std::move(t);
  return *this;
}
Plot& Plot::ylabel(std::string t) {
  ylabel_ = std::move(t);
  return *this;
}
Plot& Plot::log_y(bool on) {
  log_y_ = on;
  return *this;
}
Plot& Plot::equal_aspect(bool on) {
  equal_aspect_ = on;
  return *this;
}
Plot& Plot::limits(double x0, double x1, double y0, double y1) {
  limits_ = {x0, x1, y0, y1};
  has_limits_ = true;
  return *this;
}

Plot& Plot::scatter(const std::vector<double>& x, const std::vector<double>& y, Color c, double radius,
                    std::string label, double alpha) {
  series_.push_back({Series::kScatter, x, y, {}, {}, c, radius, alpha, std::move(label)});
  return *this;
}
Plot& Plot::line(const std::vector<double>& x, const std::vector<double>& y, Color c, double width, std::string label,
                 double alpha) {
  series_.push_back({Series::kLine, x, y, {}, {}, c, width, alpha, std::move(label)});
  return *this;
}
Plot& Plot::segments(const std::vector<double>& x0, const std::vector<double>& y0, const std::vector<double>& x1,
                     const std::vector<double>& y1, Color c, double width, std::string label, double alpha) {
  series_.push_back({Series::kSegments, x0, y0, x1, y1, c, width, alpha, std::move(label)});
  return *this;
}
Plot& Plot::markers(const std::vector<double>& x, const std::vector<double>& y, Color c, double size,
                    std::string label) {
  series_.push_back({Series::kMarkers, x, y, {}, {}, c, size, 1.0, std::move(label)});
  return *this;
}
Plot& Plot::field(const torch::Tensor& values, double x0, double x1, double y0, double y1, std::string bar_label,
                  bool log_scale) {
  field_ = values.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  field_rect_ = {x0, x1, y0, y1};
  bar_label_ = std::move(bar_label);
  field_log_ = log_scale;
  return *this;
}

torch::Tensor Plot::render() const {
  cv::Mat canvas(height_, width_, CV_8UC3, cv::Scalar(255, 255, 255));
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const double fs = 0.42;
  const bool bar = field_.defined();
  const int left = 64, right = bar ? 90 : 18, top = title_.empty() ? 16 : 34, bottom = 48;
  cv::Rect area(left, top, std::max(10, width_ - left - right), std::max(10, height_ - top - bottom));

  // Data limits.
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  auto grow = [&](const std::vector<double>& xs, const std::vector<double>& ys) {
    for (size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
      double yv = log_y_ ? (ys[i] > 0 ? std::log10(ys[i]) : NAN) : ys[i];
      if (!std::isfinite(xs[i]) || !std::isfinite(yv)) continue;
      x0 = std::min(x0, xs[i]);
      x1 = std::max(x1, xs[i]);
      y0 = std::min(y0, yv);
      y1 = std::max(y1, yv);
    }
  };
  if (has_limits_) {
    x0 = limits_[0];
    x1 = limits_[1];
    y0 = log_y_ ? std::log10(std::max(limits_[2], 1e-300)) : limits_[2];
    y1 = log_y_ ? std::log10(std::max(limits_[3], 1e-300)) : limits_[3];
  } else {
    for (const auto& s : series_) {
      grow(s.x, s.y);
      if (s.kind == Series::kSegments) grow(s.x1, s.y1);
    }
    if (bar) grow({field_rect_[0], field_rect_[1]}, {field_rect_[2], field_rect_[3]});
    if (!std::isfinite(x0)) {
      x0 = 0;
      x1 = 1;
      y0 = 0;
      y1 = 1;
    }
    if (x1 - x0 < 1e-12) {
      x0 -= 0.5;
      x1 += 0.5;
    }
    if (y1 - y0 < 1e-12) {
      y0 -= 0.5;
      y1 += 0.5;
    }
    double mx = (x1 - x0) * 0.04, my = (y1 - y0) * 0.05;
    if (!bar) {
      x0 -= mx;
      x1 += mx;
      y0 -= my;
      y1 += my;
    }
  }
  if (equal_aspect_) {
    double sx = (x1 - x0) / area.width, sy = (y1 - y0) / area.height, s = std::max(sx, sy);
    double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    x0 = cx - s * area.width / 2;
    x1 = cx + s * area.width / 2;
    y0 = cy - s * area.height / 2;
    y1 = cy + s * area.height / 2;
  }
  auto px = [&](double x) { return area.x + (x - x0) / (x1 - x0) * area.width; };
  auto py = [&](double y) {
    double v = log_y_ ? (y > 0 ? std::log10(y) : y0) : y;
    return area.y + area.height - (v - y0) / (y1 - y0) * area.height;
  };
  auto pt = [&](double x, double y) { return cv::Point2d(px(x), py(y)); };

  // Scalar field.
  double fmin = 0, fmax = 1;
  if (bar) {
    auto f = field_log_ ? field_.clamp_min(1e-12).log10() : field_;
    auto finite = f.isfinite();
    if (finite.any().item<bool>()) {
      fmin = f.index({finite}).min().item<double>();
      fmax = f.index({finite}).max().item<double>();
    }
    if (fmax - fmin < 1e-12) fmax = fmin + 1;
    auto norm = ((f - fmin) / (fmax - fmin) * 255).clamp(0, 255).nan_to_num(0).to(torch::kUInt8).contiguous();
    cv::Mat gray(int(norm.size(0)), int(norm.size(1)), CV_8U, norm.data_ptr()), colored;
    cv::applyColorMap(gray, colored, cv::COLORMAP_VIRIDIS);
    cv::Point2d a = pt(field_rect_[0], field_rect_[3]), b = pt(field_rect_[1], field_rect_[2]);
    cv::Rect dst(cv::Point(int(std::round(a.x)), int(std::round(a.y))),
                 cv::Point(int(std::round(b.x)), int(std::round(b.y))));
    cv::Rect clipped = dst & area;
    if (clipped.area() > 0) {
      cv::Mat scaled;
      cv::resize(colored, scaled, dst.size(), 0, 0, cv::INTER_NEAREST);
      scaled(cv::Rect(clipped.tl() - dst.tl(), clipped.size())).copyTo(canvas(clipped));
    }
  }

  // Grid and ticks.
  cv::Scalar grid(232, 232, 232), ink(40, 40, 40);
  auto xt = nice_ticks(x0, x1), yt = log_y_ ? log_ticks(y0, y1) : nice_ticks(y0, y1);
  for (double t : xt) {
    int x = int(std::round(px(t)));
    if (!bar) cv::line(canvas, {x, area.y}, {x, area.y + area.height}, grid, 1);
    cv::line(canvas, {x, area.y + area.height}, {x, area.y + area.height + 4}, ink, 1);
    auto label = tick_label(t);
    int base;
    auto size = cv::getTextSize(label, font, fs, 1, &base);
    cv::putText(canvas, label, {x - size.width / 2, area.y + area.height + 18}, font, fs, ink, 1, cv::LINE_AA);
  }
  for (double t : yt) {
    int y = int(std::round(area.y + area.height - (t - y0) / (y1 - y0) * area.height));
    if (!bar) cv::line(canvas, {area.x, y}, {area.x + area.width, y}, grid, 1);
    cv::line(canvas, {area.x - 4, y}, {area.x, y}, ink, 1);
    auto label = log_y_ ? tick_label(std::pow(10.0, t)) : tick_label(t);
    int base;
    auto size = cv::getTextSize(label, font, fs, 1, &base);
    cv::putText(canvas, label, {area.x - 7 - size.width, y + 4}, font, fs, ink, 1, cv::LINE_AA);
  }

  // Series, each blended with its alpha, clipped to the plot area.
  for (const auto& s : series_) {
    cv::Mat layer = canvas.clone(), mask(canvas.size(), CV_8U, cv::Scalar(0));
    auto draw = [&](auto&& fn) {
      fn(layer, bgr(s.color));
      fn(mask, cv::Scalar(255));
    };
    constexpr int shift = 4;  // sub-pixel precision for anti-aliased drawing
    auto fx = [&](cv::Point2d p) { return cv::Point(int(std::lround(p.x * 16)), int(std::lround(p.y * 16))); };
    switch (s.kind) {
      case Series::kScatter:
        draw([&](cv::Mat& m, cv::Scalar c) {
          for (size_t i = 0; i < s.x.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
              cv::circle(m, fx(pt(s.x[i], s.y[i])), int(s.size * 16), c, cv::FILLED, cv::LINE_AA, shift);
        });
        break;
      case Series::kLine:
        draw([&](cv::Mat& m, cv::Scalar c) {
          for (size_t i = 1; i < s.x.size(); ++i)
            if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i]) && (!log_y_ || (s.y[i - 1] > 0 && s.y[i] > 0)))
              cv::line(m, fx(pt(s.x[i - 1], s.y[i - 1])), fx(pt(s.x[i], s.y[i])), c,
                       std::max(1, int(std::round(s.size))), cv::LINE_AA, shift);
        });
        break;
      case Series::kSegments:
        draw([&](cv::Mat& m, cv::Scalar c) {
          for (size_t i = 0; i < s.x.size(); ++i)
            cv::line(m, fx(pt(s.x[i], s.y[i])), fx(pt(s.x1[i], s.y1[i])), c, std::max(1, int(std::round(s.size))),
                     cv::LINE_AA, shift);
        });
        break;
      case Series::kMarkers:
        draw([&](cv::Mat& m, cv::Scalar c) {
          for (size_t i = 0; i < s.x.size(); ++i) {
            cv::Point2d p = pt(s.x[i], s.y[i]);
            std::vector<cv::Point> diamond = {fx({p.x, p.y - s.size}), fx({p.x + s.size, p.y}), fx({p.x, p.y + s.size}),
                                              fx({p.x - s.size, p.y})};
            cv::fillConvexPoly(m, diamond, c, cv::LINE_AA, shift);
          }
        });
        break;
    }
    cv::Mat clip(canvas.size(), CV_8U, cv::Scalar(0));
    clip(area).setTo(255);
    cv::bitwise_and(mask, clip, mask);
    blend_layer(canvas, layer, mask, s.alpha);
    if (s.kind == Series::kMarkers)  // dark outline so keypoints stand out on any background
      for (size_t i = 0; i < s.x.size(); ++i) {
        cv::Point2d p = pt(s.x[i], s.y[i]);
        std::vector<cv::Point> diamond = {fx({p.x, p.y - s.size}), fx({p.x + s.size, p.y}), fx({p.x, p.y + s.size}),
                                          fx({p.x - s.size, p.y})};
        cv::polylines(canvas, diamond, true, cv::Scalar(0, 0, 0), 1, cv::LINE_AA, shift);
      }
  }
  cv::rectangle(canvas, area, ink, 1);

  // Colour bar.
  if (bar) {
    cv::Rect cb(area.x + area.width + 12, area.y, 14, area.height);
    for (int y = 0; y < cb.height; ++y) {
      cv::Mat g(1, 1, CV_8U, cv::Scalar(int(255.0 * (cb.height - 1 - y) / std::max(1, cb.height - 1)))), c;
      cv::applyColorMap(g, c, cv::COLORMAP_VIRIDIS);
      cv::line(canvas, {cb.x, cb.y + y}, {cb.x + cb.width - 1, cb.y + y}, cv::Scalar(c.at<cv::Vec3b>(0, 0)), 1);
    }
    cv::rectangle(canvas, cb, ink, 1);
    int label_right = cb.x + cb.width;
    for (double t : field_log_ ? log_ticks(fmin, fmax) : nice_ticks(fmin, fmax, 5)) {
      int tb;
      label_right = std::max(
          label_right,
          cb.x + cb.width + 4 +
              cv::getTextSize(field_log_ ? tick_label(std::pow(10.0, t)) : tick_label(t), font, 0.36, 1, &tb).width);
      int y = int(std::round(cb.y + cb.height - (t - fmin) / (fmax - fmin) * cb.height));
      cv::putText(canvas, field_log_ ? tick_label(std::pow(10.0, t)) : tick_label(t), {cb.x + cb.width + 4, y + 4},
                  font, 0.36, ink, 1, cv::LINE_AA);
    }
    if (!bar_label_.empty()) {
      // Rotated, beside the tick labels (below the bar it would run off the canvas).
      int tb;
      auto size = cv::getTextSize(bar_label_, font, 0.4, 1, &tb);
      cv::Mat text(size.height + tb + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255)), rotated;
      cv::putText(text, bar_label_, {2, size.height + 1}, font, 0.4, ink, 1, cv::LINE_AA);
      cv::rotate(text, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
      int x = std::min(label_right + 4, width_ - rotated.cols);
      int y = std::max(0, cb.y + (cb.height - rotated.rows) / 2);
      cv::Rect dst(x, y, std::min(rotated.cols, width_ - x), std::min(rotated.rows, height_ - y));
      if (dst.width > 0 && dst.height > 0) rotated(cv::Rect(0, 0, dst.width, dst.height)).copyTo(canvas(dst));
    }
  }

  // Labels, title, legend.
  int base;
  if (!title_.empty()) {
    auto size = cv::getTextSize(title_, font, 0.55, 1, &base);
    cv::putText(canvas, title_, {area.x + (area.width - size.width) / 2, 22}, font, 0.55, ink, 1, cv::LINE_AA);
  }
  if (!xlabel_.empty()) {
    auto size = cv::getTextSize(xlabel_, font, 0.48, 1, &base);
    cv::putText(canvas, xlabel_, {area.x + (area.width - size.width) / 2, height_ - 10}, font, 0.48, ink, 1,
                cv::LINE_AA);
  }
  if (!ylabel_.empty()) {
    auto size = cv::getTextSize(ylabel_, font, 0.48, 1, &base);
    cv::Mat text(size.height + base + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(text, ylabel_, {2, size.height + 1}, font, 0.48, ink, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(text, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
    int y = std::max(0, area.y + (area.height - rotated.rows) / 2);
    cv::Rect dst(2, y, rotated.cols, std::min(rotated.rows, height_ - y));
    rotated(cv::Rect(0, 0, dst.width, dst.height)).copyTo(canvas(dst));
  }
  std::vector<const Series*> labelled;
  for (const auto& s : series_)
    if (!s.label.empty()) labelled.push_back(&s);
  if (!labelled.empty()) {
    int w = 0;
    for (auto* s : labelled) w = std::max(w, cv::getTextSize(s->label, font, 0.4, 1, &base).width);
    cv::Rect box(area.x + area.width - w - 40, area.y + 8, w + 32, int(labelled.size()) * 17 + 8);
    cv::Mat roi = canvas(box);
    cv::Mat white(roi.size(), roi.type(), cv::Scalar(255, 255, 255));
    cv::addWeighted(white, 0.85, roi, 0.15, 0, roi);
    cv::rectangle(canvas, box, cv::Scalar(180, 180, 180), 1);
    for (size_t i = 0; i < labelled.size(); ++i) {
      int y = box.y + 14 + int(i) * 17;
      auto c = bgr(labelled[i]->color);
      if (labelled[i]->kind == Series::kLine || labelled[i]->kind == Series::kSegments)
        cv::line(canvas, {box.x + 5, y - 4}, {box.x + 21, y - 4}, c, 2, cv::LINE_AA);
      else
        cv::circle(canvas, {box.x + 13, y - 4}, 4, c, cv::FILLED, cv::LINE_AA);
      cv::putText(canvas, labelled[i]->label, {box.x + 26, y}, font, 0.4, ink, 1, cv::LINE_AA);
    }
  }
  cv::cvtColor(canvas, canvas, cv::COLOR_BGR2RGB);
  auto out = torch::empty({height_, width_, 3}, torch::kUInt8);
  std::memcpy(out.data_ptr(), canvas.data, size_t(height_) * width_ * 3);
  return out;
}

void Plot::save_png(const std::string& path) const { write_png(path, render()); }

torch::Tensor compose(const std::vector<torch::Tensor>& panels, int columns) {
  if (panels.empty()) return torch::full({1, 1, 3}, 255, torch::kUInt8);
  columns = std::max(1, std::min(columns, int(panels.size())));
  int rows = (int(panels.size()) + columns - 1) / columns;
  int64_t ph = 0, pw = 0;
  for (const auto& p : panels) {
    ph = std::max(ph, p.size(0));
    pw = std::max(pw, p.size(1));
  }
  auto out = torch::full({rows * ph, columns * pw, 3}, 255, torch::kUInt8);
  for (size_t i = 0; i < panels.size(); ++i) {
    int64_t r = int64_t(i) / columns, c = int64_t(i) % columns;
    out.slice(0, r * ph, r * ph + panels[i].size(0)).slice(1, c * pw, c * pw + panels[i].size(1)).copy_(panels[i]);
  }
  return out;
}

torch::Tensor image_grid(const torch::Tensor& images_in, int per_row, int pad, int scale) {
  auto images = images_in.detach().to(torch::kCPU, torch::kFloat32);
  if (images.dim() == 3) images = images.unsqueeze(1);
  int64_t n = images.size(0), c = images.size(1), h = images.size(2) * scale, w = images.size(3) * scale;
  if (scale > 1)
    images =
        torch::nn::functional::interpolate(images, torch::nn::functional::InterpolateFuncOptions()
                                                       .scale_factor(std::vector<double>{double(scale), double(scale)})
                                                       .mode(torch::kNearest));
  if (c == 1) images = images.expand({n, 3, h, w});
  per_row = std::max(1, per_row);
  int64_t rows = (n + per_row - 1) / per_row;
  auto out = torch::full({rows * (h + pad) + pad, per_row * (w + pad) + pad, 3}, 255, torch::kUInt8);
  auto u8 = images.add(1.0).mul(127.5).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1});
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i / per_row, col = i % per_row;
    out.slice(0, pad + r * (h + pad), pad + r * (h + pad) + h)
        .slice(1, pad + col * (w + pad), pad + col * (w + pad) + w)
        .copy_(u8[i]);
  }
  return out;
}

torch::Tensor translation_grid(const torch::Tensor& sources_u8, const std::vector<torch::Tensor>& translations_u8,
                               int64_t per_row, int scale, const std::vector<std::string>& row_labels) {
  if (!row_labels.empty() && row_labels.size() != translations_u8.size() + 1)
    throw std::invalid_argument("translation_grid: one row label for the sources and one per translation set");
  per_row = std::max<int64_t>(1, per_row);
  const int64_t n = sources_u8.size(0), h = sources_u8.size(2), w = sources_u8.size(3);
  int64_t channels = sources_u8.size(1);
  for (const auto& t : translations_u8) channels = std::max(channels, t.size(1));
  // Float [-1, 1] at the sources' size and the most channels of any set, so that every set stacks into one grid.
  auto to_f = [&](const torch::Tensor& u8) {
    auto f = u8.to(torch::kFloat32).div(127.5).sub(1);
    if (f.size(2) != h || f.size(3) != w)
      f = torch::nn::functional::interpolate(
          f, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest));
    return f.size(1) == channels ? f : f.expand({f.size(0), channels, h, w});
  };
  const auto blank = torch::ones({per_row, channels, h, w});
  std::vector<torch::Tensor> rows;
  auto add_row = [&](const torch::Tensor& u8, int64_t from, int64_t len) {
    auto row = to_f(u8.narrow(0, from, len));
    rows.push_back(len < per_row ? torch::cat({row, blank.narrow(0, 0, per_row - len)}) : row);
  };
  for (int64_t r = 0; r < n; r += per_row) {
    const int64_t len = std::min(per_row, n - r);
    add_row(sources_u8, r, len);
    for (const auto& t : translations_u8) add_row(t, r, len);
  }
  const int pad = 2;
  auto grid = image_grid(torch::cat(rows), int(per_row), pad, scale);
  if (row_labels.empty()) return grid;

  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const double fs = 0.5;
  int base = 0, label_w = 0;
  for (const auto& l : row_labels) label_w = std::max(label_w, cv::getTextSize(l, font, fs, 1, &base).width);
  cv::Mat column(int(grid.size(0)), label_w + 12, CV_8UC3, cv::Scalar(255, 255, 255));
  const int64_t row_h = h * scale;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& label = row_labels[r % row_labels.size()];
    const auto size = cv::getTextSize(label, font, fs, 1, &base);
    const int y = int(pad + int64_t(r) * (row_h + pad) + (row_h + size.height) / 2);
    cv::putText(column, label, {label_w + 6 - size.width, y}, font, fs, cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
  }
  auto labels = torch::from_blob(column.data, {column.rows, column.cols, 3}, torch::kUInt8).clone();
  return torch::cat({labels, grid}, 1);
}

}  // namespace otcs::imaging
