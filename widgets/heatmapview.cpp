#include "widgets/heatmapview.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QTextStream>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <cmath>

#include "widgets/styledplot.h"

namespace otcs {
namespace {

constexpr int kMaxGrid = 2000;  // QCustomPlot redraws a 2000x2000 map from cache in ~1 ms (ecosystem.md §1d)

// Perceptually uniform and readable in greyscale (viridis), with empty cells transparent over white.
QCPColorGradient viridis() {
  QCPColorGradient g;
  g.clearColorStops();
  const QRgb stops[] = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e,
                        0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
  for (int i = 0; i < 10; ++i) g.setColorStopAt(i / 9.0, QColor(stops[i]));
  g.setNanHandling(QCPColorGradient::nhTransparent);
  return g;
}

// QCustomPlot places cell centres at the ends of the key/value ranges, so a one-cell axis would have no extent;
// such grids are drawn as two identical cells.
QCPColorMapData* makeMapData(const PooledGrid& g) {
  const int kw = std::max(2, g.width), kh = std::max(2, g.height);
  const double c0 = g.colBegin, c1 = g.colEnd > g.colBegin ? g.colEnd : g.colBegin + 1;
  const double r0 = g.rowBegin, r1 = g.rowEnd > g.rowBegin ? g.rowEnd : g.rowBegin + 1;
  const double cw = (c1 - c0) / kw, rh = (r1 - r0) / kh;
  auto* data = new QCPColorMapData(kw, kh, QCPRange(c0 + cw / 2, c1 - cw / 2), QCPRange(r0 + rh / 2, r1 - rh / 2));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int y = 0; y < kh; ++y) {
    const int sy = g.height > 0 ? y * g.height / kh : -1;
    for (int x = 0; x < kw; ++x) {
      const int sx = g.width > 0 ? x * g.width / kw : -1;
      data->setCell(x, y, sx >= 0 && sy >= 0 ? double(g.cell(sx, sy)) : nan);
    }
  }
  return data;
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
  plot_ = new StyledPlot(this);
  plot_->setObjectName("heatmapCanvas");
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  plot_->xAxis->setLabel("target j");
  plot_->yAxis->setLabel("source i");
  plot_->yAxis->setRangeReversed(true);  // row 0 at the top, as a matrix is read
  plot_->axisRect()->setupFullAxesBox(true);
  plot_->xAxis->grid()->setVisible(false);
  plot_->yAxis->grid()->setVisible(false);
  map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  map_->setInterpolate(false);
  map_->setTightBoundary(false);
  map_->setGradient(viridis());
  map_->setName("H");
  scale_ = new QCPColorScale(plot_);
  scale_->setType(QCPAxis::atRight);
  scale_->axis()->setLabel("H");
  scale_->setBarWidth(12);
  plot_->plotLayout()->addElement(0, 1, scale_);
  map_->setColorScale(scale_);
  auto* group = new QCPMarginGroup(plot_);
  plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
  scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);

  threshold_box_ = new QDoubleSpinBox(this);
  threshold_box_->setObjectName("threshold");
  threshold_box_->setDecimals(5);
  threshold_box_->setRange(0.0, 1e9);
  threshold_box_->setToolTip("Show only entries H > threshold (matplotlib spy's precision).");
  log_box_ = new QCheckBox("log colour", this);
  log_box_->setObjectName("logColour");
  row_sort_ = new QComboBox(this);
  row_sort_->setObjectName("rowSort");
  row_sort_->addItem("rows: original", int(RowSort::Original));
  row_sort_->addItem("rows: by argmax target", int(RowSort::ByArgmaxTarget));
  row_sort_->addItem("rows: by mass", int(RowSort::ByMass));
  col_sort_ = new QComboBox(this);
  col_sort_->setObjectName("columnSort");
  col_sort_->addItem("columns: original", int(ColumnSort::Original));
  col_sort_->addItem("columns: by argmax source", int(ColumnSort::ByArgmaxSource));
  col_sort_->addItem("columns: by mass", int(ColumnSort::ByMass));
  auto* reset = new QToolButton(this);
  reset->setText("Reset view");
  info_ = new QLabel(this);
  info_->setObjectName("heatmapInfo");
  // Long summaries wrap instead of widening the window past the screen.
  info_->setWordWrap(true);
  info_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(new QLabel("Threshold:", this));
  bar->addWidget(threshold_box_);
  bar->addWidget(log_box_);
  bar->addWidget(row_sort_);
  bar->addWidget(col_sort_);
  bar->addWidget(reset);
  bar->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(bar);
  layout->addWidget(plot_, 1);
  layout->addWidget(info_);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(15);
  connect(debounce_, &QTimer::timeout, this, &HeatmapView::startJob);
  connect(&watcher_, &QFutureWatcher<Job>::finished, this, &HeatmapView::jobFinished);
  connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &HeatmapView::scheduleRebuild);
  connect(plot_->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &HeatmapView::scheduleRebuild);
  connect(threshold_box_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &HeatmapView::setThreshold);
  connect(log_box_, &QCheckBox::toggled, this, &HeatmapView::setLogColor);
  auto sort_changed = [this] {
    setSort(RowSort(row_sort_->currentData().toInt()), ColumnSort(col_sort_->currentData().toInt()));
  };
  connect(row_sort_, qOverload<int>(&QComboBox::currentIndexChanged), this, sort_changed);
  connect(col_sort_, qOverload<int>(&QComboBox::currentIndexChanged), this, sort_changed);
  connect(reset, &QToolButton::clicked, this, &HeatmapView::resetView);
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { resetView(); });
  info_->setText("No coupling yet: run the OT and bridge stages.");
}

HeatmapView::MapDataHolder::~MapDataHolder() { delete data; }

HeatmapView::~HeatmapView() {
  // The job owns what it reads (a shared_ptr to the matrix); waiting only keeps a stray thread from outliving us.
  watcher_.waitForFinished();
}

void HeatmapView::setMatrix(std::shared_ptr<const SparseMatrixData> matrix) {
  matrix_ = std::move(matrix);
  order_valid_ = false;
  ++generation_;  // results of jobs for the previous matrix are dropped
  // Diagnostics scan every entry: computed with the first grid, off the GUI thread.
  diagnostics_ = MatrixDiagnostics{};
  diagnostics_valid_ = false;
  grid_ = PooledGrid{};
  updateColorRange();
  resetView();
}

void HeatmapView::setThreshold(double threshold) {
  threshold_ = std::max(0.0, threshold);
  if (threshold_box_->value() != threshold_) {
    const QSignalBlocker block(threshold_box_);
    threshold_box_->setValue(threshold_);
  }
  updateColorRange();
  scheduleRebuild();
}

void HeatmapView::setLogColor(bool on) {
  log_color_ = on;
  if (log_box_->isChecked() != on) {
    const QSignalBlocker block(log_box_);
    log_box_->setChecked(on);
  }
  map_->setDataScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  scale_->axis()->setTicker(on ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                               : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  updateColorRange();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::setSort(RowSort rows, ColumnSort cols) {
  row_sort_mode_ = rows;
  col_sort_mode_ = cols;
  {
    const QSignalBlocker b1(row_sort_), b2(col_sort_);
    row_sort_->setCurrentIndex(row_sort_->findData(int(rows)));
    col_sort_->setCurrentIndex(col_sort_->findData(int(cols)));
  }
  order_valid_ = false;
  ++generation_;
  scheduleRebuild();
}

void HeatmapView::updateColorRange() {
  const double top = diagnostics_.valueMax > 0 ? diagnostics_.valueMax : 1.0;
  double bottom =
      log_color_ ? std::max({threshold_, double(diagnostics_.valueMin), top * 1e-6}) : std::min(threshold_, top);
  if (!(bottom < top)) bottom = log_color_ ? top / 10 : 0.0;
  map_->setDataRange(QCPRange(bottom, top));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::resetView() {
  const double cols = matrix_ ? double(std::max<qint64>(1, matrix_->cols)) : 1.0;
  const double rows = matrix_ ? double(std::max<qint64>(1, matrix_->rows)) : 1.0;
  setWindow(0, cols, 0, rows);
}

void HeatmapView::setWindow(double colBegin, double colEnd, double rowBegin, double rowEnd) {
  plot_->xAxis->setRange(colBegin, colEnd);
  plot_->yAxis->setRange(rowBegin, rowEnd);
  scheduleRebuild();
}

void HeatmapView::scheduleRebuild() {
  if (!matrix_) return;
  debounce_->start();
}

bool HeatmapView::isBusy() const { return debounce_->isActive() || watcher_.isRunning() || pending_; }

void HeatmapView::startJob() {
  if (!matrix_) return;
  if (watcher_.isRunning()) {
    pending_ = true;  // one job at a time; the latest window wins when it finishes
    return;
  }
  pending_ = false;
  const QRect rect = plot_->axisRect()->rect();
  const double dpr = plot_->devicePixelRatioF();
  const int w = std::clamp(int(rect.width() * dpr), 16, kMaxGrid);
  const int h = std::clamp(int(rect.height() * dpr), 16, kMaxGrid);
  const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
  const float threshold = float(threshold_);
  const quint64 generation = generation_;
  const bool order_valid = order_valid_;
  const bool need_diagnostics = !diagnostics_valid_;
  const MatrixOrder order = order_;
  const RowSort rs = row_sort_mode_;
  const ColumnSort cs = col_sort_mode_;
  std::shared_ptr<const SparseMatrixData> matrix = matrix_;
  watcher_.setFuture(QtConcurrent::run([=]() {
    Job job;
    job.generation = generation;
    job.order = order_valid ? order : sortedOrder(*matrix, rs, cs);
    if (need_diagnostics) {
      job.diagnostics = diagnose(*matrix);
      job.hasDiagnostics = true;
    }
    job.grid = poolMax(*matrix, job.order, xr.lower, xr.upper, yr.lower, yr.upper, w, h, threshold);
    job.map = std::make_shared<MapDataHolder>();
    job.map->data = makeMapData(job.grid);
    return job;
  }));
}

void HeatmapView::jobFinished() {
  const Job job = watcher_.result();
  // A job for another matrix or order is dropped; one for an older window of the same order is still shown
  // (a newer job follows at once), so panning never blanks the map.
  if (job.generation == generation_) {
    if (job.hasDiagnostics && !diagnostics_valid_) {
      diagnostics_ = job.diagnostics;
      diagnostics_valid_ = true;
      const QSignalBlocker block(threshold_box_);
      threshold_box_->setSingleStep(diagnostics_.valueMax > 0 ? diagnostics_.valueMax / 100 : 0.01);
      updateColorRange();
    }
    order_ = job.order;
    order_valid_ = true;
    map_->setData(job.map->release(), false);
    grid_ = job.grid;
    const qint64 rows = matrix_ ? matrix_->rows : 0, cols = matrix_ ? matrix_->cols : 0;
    info_->setText(QString("H: %1 × %2, %3 stored entries, %4 empty rows, %5 empty columns; row sums %6 – %7; "
                           "column sums %8 – %9.  Showing %10 entries > %11 on %12 × %13 cells (max-pooled).")
                       .arg(rows)
                       .arg(cols)
                       .arg(matrix_ ? matrix_->nnz() : 0)
                       .arg(diagnostics_.emptyRows)
                       .arg(diagnostics_.emptyCols)
                       .arg(diagnostics_.rowSumMin, 0, 'g', 4)
                       .arg(diagnostics_.rowSumMax, 0, 'g', 4)
                       .arg(diagnostics_.colSumMin, 0, 'g', 4)
                       .arg(diagnostics_.colSumMax, 0, 'g', 4)
                       .arg(grid_.entries)
                       .arg(threshold_)
                       .arg(grid_.width)
                       .arg(grid_.height));
    plot_->replot(QCustomPlot::rpQueuedReplot);
    emit gridUpdated();
  }
  if (pending_ || job.generation != generation_) startJob();
}

bool HeatmapView::cellAt(const QPointF& pixel, qint64* row, qint64* col) const {
  if (!matrix_ || !plot_->axisRect()->rect().contains(pixel.toPoint())) return false;
  const double x = plot_->xAxis->pixelToCoord(pixel.x()), y = plot_->yAxis->pixelToCoord(pixel.y());
  const qint64 c = qint64(std::floor(x)), r = qint64(std::floor(y));
  if (c < 0 || c >= matrix_->cols || r < 0 || r >= matrix_->rows) return false;
  *row = order_valid_ ? order_.rowOrder[r] : r;
  *col = order_valid_ ? order_.colOrder[c] : c;
  return true;
}

void HeatmapView::hoverAt(const QPointF& pixel) {
  qint64 i, j;
  QString text;
  if (cellAt(pixel, &i, &j)) {
    text = QString("i = %1, j = %2, H = %3").arg(i).arg(j).arg(double(matrix_->at(i, j)), 0, 'g', 5);
    // Zoomed out, a screen cell covers many entries: also say what the pooled cell shows.
    if (grid_.width > 0 &&
        (grid_.colEnd - grid_.colBegin > grid_.width || grid_.rowEnd - grid_.rowBegin > grid_.height)) {
      const double x = plot_->xAxis->pixelToCoord(pixel.x()), y = plot_->yAxis->pixelToCoord(pixel.y());
      const int cx = int((x - grid_.colBegin) / (grid_.colEnd - grid_.colBegin) * grid_.width);
      const int cy = int((y - grid_.rowBegin) / (grid_.rowEnd - grid_.rowBegin) * grid_.height);
      if (cx >= 0 && cx < grid_.width && cy >= 0 && cy < grid_.height && !std::isnan(grid_.cell(cx, cy)))
        text += QString("  (cell max %1)").arg(double(grid_.cell(cx, cy)), 0, 'g', 5);
    }
  }
  plot_->setToolTip(text);
  if (text != hover_text_) {
    hover_text_ = text;
    emit hovered(text);
  }
}

bool HeatmapView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_) {
    if (event->type() == QEvent::Resize)
      scheduleRebuild();
    else if (event->type() == QEvent::MouseMove)
      hoverAt(static_cast<QMouseEvent*>(event)->position());
    else if (event->type() == QEvent::MouseButtonPress)
      press_pos_ = static_cast<QMouseEvent*>(event)->position();
    else if (event->type() == QEvent::MouseButtonRelease) {
      auto* e = static_cast<QMouseEvent*>(event);
      qint64 i, j;
      if (e->button() == Qt::LeftButton && (e->position() - press_pos_).manhattanLength() < 5 &&
          cellAt(e->position(), &i, &j))
        emit cellClicked(i, j);
    }
  }
  return QWidget::eventFilter(watched, event);
}

QSize HeatmapView::figureSize() const {
  return plot_->size().isEmpty() || !isVisible() ? QSize(700, 600) : plot_->size();
}

void HeatmapView::renderFigure(QCPPainter& painter, const QSize& size) { renderPlot(plot_, painter, size); }

void HeatmapView::writeFigureCsv(QTextStream& out) const {
  out << "row,col,value\n";
  if (!matrix_) return;
  const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
  const qint64 r0 = std::max<qint64>(0, qint64(std::floor(yr.lower))),
               r1 = std::min<qint64>(matrix_->rows, qint64(std::ceil(yr.upper)));
  const qint64 c0 = std::max<qint64>(0, qint64(std::floor(xr.lower))),
               c1 = std::min<qint64>(matrix_->cols, qint64(std::ceil(xr.upper)));
  for (qint64 rd = r0; rd < r1; ++rd) {
    const qint64 r = order_valid_ ? order_.rowOrder[rd] : rd;
    for (qint64 k = matrix_->indptr[r]; k < matrix_->indptr[r + 1]; ++k) {
      const qint64 cd = order_valid_ ? order_.colPosition[matrix_->indices[k]] : matrix_->indices[k];
      if (cd < c0 || cd >= c1 || !(matrix_->values[k] > threshold_)) continue;
      out << r << ',' << matrix_->indices[k] << ',' << QString::number(matrix_->values[k], 'g', 8) << '\n';
    }
  }
}

}  // namespace otcs
