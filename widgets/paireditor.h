#pragma once
// Visual keypoint pairing on 2-D data: click a source point and a target point (in either order) and add the
// pair (A, or automatically); the table lists the pairs, Delete removes the selected ones. The editor shows the
// pairs it is given and owns none: each edit is a request (a signal) that the owner of the pairs applies (in the
// workbench, as one undoable step of the project model) and then shows back with setPairs. "Suggest partner"
// proposes the target H couples most strongly with the picked source.
#include <QWidget>
#include <functional>

#include "widgets/datasetbrowser.h"
#include "widgets/figureexport.h"
#include "widgets/keypointpair.h"
#include "widgets/paircreator.h"

class QCheckBox;
class QLabel;
class QPushButton;
class QStackedWidget;
class QTableView;

namespace otcs {

class PairTableModel;
class ScatterPairView;

class PairEditor : public QWidget, public FigureSource {
  Q_OBJECT
 public:
  // Top-k partners of a source from the current coupling: (target, weight), best first.
  using SuggestionProvider = std::function<QVector<QPair<qint64, double>>(qint64 source, int k)>;

  explicit PairEditor(QWidget* parent = nullptr);

  void setPoints(const QVector<QPointF>& source, const QVector<QPointF>& target);
  // Image data: the two thumbnail galleries side by side replace the scatter; clicking a thumbnail picks that
  // sample (source on the left, target on the right). Null providers: back to the scatter of setPoints.
  void setImageSets(qint64 sourceCount, const QVector<int>& sourceLabels, ThumbnailModel::Provider source,
                    qint64 targetCount, const QVector<int>& targetLabels, ThumbnailModel::Provider target, int dim = 0);
  bool showsGalleries() const;
  DatasetPane* gallery(Domain domain) const { return domain == Domain::Source ? source_gallery_ : target_gallery_; }
  void setPairs(const KeypointPairs& pairs);  // the pairs to show (the owner's, after each edit)
  KeypointPairs pairs() const;
  void setSuggestionProvider(SuggestionProvider provider);

  PairCreator* creator() const { return creator_; }
  PairTableModel* model() const { return model_; }
  ScatterPairView* view() const { return view_; }
  QTableView* table() const { return table_; }

  bool addPickedPair();        // A
  bool deleteSelectedPairs();  // Delete (cancels a half-made pair first); requests the removal
  void clearPairs();           // requests the removal of every pair
  bool suggestPartner();       // S: picks the best target of the picked source

  // FigureSource: the scatter with its pair lines (image data: each pair's source and target thumbnails side by
  // side); CSV of the pairs with coordinates.
  QString figureName() const override { return "pairs"; }
  QSize figureSize() const override;
  void renderFigure(QCPPainter& painter, const QSize& size) override;
  void writeFigureCsv(QTextStream& out) const override;

 signals:
  void pairsChanged();  // the shown pairs changed
  // Edits for the owner of the pairs: add `pair` (replacing pairs that share its source or target), remove the
  // given rows, remove every pair.
  void addPairRequested(const otcs::KeypointPair& pair);
  void removePairsRequested(const QList<int>& rows);
  void clearPairsRequested();
  void statusMessage(const QString& text);

 private:
  void updateState();

  PairCreator* creator_ = nullptr;
  PairTableModel* model_ = nullptr;
  ScatterPairView* view_ = nullptr;
  QStackedWidget* left_ = nullptr;
  DatasetPane* source_gallery_ = nullptr;
  DatasetPane* target_gallery_ = nullptr;
  ThumbnailModel::Provider source_thumbs_, target_thumbs_;
  QLabel* help_ = nullptr;
  QTableView* table_ = nullptr;
  QLabel* state_label_ = nullptr;
  QPushButton* add_button_ = nullptr;
  QPushButton* suggest_button_ = nullptr;
  QPushButton* delete_button_ = nullptr;
  QCheckBox* auto_add_ = nullptr;
  SuggestionProvider suggestions_;
};

}  // namespace otcs
