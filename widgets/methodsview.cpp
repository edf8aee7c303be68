#include "widgets/methodsview.h"

#include <QLabel>
#include <QTextStream>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "widgets/styledplot.h"

namespace otcs {

CellMeasureSummary summarizeCellMeasures(const QVector<double>& measures) {
  CellMeasureSummary s;
  s.cells = measures.size();
  if (s.cells == 0) return s;
  s.target = 1.0 / s.cells;
  int within = 0;
  for (double m : measures) {
    s.sum += m;
    if (std::abs(m - s.target) <= 0.2 * s.target) ++within;
  }
  s.withinShare = double(within) / s.cells;
  return s;
}

MethodsView::MethodsView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  sources_ = new QLabel(
      "Open a cell_measures.npy or aot_chunks.csv (File → Open method diagnostics…), or run a "
      "project whose run directory holds them.",
      this);
  sources_->setObjectName("methodsSources");
  sources_->setWordWrap(true);
  layout->addWidget(sources_);

  cell_plot_ = new StyledPlot(this);
  cell_plot_->setObjectName("cellMeasurePlot");
  cell_plot_->plotLayout()->insertRow(0);
  cell_title_ = new QCPTextElement(cell_plot_, "Semi-discrete OT cell measures");
  cell_plot_->plotLayout()->addElement(0, 0, cell_title_);
  cell_plot_->xAxis->setLabel("cell measure");
  cell_plot_->yAxis->setLabel("cells");
  bars_ = new QCPBars(cell_plot_->xAxis, cell_plot_->yAxis);
  bars_->setName("cells");
  bars_->setPen(QPen(seriesColor(0).darker(120)));
  bars_->setBrush(seriesColor(0));
  target_line_ = new QCPItemStraightLine(cell_plot_);
  target_line_->setPen(QPen(seriesColor(3), 2, Qt::DashLine));
  target_line_->setVisible(false);
  layout->addWidget(cell_plot_, 1);

  aot_plot_ = new StyledPlot(this);
  aot_plot_->setObjectName("aotChunkPlot");
  aot_plot_->plotLayout()->insertRow(0);
  aot_plot_->plotLayout()->addElement(0, 0, new QCPTextElement(aot_plot_, "AOT assignment cost per chunk"));
  aot_plot_->xAxis->setLabel("chunk");
  aot_plot_->yAxis->setLabel("mean cost");
  assigned_ = aot_plot_->addGraph();
  assigned_->setName("assigned (AOT)");
  assigned_->setPen(QPen(seriesColor(0), 2));
  assigned_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
  random_ = aot_plot_->addGraph();
  random_->setName("identity pairing");
  random_->setPen(QPen(seriesColor(1), 2));
  random_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 5));
  aot_plot_->legend->setVisible(true);
  layout->addWidget(aot_plot_, 1);
}

void MethodsView::setCellMeasures(const QVector<double>& measures, const QString& source) {
  measures_ = measures;
  summary_ = summarizeCellMeasures(measures_);
  cell_source_ = source;
  updateCellPlot();
}

void MethodsView::setAotChunks(const AotChunks& chunks, const QString& source) {
  chunks_ = chunks;
  aot_source_ = source;
  updateAotPlot();
}

void MethodsView::clear() {
  measures_.clear();
  summary_ = {};
  chunks_ = {};
  cell_source_.clear();
  aot_source_.clear();
  updateCellPlot();
  updateAotPlot();
}

QString MethodsView::cellSummaryText() const {
  if (summary_.cells == 0) return "no cell measures";
  return QString("%1 cells, target 1/N = %2; %3% of cells within ±20% of 1/N (sum %4)")
      .arg(summary_.cells)
      .arg(summary_.target, 0, 'g', 4)
      .arg(100.0 * summary_.withinShare, 0, 'f', 1)
      .arg(summary_.sum, 0, 'g', 6);
}

void MethodsView::updateCellPlot() {
  QVector<double> keys, counts;
  double width = 1;
  if (!measures_.isEmpty()) {
    const auto [mn, mx] = std::minmax_element(measures_.begin(), measures_.end());
    // [0, 4/N] at most: an unconverged solve leaves a few huge cells that would squeeze every other cell into the
    // first bar; cells above the range are counted in the last bar (and said so in the title).
    double lo = std::min(*mn, 0.75 * summary_.target), hi = std::max(*mx, 1.25 * summary_.target);
    if (summary_.target > 0) {
      lo = std::max(0.0, std::min(lo, 0.0));
      hi = std::min(hi, 4.0 * summary_.target);
    }
    overflow_ = int(std::count_if(measures_.begin(), measures_.end(), [hi](double m) { return m > hi; }));
    const int bins = std::clamp(int(std::sqrt(double(measures_.size()))), 10, 60);
    width = (hi - lo) / bins;
    if (!(width > 0)) width = summary_.target > 0 ? summary_.target / bins : 1.0;
    keys.resize(bins);
    counts.fill(0, bins);
    for (int b = 0; b < bins; ++b) keys[b] = lo + (b + 0.5) * width;
    for (double m : measures_) counts[std::clamp(int((m - lo) / width), 0, bins - 1)] += 1;
  }
  bars_->setWidth(width);
  bars_->setData(keys, counts, true);
  target_line_->setVisible(summary_.cells > 0);
  target_line_->point1->setCoords(summary_.target, 0);
  target_line_->point2->setCoords(summary_.target, 1);
  cell_title_->setText(
      summary_.cells ? "Semi-discrete OT cell measures: " + cellSummaryText() +
                           (overflow_ ? QString("; %1 cell(s) above 4/N in the last bar").arg(overflow_) : QString())
                     : "Semi-discrete OT cell measures");
  cell_plot_->rescaleAxes();
  if (!counts.isEmpty()) cell_plot_->yAxis->setRange(0, *std::max_element(counts.begin(), counts.end()) * 1.08);
  cell_plot_->replot(QCustomPlot::rpQueuedReplot);
  QStringList parts;
  if (!cell_source_.isEmpty()) parts << "cells: " + cell_source_;
  if (!aot_source_.isEmpty()) parts << "AOT chunks: " + aot_source_;
  if (!parts.isEmpty()) sources_->setText(parts.join("   "));
}

void MethodsView::updateAotPlot() {
  assigned_->setData(chunks_.chunk, chunks_.assigned);
  random_->setData(chunks_.chunk, chunks_.random);
  aot_plot_->rescaleAxes();
  aot_plot_->replot(QCustomPlot::rpQueuedReplot);
  updateCellPlot();  // refreshes the sources line
}

QSize MethodsView::figureSize() const {
  const QSize own = size();
  return own.isEmpty() || !isVisible() ? QSize(800, 900)
                                       : QSize(own.width(), cell_plot_->height() + aot_plot_->height());
}

void MethodsView::renderFigure(QCPPainter& painter, const QSize& size) {
  const int top = size.height() / 2;
  painter.save();
  renderPlot(cell_plot_, painter, QSize(size.width(), top));
  painter.translate(0, top);
  renderPlot(aot_plot_, painter, QSize(size.width(), size.height() - top));
  painter.restore();
}

void MethodsView::writeFigureCsv(QTextStream& out) const {
  out << "series,index,value,extra\n";
  for (int i = 0; i < measures_.size(); ++i)
    out << "cell_measure," << i << ',' << QString::number(measures_[i], 'g', 12) << ",\n";
  for (int i = 0; i < chunks_.chunk.size(); ++i)
    out << "aot_chunk," << QString::number(chunks_.chunk[i], 'g', 12) << ','
        << QString::number(chunks_.assigned[i], 'g', 12) << ',' << QString::number(chunks_.random[i], 'g', 12) << '\n';
}

}  // namespace otcs
