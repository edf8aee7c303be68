#include "widgets/styledplot.h"

#include <algorithm>
#include <cmath>

namespace otcs {

QColor seriesColor(int index) {
  static const QRgb colors[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  return QColor(colors[((index % 10) + 10) % 10]);
}

StyledPlot::StyledPlot(QWidget* parent) : QCustomPlot(parent) {
  setNoAntialiasingOnDrag(true);
  setBackground(Qt::white);
  setPlottingHint(QCP::phCacheLabels, true);
  QFont tickFont = font();
  tickFont.setPointSizeF(qMax(8.0, tickFont.pointSizeF() - 1));
  for (QCPAxis* axis : {xAxis, yAxis}) {
    axis->setTickLabelFont(tickFont);
    axis->setBasePen(QPen(QColor(90, 90, 90)));
    axis->setTickPen(QPen(QColor(90, 90, 90)));
    axis->setSubTickPen(QPen(QColor(140, 140, 140)));
    axis->setLabelColor(QColor(40, 40, 40));
    axis->setTickLabelColor(QColor(60, 60, 60));
    axis->grid()->setPen(QPen(QColor(225, 225, 225), 0, Qt::SolidLine));
    axis->grid()->setSubGridPen(QPen(QColor(242, 242, 242), 0, Qt::DotLine));
  }
  axisRect()->setupFullAxesBox(true);
  for (QCPAxis* axis : {xAxis2, yAxis2}) {
    axis->setTickLabels(false);
    axis->setBasePen(QPen(QColor(90, 90, 90)));
    axis->setTickPen(Qt::NoPen);
    axis->setSubTickPen(Qt::NoPen);
  }
  legend->setBrush(QColor(255, 255, 255, 220));
  legend->setBorderPen(QPen(QColor(200, 200, 200)));
  legend->setFont(tickFont);
  setFocusPolicy(Qt::StrongFocus);
}

QPointF StyledPlot::dataToPixel(double x, double y) const {
  return QPointF(xAxis->coordToPixel(x), yAxis->coordToPixel(y));
}

QRectF StyledPlot::boundsOf(const QVector<QPointF>& points) {
  double x0 = qInf(), x1 = -qInf(), y0 = qInf(), y1 = -qInf();
  for (const QPointF& p : points) {
    if (!std::isfinite(p.x()) || !std::isfinite(p.y())) continue;
    x0 = std::min(x0, p.x());
    x1 = std::max(x1, p.x());
    y0 = std::min(y0, p.y());
    y1 = std::max(y1, p.y());
  }
  if (!(x0 <= x1)) return QRectF(qQNaN(), qQNaN(), 0, 0);
  return QRectF(QPointF(x0, y0), QPointF(x1, y1));
}

void StyledPlot::fitTo(const QRectF& bounds, double margin, bool equalAspect) {
  if (!std::isfinite(bounds.x()) || !std::isfinite(bounds.y())) return;
  fit_bounds_ = bounds;
  fit_margin_ = margin;
  fit_equal_ = equalAspect;
  fit_active_ = true;
  applyFit();
}

void StyledPlot::applyFit() {
  const QRectF& b = fit_bounds_;
  const double span = std::max({b.width(), b.height(), 1e-9});
  double w = b.width() + 2 * fit_margin_ * span, h = b.height() + 2 * fit_margin_ * span;
  if (fit_equal_) {
    updateLayout();  // the axis rect's current shape decides which range grows
    const QRect r = axisRect()->rect();
    const double aspect = r.width() > 10 && r.height() > 10 ? double(r.width()) / r.height() : 1.0;
    if (w / h < aspect)
      w = h * aspect;
    else
      h = w / aspect;
  }
  const QPointF c = b.center();
  xAxis->setRange(c.x() - w / 2, c.x() + w / 2);
  yAxis->setRange(c.y() - h / 2, c.y() + h / 2);
  replot(rpQueuedReplot);
}

void StyledPlot::wheelEvent(QWheelEvent* event) {
  fit_active_ = false;
  QCustomPlot::wheelEvent(event);
}

void StyledPlot::mouseMoveEvent(QMouseEvent* event) {
  if (event->buttons() != Qt::NoButton) fit_active_ = false;
  QCustomPlot::mouseMoveEvent(event);
}

void StyledPlot::syncDevicePixelRatio() {
  const double ratio = devicePixelRatioF();
  if (!qFuzzyCompare(bufferDevicePixelRatio(), ratio)) {
    setBufferDevicePixelRatio(ratio);
    replot(rpQueuedReplot);
  }
}

void StyledPlot::showEvent(QShowEvent* event) {
  QCustomPlot::showEvent(event);
  syncDevicePixelRatio();
}

void StyledPlot::resizeEvent(QResizeEvent* event) {
  // Moving to a screen with another scale factor usually resizes the window as well.
  syncDevicePixelRatio();
  QCustomPlot::resizeEvent(event);
  if (fit_active_ && fit_equal_) applyFit();
}

}  // namespace otcs
