#pragma once
// The compatibility matrix H as a heatmap rendered at screen resolution from the sparse data: on every zoom, pan
// or resize a max-pooled grid for the visible window is built off the GUI thread (QtConcurrent) and swapped in,
// so isolated entries stay visible and a million non-zeros never stall the UI. Threshold, log colour, row and
// column sorting, hover (i, j, H), and click to inspect a row and a column.
#include <QFutureWatcher>
#include <QWidget>
#include <memory>
#include <utility>

#include "widgets/figureexport.h"
#include "widgets/sparsegrid.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QTimer;
class QCPColorMap;
class QCPColorMapData;
class QCPColorScale;

namespace otcs {

class StyledPlot;

class HeatmapView : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit HeatmapView(QWidget* parent = nullptr);
  ~HeatmapView() override;

  void setMatrix(std::shared_ptr<const SparseMatrixData> matrix);
  std::shared_ptr<const SparseMatrixData> matrix() const { return matrix_; }
  void setThreshold(double threshold);
  double threshold() const { return threshold_; }
  void setLogColor(bool on);
  bool logColor() const { return log_color_; }
  void setSort(RowSort rows, ColumnSort cols);
  const MatrixOrder& order() const { return order_; }
  const MatrixDiagnostics& diagnostics() const { return diagnostics_; }
  void resetView();
  // Shows the display window [colBegin, colEnd) x [rowBegin, rowEnd).
  void setWindow(double colBegin, double colEnd, double rowBegin, double rowEnd);

  StyledPlot* plot() const { return plot_; }
  // The grid currently drawn (tests: what the user sees).
  const PooledGrid& shownGrid() const { return grid_; }
  bool isBusy() const;  // a pooling job is running or queued
  // Original (row, col) under a widget pixel; false outside the matrix.
  bool cellAt(const QPointF& pixel, qint64* row, qint64* col) const;
  QString hoverText() const { return hover_text_; }
  void hoverAt(const QPointF& pixel);

  // FigureSource: the current view; CSV of the stored entries inside the visible window.
  QString figureName() const override { return "H"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 signals:
  void cellClicked(qint64 row, qint64 col);
  void gridUpdated();
  void hovered(const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  // The colour-map data is built on the worker and adopted by the map without a copy; the holder frees it
  // when no one adopted it (a superseded job, or the view closing while a job runs).
  struct MapDataHolder {
    QCPColorMapData* data = nullptr;
    ~MapDataHolder();
    QCPColorMapData* release() { return std::exchange(data, nullptr); }
  };
  struct Job {
    quint64 generation = 0;
    MatrixOrder order;
    PooledGrid grid;
    std::shared_ptr<MapDataHolder> map;
    bool hasDiagnostics = false;
    MatrixDiagnostics diagnostics;
  };
  void scheduleRebuild();
  void startJob();
  void jobFinished();
  void updateColorRange();

  StyledPlot* plot_ = nullptr;
  QCPColorMap* map_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  QDoubleSpinBox* threshold_box_ = nullptr;
  QCheckBox* log_box_ = nullptr;
  QComboBox* row_sort_ = nullptr;
  QComboBox* col_sort_ = nullptr;
  QLabel* info_ = nullptr;
  QTimer* debounce_ = nullptr;
  QFutureWatcher<Job> watcher_;

  std::shared_ptr<const SparseMatrixData> matrix_;
  MatrixOrder order_;
  bool order_valid_ = false;
  MatrixDiagnostics diagnostics_;
  bool diagnostics_valid_ = false;
  PooledGrid grid_;
  double threshold_ = 0.0;
  bool log_color_ = false;
  RowSort row_sort_mode_ = RowSort::Original;
  ColumnSort col_sort_mode_ = ColumnSort::Original;
  quint64 generation_ = 0;
  bool pending_ = false;
  QString hover_text_;
  QPointF press_pos_;
};

}  // namespace otcs
