#pragma once
// The live curves of a run: the OT stage's dual objective and the score stage's loss, each in its own plot
// (their scales differ by orders of magnitude). Exported together as one figure.
#include <QWidget>

#include "widgets/figureexport.h"

namespace otcs {
class LossPlot;
}

namespace otcs::workbench {

class LossesPage : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit LossesPage(QWidget* parent = nullptr);
  LossPlot* otPlot() const { return ot_; }
  LossPlot* scorePlot() const { return score_; }
  // Routes a batch to the plot of its stage (series created on first use).
  void addPoints(const QString& stage, const QString& series, const QVector<double>& steps, const QVector<double>& values);
  void clear();

  QString figureName() const override { return "losses"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 private:
  LossPlot* ot_ = nullptr;
  LossPlot* score_ = nullptr;
};

}  // namespace otcs::workbench
