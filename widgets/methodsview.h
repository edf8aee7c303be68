#pragma once
// The "Methods" page: diagnostics of the DPM-OT and AOT stages, given as plain data (the application reads the
// files a run leaves through the core's readers):
//   cell measures  the measure (fraction of source mass) of each semi-discrete OT cell; drawn as a histogram
//                  against the target 1/N, with the share of cells within ±20% of 1/N.
//   AOT chunks     the assignment cost per chunk, assigned pairing against the identity (random) pairing.
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "widgets/figureexport.h"

class QCPBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPTextElement;
class QLabel;

namespace otcs {

class StyledPlot;

struct CellMeasureSummary {
  int cells = 0;
  double target = 0;       // 1/N
  double sum = 0;          // should be 1
  double withinShare = 0;  // share of cells with |m - 1/N| <= 0.2/N
};
CellMeasureSummary summarizeCellMeasures(const QVector<double>& measures);

struct AotChunks {
  QVector<double> chunk, assigned, random, seconds;  // seconds is empty when the column is absent
};

class MethodsView : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit MethodsView(QWidget* parent = nullptr);

  // `source` names where the data came from (shown above the plots; never opened).
  void setCellMeasures(const QVector<double>& measures, const QString& source);
  void setAotChunks(const AotChunks& chunks, const QString& source);
  void clear();

  const QVector<double>& cellMeasures() const { return measures_; }
  const AotChunks& aotChunks() const { return chunks_; }
  CellMeasureSummary cellSummary() const { return summary_; }
  QString cellSummaryText() const;
  StyledPlot* cellPlot() const { return cell_plot_; }
  StyledPlot* aotPlot() const { return aot_plot_; }

  // FigureSource: both plots, one above the other.
  QString figureName() const override { return "methods"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 private:
  void updateCellPlot();
  void updateAotPlot();

  StyledPlot* cell_plot_ = nullptr;
  StyledPlot* aot_plot_ = nullptr;
  QCPBars* bars_ = nullptr;
  QCPItemStraightLine* target_line_ = nullptr;
  QCPTextElement* cell_title_ = nullptr;
  QCPGraph* assigned_ = nullptr;
  QCPGraph* random_ = nullptr;
  QLabel* sources_ = nullptr;
  QVector<double> measures_;
  CellMeasureSummary summary_;
  int overflow_ = 0;  // cells above the histogram range (4/N)
  AotChunks chunks_;
  QString cell_source_, aot_source_;
};

}  // namespace otcs
