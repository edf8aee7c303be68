#pragma once
// The keypoint pairs as a table (model/view): index, source, target, their coordinates when known, and
// thumbnails when a provider is set. A read-only view of the pairs it is given: edits are requested from the
// project model, which owns the pairs, and come back through setPairs.
#include <QAbstractTableModel>
#include <QImage>
#include <QPointF>
#include <QVector>
#include <functional>

#include "widgets/keypointpair.h"

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

  void setPairs(const KeypointPairs& pairs);

 signals:
  void pairsChanged();

 private:
  KeypointPairs pairs_;
  QVector<QPointF> source_pos_, target_pos_;
  ThumbnailProvider thumbnails_;
};

}  // namespace otcs
