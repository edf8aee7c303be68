#pragma once
// The keypoint pairs as a table (model/view): index, source, target, their coordinates when known, and
// thumbnails when a provider is set. Every user edit goes through the undoable requests below, each one step
// on the undo stack that either fully applies or changes nothing.
#include <QAbstractTableModel>
#include <QImage>
#include <QPointF>
#include <QVector>
#include <functional>

#include "widgets/keypointpair.h"

class QUndoStack;

namespace otcs {

class PairTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { IndexColumn, SourceColumn, TargetColumn, SourcePositionColumn, TargetPositionColumn, ColumnCount };
  using ThumbnailProvider = std::function<QImage(Domain, qint64)>;

  explicit PairTableModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  const KeypointPairs& pairs() const { return pairs_; }
  KeypointPair pairAt(int row) const { return pairs_.value(row); }
  int rowOfSource(qint64 source) const;
  int rowOfTarget(qint64 target) const;
  int rowOf(const KeypointPair& pair) const;

  void setCoordinates(QVector<QPointF> source, QVector<QPointF> target);
  QPointF position(Domain domain, qint64 index) const;  // NaN when unknown
  void setThumbnailProvider(ThumbnailProvider provider) { thumbnails_ = std::move(provider); }

  // Raw edits for the undo commands and for loading a project; views use the requests below.
  void setPairs(const KeypointPairs& pairs);
  void insertPairAt(int row, const KeypointPair& pair);
  KeypointPair takePairAt(int row);

 signals:
  void pairsChanged();

 private:
  KeypointPairs pairs_;
  QVector<QPointF> source_pos_, target_pos_;
  ThumbnailProvider thumbnails_;
};

// Adds `pair` as one undo step. A source or target can belong to one pair only (the OT stage rejects anything
// else), so pairs sharing either index are replaced within the same step. Returns false (and pushes nothing)
// for an invalid pair or one that already exists.
bool requestAddPair(QUndoStack* stack, PairTableModel* model, const KeypointPair& pair);
// Removes the given rows as one undo step; false when no row is valid.
bool requestRemovePairs(QUndoStack* stack, PairTableModel* model, QList<int> rows);

}  // namespace otcs
