#include "core/imaging/confusion_figure.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

namespace otcs::imaging {

namespace {

// A sequential white-to-blue map (ColorBrewer "Blues"): light cells for small shares, so the annotations stay
// readable on every cell. BGR for OpenCV.
cv::Scalar blues(double f) {
  static const double stops[5][3] = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  f = std::clamp(f, 0.0, 1.0) * 4.0;
  const int i = std::min(3, int(f));
  const double w = f - i;
  auto mix = [&](int k) { return stops[i][k] * (1 - w) + stops[i + 1][k] * w; };
  return cv::Scalar(mix(2), mix(1), mix(0));
}

const cv::Scalar kInk(40, 40, 40);
const cv::Scalar kExpected(0, 94, 213);  // Okabe-Ito vermillion (BGR), the palette's second colour
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

int text_width(const std::string& text, double scale) {
  int base = 0;
  return cv::getTextSize(text, kFont, scale, 1, &base).width;
}

// `text` centred horizontally on x with its baseline at y.
void centred(cv::Mat& canvas, const std::string& text, int x, int y, double scale, const cv::Scalar& colour,
             int thickness = 1) {
  int base = 0;
  const auto size = cv::getTextSize(text, kFont, scale, thickness, &base);
  cv::putText(canvas, text, {x - size.width / 2, y}, kFont, scale, colour, thickness, cv::LINE_AA);
}

}  // namespace

torch::Tensor confusion_figure(const metrics::ConfusionMatrix& m, const std::string& title) {
  const int nr = std::max<int>(1, int(m.rows.size())), nc = std::max<int>(1, int(m.columns.size()));
  const int cell = std::clamp(600 / std::max(nr, nc), 46, 110);
  const double label_scale = 0.5, cell_scale = std::clamp(cell / 190.0, 0.36, 0.58);
  int row_label_w = 0;
  for (int64_t r : m.rows) row_label_w = std::max(row_label_w, text_width(std::to_string(r), label_scale));
  std::vector<std::string> accuracy_text;
  int accuracy_w = text_width("row accuracy", 0.45);
  for (size_t r = 0; r < m.rows.size(); ++r) {
    const int64_t n = m.row_total(r);
    accuracy_text.push_back(n > 0 ? fmt::format("{:.1f}% ({}/{})", 100.0 * m.row_accuracy(r), m.expected_count(r), n)
                                  : "no inputs");
    accuracy_w = std::max(accuracy_w, text_width(accuracy_text.back(), 0.45));
  }
  int left = 34 + row_label_w + 10;
  const int top = (title.empty() ? 12 : 42) + 22;
  const int grid_w = nc * cell, grid_h = nr * cell;
  const int right = 16 + accuracy_w + 16, bottom = 84;
  const int needed = left + grid_w + right;
  int width = needed;
  if (!title.empty()) width = std::max(width, text_width(title, 0.55) + 24);
  const std::string caption = "cells: share of the source class (count below); outlined: the class it should become";
  width = std::max(width, text_width(caption, 0.4) + 24);
  left += (width - needed) / 2;  // a title or caption wider than the matrix: the matrix stays centred under it
  const int height = top + grid_h + bottom;
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));

  if (!title.empty()) centred(canvas, title, width / 2, 26, 0.55, kInk);
  for (size_t r = 0; r < m.rows.size(); ++r) {
    const int64_t n = m.row_total(r);
    const int y = top + int(r) * cell;
    for (size_t c = 0; c < m.columns.size(); ++c) {
      const int x = left + int(c) * cell;
      const double f = n > 0 ? double(m.counts[r][c]) / double(n) : 0.0;
      cv::rectangle(canvas, cv::Rect(x, y, cell, cell), blues(f), cv::FILLED);
      const cv::Scalar text = f > 0.55 ? cv::Scalar(255, 255, 255) : kInk;
      const std::string pct = n > 0 ? fmt::format("{:.1f}%", 100.0 * f) : "-";
      const bool two_lines = cell >= 60;
      centred(canvas, pct, x + cell / 2, y + cell / 2 + (two_lines ? -2 : 5), cell_scale, text);
      if (two_lines)
        centred(canvas, std::to_string(m.counts[r][c]), x + cell / 2, y + cell / 2 + 8 + int(22 * cell_scale),
                cell_scale * 0.8, text);
    }
    cv::line(canvas, {left, y}, {left + grid_w, y}, cv::Scalar(255, 255, 255), 1);
    centred(canvas, std::to_string(m.rows[r]), left - 10 - row_label_w / 2, y + cell / 2 + 6, label_scale, kInk);
    cv::putText(canvas, accuracy_text[r], {left + grid_w + 16, y + cell / 2 + 5}, kFont, 0.45, kInk, 1, cv::LINE_AA);
  }
  for (size_t c = 0; c < m.columns.size(); ++c)
    centred(canvas, std::to_string(m.columns[c]), left + int(c) * cell + cell / 2, top + grid_h + 22, label_scale,
            kInk);
  // The expected cells last, so that their outlines lie above the neighbouring fills.
  for (size_t r = 0; r < m.rows.size(); ++r) {
    const int c = m.expected_column(r);
    if (c < 0) continue;
    cv::rectangle(canvas, cv::Rect(left + c * cell + 2, top + int(r) * cell + 2, cell - 4, cell - 4), kExpected, 3);
  }
  cv::rectangle(canvas, cv::Rect(left, top, grid_w, grid_h), kInk, 1);
  cv::putText(canvas, "row accuracy", {left + grid_w + 16, top - 8}, kFont, 0.45, kInk, 1, cv::LINE_AA);
  centred(canvas, "class read by the classifier", left + grid_w / 2, top + grid_h + 50, 0.5, kInk);
  cv::putText(canvas, caption, {12, height - 10}, kFont, 0.4, kExpected, 1, cv::LINE_AA);
  {
    // The rows' axis label, written horizontally and turned a quarter anticlockwise.
    const std::string label = "source class";
    int base = 0;
    const auto size = cv::getTextSize(label, kFont, 0.5, 1, &base);
    cv::Mat text(size.height + base + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255)), turned;
    cv::putText(text, label, {2, size.height + 1}, kFont, 0.5, kInk, 1, cv::LINE_AA);
    cv::rotate(text, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int y = std::max(0, top + (grid_h - turned.rows) / 2);
    const cv::Rect dst(6, y, turned.cols, std::min(turned.rows, height - y));
    turned(cv::Rect(0, 0, dst.width, dst.height)).copyTo(canvas(dst));
  }
  cv::cvtColor(canvas, canvas, cv::COLOR_BGR2RGB);
  auto out = torch::empty({height, width, 3}, torch::kUInt8);
  std::memcpy(out.data_ptr(), canvas.data, size_t(height) * size_t(width) * 3);
  return out;
}

}  // namespace otcs::imaging
