#pragma once
// The H inspector page: the heatmap, plus a row inspector (the top-k targets of the clicked source, with their
// values and a description or thumbnail of each) and a column inspector (the top-k sources of the clicked target).
#include <QWidget>
#include <functional>
#include <memory>

#include "widgets/figureexport.h"
#include "widgets/keypointpair.h"
#include "widgets/sparsegrid.h"

class QLabel;
class QSpinBox;
class QTableWidget;

namespace otcs {

class HeatmapView;

class MatrixInspector : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  using Describer = std::function<QString(Domain, qint64)>;
  using ThumbnailProvider = std::function<QImage(Domain, qint64)>;

  explicit MatrixInspector(QWidget* parent = nullptr);

  void setMatrix(std::shared_ptr<const SparseMatrixData> matrix);
  void setDescriber(Describer describer) { describer_ = std::move(describer); }
  void setThumbnailProvider(ThumbnailProvider provider) { thumbnails_ = std::move(provider); }
  void inspect(qint64 row, qint64 col);
  qint64 inspectedRow() const { return row_; }
  qint64 inspectedColumn() const { return col_; }
  QTableWidget* rowTable() const { return row_table_; }
  QTableWidget* columnTable() const { return col_table_; }
  HeatmapView* heatmap() const { return heatmap_; }

  // FigureSource: the heatmap.
  QString figureName() const override { return "H"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 signals:
  // Double-clicking an inspector entry: e.g. pair the inspected source with that target.
  void entryActivated(qint64 source, qint64 target);

 private:
  void fill(QTableWidget* table, Domain domain, const QVector<QPair<qint64, float>>& entries);
  void refresh();

  HeatmapView* heatmap_ = nullptr;
  QTableWidget* row_table_ = nullptr;
  QTableWidget* col_table_ = nullptr;
  QLabel* row_title_ = nullptr;
  QLabel* col_title_ = nullptr;
  QSpinBox* top_k_ = nullptr;
  std::shared_ptr<const SparseMatrixData> matrix_;
  Describer describer_;
  ThumbnailProvider thumbnails_;
  qint64 row_ = -1, col_ = -1;
};

}  // namespace otcs
