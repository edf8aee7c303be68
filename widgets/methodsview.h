#pragma once
// The "Methods" page: diagnostics of the DPM-OT and AOT stages read from the files they leave in a run.
//   cell_measures.npy  float64 or float32 [N]: the measure (fraction of source mass) of each semi-discrete OT cell;
//                      drawn as a histogram against the target 1/N, with the share of cells within ±20% of 1/N.
//   aot_chunks.csv     header chunk,assigned_cost,random_cost,seconds (extra columns ignored, any order): the
//                      assignment cost per chunk, assigned pairing against the identity (random) pairing.
// Readers never throw; a bad file returns false with one sentence naming it.
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

// A 1-D little-endian float64/float32 .npy (format versions 1-3) as doubles.
bool readNpyVector(const QString& path, QVector<double>* out, QString* error);

struct CellMeasureSummary {
  int cells = 0;
  double target = 0;        // 1/N
  double sum = 0;           // should be 1
  double withinShare = 0;   // share of cells with |m - 1/N| <= 0.2/N
};
CellMeasureSummary summarizeCellMeasures(const QVector<double>& measures);

struct AotChunks {
  QVector<double> chunk, assigned, random, seconds;  // seconds is empty when the column is absent
};
bool readAotChunksCsv(const QString& path, AotChunks* out, QString* error);

class MethodsView : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit MethodsView(QWidget* parent = nullptr);

  bool loadCellMeasures(const QString& path, QString* error);
  bool loadAotChunks(const QString& path, QString* error);
  // Loads a file by name: *.npy as cell measures, *.csv as AOT chunks.
  bool loadFile(const QString& path, QString* error);
  // The first cell_measures.npy and aot_chunks.csv under `dir` (any depth); empty strings when absent.
  static QStringList findInRunDir(const QString& dir);
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
  QString cell_path_, aot_path_;
};

}  // namespace otcs
