#pragma once
// The live curves of a run: the OT stage's dual objective, its plan diagnostics (transport cost, marginal
// errors; log scale) and the score stage's loss, each in its own plot (their scales differ by orders of
// magnitude), and a generation training's Fréchet-distance curve (series "<method> fd"), shown once it has points.
// Exported together as one figure.
#include <QWidget>

#include "core/session/events.h"
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
  LossPlot* otDiagnosticsPlot() const { return ot_diag_; }
  LossPlot* fdPlot() const { return fd_; }
  // Clears both OT plots (a new OT stage starts or is reloaded).
  void clearOt();
  // Reads RUN/ot/diagnostics.csv (step and one column per series); false when absent or empty.
  bool loadOtDiagnostics(const QString& path);
  // Routes a batch to the plot of its stage (series created on first use).
  void addPoints(otcs::session::Stage stage, const QString& series, const QVector<double>& steps,
                 const QVector<double>& values);
  void clear();
  // Removes every series of the plots (a comparison of runs names its series by run).
  void removeAllSeries();

  QString figureName() const override { return "losses"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 private:
  LossPlot* ot_ = nullptr;
  LossPlot* ot_diag_ = nullptr;
  LossPlot* score_ = nullptr;
  LossPlot* fd_ = nullptr;  // hidden until a series "<method> fd" arrives
};

}  // namespace otcs::workbench
