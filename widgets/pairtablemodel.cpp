#include "widgets/pairtablemodel.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace otcs {

PairTableModel::PairTableModel(QObject* parent) : QAbstractTableModel(parent) {}

int PairTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : pairs_.size(); }

int PairTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

namespace {
QString pointText(const QPointF& p) {
  if (std::isnan(p.x())) return QStringLiteral("–");
  return QString("(%1, %2)").arg(p.x(), 0, 'f', 3).arg(p.y(), 0, 'f', 3);
}
}  // namespace

QVariant PairTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= pairs_.size()) return {};
  const KeypointPair& p = pairs_[index.row()];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case IndexColumn:
        return index.row() + 1;
      case SourceColumn:
        return p.source;
      case TargetColumn:
        return p.target;
      case SourcePositionColumn:
        return pointText(position(Domain::Source, p.source));
      case TargetPositionColumn:
        return pointText(position(Domain::Target, p.target));
    }
  } else if (role == Qt::DecorationRole && thumbnails_) {
    if (index.column() == SourceColumn) return thumbnails_(Domain::Source, p.source);
    if (index.column() == TargetColumn) return thumbnails_(Domain::Target, p.target);
  } else if (role == Qt::TextAlignmentRole) {
    return int((index.column() >= SourcePositionColumn ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter);
  } else if (role == Qt::UserRole) {
    return QVariant::fromValue(p);
  }
  return {};
}

QVariant PairTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case IndexColumn:
      return "#";
    case SourceColumn:
      return "source";
    case TargetColumn:
      return "target";
    case SourcePositionColumn:
      return "source (x, y)";
    case TargetPositionColumn:
      return "target (x, y)";
  }
  return {};
}

int PairTableModel::rowOfSource(qint64 source) const {
  for (int i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].source == source) return i;
  return -1;
}

int PairTableModel::rowOfTarget(qint64 target) const {
  for (int i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].target == target) return i;
  return -1;
}

int PairTableModel::rowOf(const KeypointPair& pair) const { return pairs_.indexOf(pair); }

void PairTableModel::setCoordinates(QVector<QPointF> source, QVector<QPointF> target) {
  source_pos_ = std::move(source);
  target_pos_ = std::move(target);
  if (!pairs_.isEmpty())
    emit dataChanged(index(0, SourcePositionColumn), index(pairs_.size() - 1, TargetPositionColumn));
}

QPointF PairTableModel::position(Domain domain, qint64 i) const {
  const auto& v = domain == Domain::Source ? source_pos_ : target_pos_;
  if (i < 0 || i >= v.size())
    return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  return v[i];
}

void PairTableModel::setPairs(const KeypointPairs& pairs) {
  beginResetModel();
  pairs_ = pairs;
  endResetModel();
  emit pairsChanged();
}

}  // namespace otcs
