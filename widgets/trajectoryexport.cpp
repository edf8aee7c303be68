#include <algorithm>
#include <QPainter>
#include <QStackedWidget>
#include <QTextStream>

#include "widgets/styledplot.h"
#include "widgets/trajectoryplayer.h"

// The Trajectories view's figure export: the shown frame as a figure, every frame for a video, and a strip of
// evenly spaced frames.

namespace otcs {

QSize TrajectoryPlayer::figureSize() const {
  return stack_->currentWidget()->size().isEmpty() || !isVisible() ? QSize(700, 600) : stack_->currentWidget()->size();
}

void TrajectoryPlayer::renderFigure(QCPPainter& painter, const QSize& size) {
  if (stack_->currentWidget() == plot_)
    renderPlot(plot_, painter, size);
  else
    renderWidget(grid_, painter, size);
}

void TrajectoryPlayer::writeFigureCsv(QTextStream& out) const {
  out << "source,sample,frame,step,t,quantity,coordinates\n";
  if (current_ >= trajectories_.size()) return;
  const Trajectory& t = trajectories_[current_];
  for (int k = 0; k < t.frames.size(); ++k)
    for (int s = 0; s < t.count; ++s)
      for (int q = 0; q < 2; ++q) {
        const QVector<float>& v = q == 0 ? t.frames[k].x : t.frames[k].x0;
        if (v.size() < (s + 1) * t.dim) continue;
        out << t.source << ',' << s << ',' << k << ',' << t.frames[k].step << ',' << t.frames[k].t << ','
            << (q == 0 ? "x_t" : "x0");
        // Coordinates as one quoted space-separated field keeps the table rectangular for any dimension.
        out << ",\"";
        for (int d = 0; d < t.dim; ++d) out << (d ? " " : "") << v[s * t.dim + d];
        out << "\"\n";
      }
}

QVector<QImage> TrajectoryPlayer::renderFrames(const QSize& size) {
  QVector<QImage> out;
  const int keep = frame_;
  for (int k = 0; k < frameCount(); ++k) {
    setFrame(k);
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QCPPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setMode(QCPPainter::pmNoCaching);
    renderFigure(painter, size);
    painter.end();
    out.push_back(image);
  }
  setFrame(keep);
  return out;
}

QImage TrajectoryPlayer::renderStrip(int frames, int cellSize) {
  const QVector<int> columns = evenlySpacedIndices(frameCount(), std::max(1, frames));
  if (showingImages()) {
    // Images: the samples x steps grid at those steps, one cell per image.
    const int keep = frame_;
    setFrame(columns.isEmpty() ? 0 : columns.last());
    QVector<QVector<QImage>> rows;
    QStringList titles, row_titles;
    const int row_count = std::max(1, grid_rows_);
    QImage strip(std::max(1, int(columns.size())) * cellSize, row_count * cellSize + 24,
                 QImage::Format_ARGB32_Premultiplied);
    strip.fill(Qt::white);
    QPainter painter(&strip);
    const bool one_path_each =
        std::all_of(trajectories_.begin(), trajectories_.end(), [](const Trajectory& tr) { return tr.count == 1; });
    for (int i = 0; i < columns.size(); ++i) {
      painter.drawText(QRect(i * cellSize, 0, cellSize, 22), Qt::AlignCenter,
                       QString("step %1").arg(trajectories_[current_].frames[columns[i]].step));
      for (int r = 0; r < row_count; ++r) {
        const Trajectory& tr =
            one_path_each ? trajectories_[std::min(r, int(trajectories_.size()) - 1)] : trajectories_[current_];
        const int sample = one_path_each ? 0 : r;
        if (columns[i] >= tr.frames.size()) continue;
        const QVector<float>& v = show_x0_ ? tr.frames[columns[i]].x0 : tr.frames[columns[i]].x;
        if (v.size() < (sample + 1) * tr.dim) continue;
        painter.drawImage(QRect(i * cellSize + 1, 24 + r * cellSize + 1, cellSize - 2, cellSize - 2),
                          sampleToImage(v.constData() + sample * tr.dim, shape_));
      }
    }
    painter.end();
    setFrame(keep);
    return strip;
  }
  QImage strip(std::max(1, int(columns.size())) * cellSize, cellSize + 24, QImage::Format_ARGB32_Premultiplied);
  strip.fill(Qt::white);
  const int keep = frame_;
  QCPPainter painter(&strip);
  painter.setRenderHint(QPainter::Antialiasing);
  for (int i = 0; i < columns.size(); ++i) {
    setFrame(columns[i]);
    if (stack_->currentWidget() == plot_) plot_->replot(QCustomPlot::rpImmediateRefresh);
    painter.save();
    painter.translate(i * cellSize, 0);
    painter.drawText(QRect(0, 0, cellSize, 22), Qt::AlignCenter,
                     QString("step %1").arg(trajectories_[current_].frames[columns[i]].step));
    painter.translate(0, 24);
    painter.setClipRect(QRect(0, 0, cellSize, cellSize));
    renderFigure(painter, QSize(cellSize, cellSize));
    painter.restore();
  }
  painter.end();
  setFrame(keep);
  return strip;
}

}  // namespace otcs
