#pragma once
// The QCustomPlot every view uses: one look (light grid, readable fonts, a colour cycle that survives
// greyscale printing reasonably), HiDPI-correct buffers (Qt 6 starts QCustomPlot with the wrong device pixel
// ratio, ecosystem.md §3) and cheap interaction (no antialiasing while dragging).
#include <QColor>
#include <QRectF>
#include <QVector>
#include <qcustomplot.h>

namespace otcs {

class StyledPlot : public QCustomPlot {
  Q_OBJECT
 public:
  explicit StyledPlot(QWidget* parent = nullptr);

  // Maps an axis rect's data coordinates to widget pixels: what tests and input helpers need to click on data.
  QPointF dataToPixel(double x, double y) const;
  // Shows `bounds` with a margin; with equal aspect one data unit is as long on both axes (point clouds).
  void fitTo(const QRectF& bounds, double margin = 0.06, bool equalAspect = false);
  static QRectF boundsOf(const QVector<QPointF>& points);

 protected:
  void showEvent(QShowEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  void syncDevicePixelRatio();
  void applyFit();

  // The last fitTo stays in force through resizes (equal aspect depends on the widget's shape) until the user
  // zooms or pans.
  QRectF fit_bounds_;
  double fit_margin_ = 0.06;
  bool fit_equal_ = false;
  bool fit_active_ = false;
};

// Tableau-10, the palette matplotlib users already read fluently.
QColor seriesColor(int index);

}  // namespace otcs
