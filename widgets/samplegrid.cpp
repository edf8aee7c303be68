#include "widgets/samplegrid.h"

#include <algorithm>
#include <QPainter>
#include <cmath>

namespace otcs {

QVector<int> evenlySpacedIndices(int n, int k) {
  QVector<int> out;
  if (n <= 0) return out;
  k = std::min(k, n);
  if (k == 1) return {n - 1};
  for (int i = 0; i < k; ++i) out.push_back(int(std::lround(double(i) * (n - 1) / (k - 1))));
  return out;
}

QImage sampleToImage(const float* data, const ImageShape& shape) {
  QImage image(shape.width, shape.height, shape.channels == 3 ? QImage::Format_RGB32 : QImage::Format_Grayscale8);
  const int plane = shape.height * shape.width;
  auto byte = [](float v) { return uchar(std::clamp(std::lround((v + 1.0f) * 127.5f), 0L, 255L)); };
  for (int y = 0; y < shape.height; ++y) {
    if (shape.channels == 3) {
      auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
      for (int x = 0; x < shape.width; ++x) {
        const int i = y * shape.width + x;
        line[x] = qRgb(byte(data[i]), byte(data[plane + i]), byte(data[2 * plane + i]));
      }
    } else {
      uchar* line = image.scanLine(y);
      for (int x = 0; x < shape.width; ++x) line[x] = byte(data[y * shape.width + x]);
    }
  }
  return image;
}

SampleGrid::SampleGrid(QWidget* parent) : QWidget(parent) { setMinimumSize(200, 150); }

void SampleGrid::setImages(const QVector<QVector<QImage>>& rows, const QStringList& titles,
                           const QStringList& rowTitles, int highlightColumn) {
  rows_ = rows;
  titles_ = titles;
  row_titles_ = rowTitles;
  highlight_ = highlightColumn;
  update();
}

QSize SampleGrid::sizeHint() const { return QSize(800, 600); }

void SampleGrid::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  if (rows_.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, "No trajectories recorded yet.");
    return;
  }
  const int cols = rows_.first().size();
  const int title_h = fontMetrics().height() + 6;
  int left = 4;
  for (const QString& t : row_titles_) left = std::max(left, fontMetrics().horizontalAdvance(t) + 10);
  const int cell =
      std::max(8, std::min((width() - left - 4) / std::max(1, cols), (height() - title_h - 8) / int(rows_.size())));
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  for (int c = 0; c < cols && c < titles_.size(); ++c) {
    QFont f = font();
    f.setBold(c == highlight_);
    p.setFont(f);
    p.drawText(QRect(left + c * cell, 2, cell, title_h), Qt::AlignCenter, titles_[c]);
  }
  p.setFont(font());
  for (int r = 0; r < rows_.size(); ++r) {
    if (r < row_titles_.size())
      p.drawText(QRect(2, title_h + r * cell, left - 6, cell), Qt::AlignRight | Qt::AlignVCenter, row_titles_[r]);
    for (int c = 0; c < rows_[r].size(); ++c)
      p.drawImage(QRect(left + c * cell + 1, title_h + r * cell + 1, cell - 2, cell - 2), rows_[r][c]);
  }
  if (highlight_ >= 0 && highlight_ < cols) {
    p.setPen(QPen(QColor(214, 39, 40), 2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRect(left + highlight_ * cell, title_h, cell, int(rows_.size()) * cell));
  }
}

}  // namespace otcs
