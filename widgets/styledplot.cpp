#include "widgets/styledplot.h"

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
}

}  // namespace otcs
