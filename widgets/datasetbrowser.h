#pragma once
// Both domains of a project side by side: 2-D (or higher-dimensional, by their first two coordinates) point
// clouds as scatter plots coloured by label, image-like data as lazy thumbnail grids (model/view: only visible
// thumbnails are ever decoded, so thousands of samples never stall), each with a label filter.
#include <QAbstractListModel>
#include <QCache>
#include <QImage>
#include <QPointF>
#include <QVector>
#include <QWidget>
#include <functional>

#include "widgets/figureexport.h"
#include "widgets/keypointpair.h"

class QComboBox;
class QLabel;
class QListView;
class QSortFilterProxyModel;
class QStackedWidget;

namespace otcs {

class StyledPlot;

// Lazy thumbnails: DecorationRole asks the provider only for items the view paints, and keeps a bounded cache.
class ThumbnailModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles { LabelRole = Qt::UserRole + 1, IndexRole };
  using Provider = std::function<QImage(qint64)>;
  explicit ThumbnailModel(QObject* parent = nullptr);
  void setSamples(qint64 count, QVector<int> labels, Provider provider, int thumbnailSize = 56);
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  qint64 decodedCount() const { return decoded_; }

 private:
  qint64 count_ = 0;
  QVector<int> labels_;
  Provider provider_;
  int size_ = 56;
  mutable QCache<qint64, QImage> cache_;
  mutable qint64 decoded_ = 0;
};

class DatasetPane : public QWidget {
  Q_OBJECT
 public:
  explicit DatasetPane(const QString& title, QWidget* parent = nullptr);
  // `thumbnail` null: shown as a scatter of `xy`; else as a thumbnail grid.
  void setData(const QVector<QPointF>& xy, const QVector<int>& labels, ThumbnailModel::Provider thumbnail, int dim);
  void setLabelFilter(int label);  // -1: all
  int visibleCount() const;
  StyledPlot* plot() const { return plot_; }
  QListView* list() const { return list_; }
  ThumbnailModel* model() const { return model_; }
  bool showsImages() const;
  // Makes sample `i` the current (selected) thumbnail and scrolls to it (clearing the label filter if it hides it);
  // -1 clears the selection. Emits nothing.
  void selectSample(qint64 i);
  qint64 selectedSample() const;

 signals:
  void sampleClicked(qint64 index);  // a thumbnail was clicked (the sample's index in the whole set)

 private:
  void rebuildScatter();

  QString title_;
  QLabel* header_ = nullptr;
  QComboBox* filter_ = nullptr;
  QStackedWidget* stack_ = nullptr;
  StyledPlot* plot_ = nullptr;
  QListView* list_ = nullptr;
  ThumbnailModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QVector<QPointF> xy_;
  QVector<int> labels_;
  int label_filter_ = -1;
};

class DatasetBrowser : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  explicit DatasetBrowser(QWidget* parent = nullptr);
  DatasetPane* pane(Domain domain) const { return domain == Domain::Source ? source_ : target_; }

  QString figureName() const override { return "datasets"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;
  void setCsvData(const QVector<QPointF>& source, const QVector<int>& sourceLabels, const QVector<QPointF>& target,
                  const QVector<int>& targetLabels);

 private:
  DatasetPane* source_ = nullptr;
  DatasetPane* target_ = nullptr;
  QVector<QPointF> csv_source_, csv_target_;
  QVector<int> csv_source_labels_, csv_target_labels_;
};

}  // namespace otcs
