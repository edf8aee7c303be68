#include "widgets/scatterpairview.h"

#include <QTextStream>
#include <algorithm>
#include <cmath>
#include <limits>

namespace otcs {
namespace {

const QColor kSource(31, 119, 180);
const QColor kTarget(255, 127, 14);
const QColor kPair(44, 160, 44);

QCPGraph* scatterGraph(QCustomPlot* plot, const QCPScatterStyle& style, const QString& name) {
  QCPGraph* g = plot->addGraph();
  g->setLineStyle(QCPGraph::lsNone);
  g->setScatterStyle(style);
  g->setAdaptiveSampling(false);  // scatter sampling bands the cloud's edges; clouds here are thousands at most
  g->setName(name);
  return g;
}

}  // namespace

ScatterPairView::ScatterPairView(QWidget* parent) : StyledPlot(parent) {
  setObjectName("scatterPairView");
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  setMouseTracking(true);
  setMinimumSize(300, 240);
  xAxis->setLabel("x₁");
  yAxis->setLabel("x₂");

  QColor s = kSource, t = kTarget;
  s.setAlpha(150);
  t.setAlpha(150);
  source_graph_ = scatterGraph(this, QCPScatterStyle(QCPScatterStyle::ssDisc, s, s, 4), "source");
  target_graph_ = scatterGraph(this, QCPScatterStyle(QCPScatterStyle::ssDisc, t, t, 4), "target");

  pair_lines_ = new QCPCurve(xAxis, yAxis);
  pair_lines_->setPen(QPen(kPair, 1.6));
  pair_lines_->setName("keypoint pairs");
  pair_lines_->setScatterSkip(0);
  highlight_line_ = new QCPCurve(xAxis, yAxis);
  highlight_line_->setPen(QPen(QColor(214, 39, 40), 2.6));
  highlight_line_->removeFromLegend();

  pair_sources_ = scatterGraph(
      this, QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kPair.darker(130), 1.8), QBrush(kSource), 9), "");
  pair_targets_ = scatterGraph(
      this, QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kPair.darker(130), 1.8), QBrush(kTarget), 9), "");
  pair_sources_->removeFromLegend();
  pair_targets_->removeFromLegend();
  suggestions_ = scatterGraph(
      this, QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(QColor(148, 103, 189), 1.8), Qt::NoBrush, 12),
      "suggested partners");
  suggestions_->removeFromLegend();
  pick_source_ =
      scatterGraph(this, QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kSource.darker(150), 2.5), Qt::NoBrush, 16),
                   "picked source");
  pick_target_ =
      scatterGraph(this, QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kTarget.darker(150), 2.5), Qt::NoBrush, 16),
                   "picked target");
  pick_source_->removeFromLegend();
  pick_target_->removeFromLegend();
  hover_ = scatterGraph(this,
                        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(40, 40, 40), 1.2), Qt::NoBrush, 12), "");
  hover_->removeFromLegend();

  legend->setVisible(true);
  axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

void ScatterPairView::setScatter(QCPGraph* graph, const QVector<QPointF>& points) {
  QVector<QCPGraphData> data;
  data.reserve(points.size());
  for (const QPointF& p : points) data.push_back({p.x(), p.y()});
  graph->data()->set(data, false);
}

void ScatterPairView::setLabels(const QString& source, const QString& target) {
  source_graph_->setName(source);
  target_graph_->setName(target);
  replot(rpQueuedReplot);
}

void ScatterPairView::setPoints(const QVector<QPointF>& source, const QVector<QPointF>& target) {
  source_ = source;
  target_ = target;
  setScatter(source_graph_, source_);
  setScatter(target_graph_, target_);
  rebuildPairs();
  fitAll();
}

void ScatterPairView::fitAll() { fitTo(boundsOf(source_ + target_), 0.06, true); }

void ScatterPairView::setPairs(const KeypointPairs& pairs) {
  pairs_ = pairs;
  if (highlighted_ >= pairs_.size()) highlighted_ = -1;
  rebuildPairs();
}

void ScatterPairView::rebuildPairs() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  QVector<QCPCurveData> lines;
  QVector<QCPGraphData> src, tgt;
  int t = 0;
  for (const KeypointPair& p : pairs_) {
    if (p.source < 0 || p.source >= source_.size() || p.target < 0 || p.target >= target_.size()) continue;
    const QPointF a = source_[p.source], b = target_[p.target];
    lines.push_back({double(t++), a.x(), a.y()});
    lines.push_back({double(t++), b.x(), b.y()});
    lines.push_back({double(t++), nan, nan});  // breaks the curve between pairs
    src.push_back({a.x(), a.y()});
    tgt.push_back({b.x(), b.y()});
  }
  pair_lines_->data()->set(lines, true);
  pair_sources_->data()->set(src, false);
  pair_targets_->data()->set(tgt, false);
  QVector<QCPCurveData> hl;
  if (highlighted_ >= 0 && highlighted_ < pairs_.size()) {
    const KeypointPair& p = pairs_[highlighted_];
    if (p.source < source_.size() && p.target < target_.size()) {
      hl.push_back({0, source_[p.source].x(), source_[p.source].y()});
      hl.push_back({1, target_[p.target].x(), target_[p.target].y()});
    }
  }
  highlight_line_->data()->set(hl, true);
  replot(rpQueuedReplot);
}

void ScatterPairView::setHighlightedPair(int row) {
  highlighted_ = row;
  rebuildPairs();
}

void ScatterPairView::setPicks(qint64 source, qint64 target) {
  pick_source_->data()->clear();
  pick_target_->data()->clear();
  if (source >= 0 && source < source_.size()) pick_source_->addData(source_[source].x(), source_[source].y());
  if (target >= 0 && target < target_.size()) pick_target_->addData(target_[target].x(), target_[target].y());
  replot(rpQueuedReplot);
}

void ScatterPairView::setSuggestions(const QVector<QPair<qint64, double>>& targets) {
  QVector<QCPGraphData> data;
  for (const auto& [j, score] : targets)
    if (j >= 0 && j < target_.size()) data.push_back({target_[j].x(), target_[j].y()});
  suggestions_->data()->set(data, false);
  replot(rpQueuedReplot);
}

void ScatterPairView::setDomainVisible(Domain domain, bool visible) {
  (domain == Domain::Source ? source_graph_ : target_graph_)->setVisible(visible);
  replot(rpQueuedReplot);
}

QPointF ScatterPairView::pixelOf(Domain domain, qint64 index) const {
  const auto& set = points(domain);
  if (index < 0 || index >= set.size()) return {};
  return dataToPixel(set[index].x(), set[index].y());
}

bool ScatterPairView::pointAt(const QPointF& pixel, Domain* domain, qint64* index, double radius) const {
  double best = radius * radius;
  bool found = false;
  for (Domain d : {Domain::Source, Domain::Target}) {
    if (!(d == Domain::Source ? source_graph_ : target_graph_)->visible()) continue;
    const auto& set = points(d);
    for (qint64 i = 0; i < set.size(); ++i) {
      const QPointF p = dataToPixel(set[i].x(), set[i].y());
      const double dx = p.x() - pixel.x(), dy = p.y() - pixel.y();
      const double d2 = dx * dx + dy * dy;
      if (d2 <= best) {
        best = d2;
        *domain = d;
        *index = i;
        found = true;
      }
    }
  }
  return found;
}

void ScatterPairView::mousePressEvent(QMouseEvent* event) {
  pressed_ = event->button() == Qt::LeftButton;
  press_pos_ = event->position();
  StyledPlot::mousePressEvent(event);
}

void ScatterPairView::mouseReleaseEvent(QMouseEvent* event) {
  // A click picks, a drag pans: only a release close to the press counts as a click.
  const bool click =
      pressed_ && event->button() == Qt::LeftButton && (event->position() - press_pos_).manhattanLength() < 5;
  pressed_ = false;
  StyledPlot::mouseReleaseEvent(event);
  Domain domain;
  qint64 index;
  if (click && pointAt(event->position(), &domain, &index)) emit pointClicked(domain, index);
}

void ScatterPairView::mouseMoveEvent(QMouseEvent* event) {
  StyledPlot::mouseMoveEvent(event);
  if (event->buttons() != Qt::NoButton) return;
  Domain domain;
  qint64 index;
  hover_->data()->clear();
  QString text;
  if (pointAt(event->position(), &domain, &index)) {
    const QPointF p = points(domain)[index];
    hover_->addData(p.x(), p.y());
    text = QString("%1 #%2 (%3, %4)")
               .arg(domain == Domain::Source ? "source" : "target")
               .arg(index)
               .arg(p.x(), 0, 'f', 3)
               .arg(p.y(), 0, 'f', 3);
  }
  setToolTip(text);
  emit hovered(text);
  replot(rpQueuedReplot);
}

QSize ScatterPairView::figureSize() const { return size().isEmpty() || !isVisible() ? QSize(700, 600) : size(); }

void ScatterPairView::renderFigure(QCPPainter& painter, const QSize& size) {
  const bool hover = hover_->visible();
  hover_->setVisible(false);
  renderPlot(this, painter, size);
  hover_->setVisible(hover);
}

void ScatterPairView::writeFigureCsv(QTextStream& out) const {
  out << "set,index,x,y,pair\n";
  for (Domain d : {Domain::Source, Domain::Target}) {
    const auto& set = points(d);
    for (qint64 i = 0; i < set.size(); ++i) {
      int pair = -1;
      for (int k = 0; k < pairs_.size(); ++k)
        if ((d == Domain::Source ? pairs_[k].source : pairs_[k].target) == i) pair = k;
      out << (d == Domain::Source ? "source" : "target") << ',' << i << ',' << QString::number(set[i].x(), 'g', 9)
          << ',' << QString::number(set[i].y(), 'g', 9) << ',' << (pair >= 0 ? QString::number(pair) : QString())
          << '\n';
    }
  }
}

}  // namespace otcs
