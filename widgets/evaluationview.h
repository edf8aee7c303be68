#pragma once
// The "Evaluation" view: a run's eval numbers as a table, the confusion matrix of an image translation run as a
// heat map (row-normalised shares, the percentage and count in every cell, each row's expected cell outlined, each
// row's accuracy on the right, a tooltip with the counts under the mouse), and for super-resolution runs a grid of
// test inputs, one sample, the mean of samples and the truth. Plain data only: the application reads the run's
// files and hands over numbers, labels and images.
#include <QImage>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "widgets/figureexport.h"

class QCPColorMap;
class QCPItemRect;
class QCPItemText;
class QLabel;
class QSplitter;
class QTableWidget;

namespace otcs {

class StyledPlot;

// rows x columns counts, row-major; expectedColumn[r] is the column a row should land in (-1: none).
struct ConfusionData {
  QStringList rowLabels, columnLabels;
  QVector<int> expectedColumn;
  QVector<double> counts;
  int rows() const { return int(rowLabels.size()); }
  int columns() const { return int(columnLabels.size()); }
  bool isEmpty() const { return rowLabels.isEmpty() || columnLabels.isEmpty(); }
  bool isValid() const;  // sizes agree
  double count(int row, int column) const { return counts[row * columns() + column]; }
  double rowTotal(int row) const;
  double rowAccuracy(int row) const;  // the expected cell's share of the row; 0 for an empty row
  double accuracy() const;            // over all rows
};

// One line of the metrics table: a name, a value and an optional detail (spread, reference, count).
struct EvaluationMetric {
  QString name;
  double value = 0;
  QString detail;
};

// Rows of images of the same size, each row labelled (input, one sample, mean, truth).
struct ImageRows {
  QStringList labels;
  QVector<QVector<QImage>> rows;
  bool isEmpty() const { return rows.isEmpty(); }
};

class EvaluationView : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit EvaluationView(QWidget* parent = nullptr);

  // `title` says which run this is (shown above; never opened). An invalid confusion matrix is shown as none.
  void setEvaluation(const QString& title, const QVector<EvaluationMetric>& metrics, const ConfusionData& confusion,
                     const ImageRows& superResolution = {});
  void clear(const QString& emptyText = QString());

  const QVector<EvaluationMetric>& metrics() const { return metrics_; }
  const ConfusionData& confusion() const { return confusion_; }
  const ImageRows& superResolution() const { return sr_; }
  QTableWidget* metricsTable() const { return table_; }
  StyledPlot* confusionPlot() const { return plot_; }
  // The annotation drawn in a cell ("57.2%\n286"), and what the tooltip says over it.
  QString cellText(int row, int column) const;
  QString cellToolTip(int row, int column) const;
  int outlinedCells() const { return int(outlines_.size()); }
  // The cell under a pixel of the plot, and the tooltip there (empty outside the matrix).
  bool cellAt(const QPointF& pixel, int* row, int* column) const;
  QString hoverAt(const QPointF& pixel);
  // The super-resolution grid as drawn (labels on the left, images scaled up).
  QImage superResolutionImage() const { return sr_image_; }

  // FigureSource: the table, the heat map and the image grid side by side as the view shows them.
  QString figureName() const override { return "evaluation"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void rebuildTable();
  void rebuildPlot();
  // The cell annotations' font: the largest (6 to 12 pt) whose two lines fit a cell at the plot's present size;
  // run after every layout of the plot, so a resized view or an exported figure never clips them.
  void fitAnnotationFonts();
  void rebuildImages();
  void showScaledImages();
  void drawTable(QPainter& painter, const QRect& rect) const;

  QLabel* title_ = nullptr;
  QTableWidget* table_ = nullptr;
  StyledPlot* plot_ = nullptr;
  QCPColorMap* map_ = nullptr;
  QVector<QCPItemText*> annotations_;
  QVector<QCPItemRect*> outlines_;
  QLabel* images_ = nullptr;
  QLabel* empty_ = nullptr;
  QSplitter* splitter_ = nullptr;
  QVector<EvaluationMetric> metrics_;
  ConfusionData confusion_;
  ImageRows sr_;
  QImage sr_image_;
  QString title_text_;
};

}  // namespace otcs
