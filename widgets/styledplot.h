#pragma once
// The QCustomPlot every view uses: one look (light grid, readable fonts, a colour cycle that survives
// greyscale printing reasonably), HiDPI-correct buffers (Qt 6 starts QCustomPlot with the wrong device pixel
// ratio, ecosystem.md §3) and cheap interaction (no antialiasing while dragging).
#include <QColor>
#include <qcustomplot.h>

namespace otcs {

class StyledPlot : public QCustomPlot {
  Q_OBJECT
 public:
  explicit StyledPlot(QWidget* parent = nullptr);

  // Maps an axis rect's data coordinates to widget pixels: what tests and input helpers need to click on data.
  QPointF dataToPixel(double x, double y) const;

 protected:
  void showEvent(QShowEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void syncDevicePixelRatio();
};

// Tableau-10, the palette matplotlib users already read fluently.
QColor seriesColor(int index);

}  // namespace otcs
