#pragma once
// 2-D source and target point clouds in one plot, with the keypoint pairs drawn as lines, the current picks
// ringed and suggested partners marked. Clicking near a point (within a few pixels) reports it; dragging pans,
// the wheel zooms. Used for pairing and for browsing 2-D datasets.
#include <QPointF>
#include <QVector>

#include "widgets/figureexport.h"
#include "widgets/keypointpair.h"
#include "widgets/styledplot.h"

namespace otcs {

class ScatterPairView : public StyledPlot, public FigureSource {
  Q_OBJECT
 public:
  explicit ScatterPairView(QWidget* parent = nullptr);

  void setPoints(const QVector<QPointF>& source, const QVector<QPointF>& target);
  const QVector<QPointF>& points(Domain domain) const { return domain == Domain::Source ? source_ : target_; }
  void setPairs(const KeypointPairs& pairs);
  void setPicks(qint64 source, qint64 target);
  void setHighlightedPair(int row);  // -1: none
  // Suggested partners of the picked source: (target index, score), best first.
  void setSuggestions(const QVector<QPair<qint64, double>>& targets);
  void setDomainVisible(Domain domain, bool visible);
  void setLabels(const QString& source, const QString& target);

  // Nearest visible point within `radius` pixels of `pixel`; false when none.
  bool pointAt(const QPointF& pixel, Domain* domain, qint64* index, double radius = 10.0) const;
  QPointF pixelOf(Domain domain, qint64 index) const;
  void fitAll();

  // FigureSource
  QString figureName() const override { return "pairs"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 signals:
  void pointClicked(otcs::Domain domain, qint64 index);
  void hovered(const QString& text);

 protected:
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;

 private:
  void rebuildPairs();
  static void setScatter(QCPGraph* graph, const QVector<QPointF>& points);

  QVector<QPointF> source_, target_;
  KeypointPairs pairs_;
  QCPGraph* source_graph_ = nullptr;
  QCPGraph* target_graph_ = nullptr;
  QCPCurve* pair_lines_ = nullptr;
  QCPCurve* highlight_line_ = nullptr;
  QCPGraph* pair_sources_ = nullptr;
  QCPGraph* pair_targets_ = nullptr;
  QCPGraph* pick_source_ = nullptr;
  QCPGraph* pick_target_ = nullptr;
  QCPGraph* suggestions_ = nullptr;
  QCPGraph* hover_ = nullptr;
  int highlighted_ = -1;
  QPointF press_pos_;
  bool pressed_ = false;
};

}  // namespace otcs
