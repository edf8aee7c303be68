#include "widgets/pairtablemodel.h"

#include <QUndoCommand>
#include <QUndoStack>
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
      case IndexColumn: return index.row() + 1;
      case SourceColumn: return p.source;
      case TargetColumn: return p.target;
      case SourcePositionColumn: return pointText(position(Domain::Source, p.source));
      case TargetPositionColumn: return pointText(position(Domain::Target, p.target));
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
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case IndexColumn: return "#";
    case SourceColumn: return "source";
    case TargetColumn: return "target";
    case SourcePositionColumn: return "source (x, y)";
    case TargetPositionColumn: return "target (x, y)";
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
  if (!pairs_.isEmpty()) emit dataChanged(index(0, SourcePositionColumn), index(pairs_.size() - 1, TargetPositionColumn));
}

QPointF PairTableModel::position(Domain domain, qint64 i) const {
  const auto& v = domain == Domain::Source ? source_pos_ : target_pos_;
  if (i < 0 || i >= v.size()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  return v[i];
}

void PairTableModel::setPairs(const KeypointPairs& pairs) {
  beginResetModel();
  pairs_ = pairs;
  endResetModel();
  emit pairsChanged();
}

void PairTableModel::insertPairAt(int row, const KeypointPair& pair) {
  row = qBound(0, row, int(pairs_.size()));
  beginInsertRows({}, row, row);
  pairs_.insert(row, pair);
  endInsertRows();
  // Row numbers after the insertion shift.
  if (row + 1 < pairs_.size()) emit dataChanged(index(row + 1, IndexColumn), index(pairs_.size() - 1, IndexColumn));
  emit pairsChanged();
}

KeypointPair PairTableModel::takePairAt(int row) {
  if (row < 0 || row >= pairs_.size()) return {};
  beginRemoveRows({}, row, row);
  const KeypointPair p = pairs_.takeAt(row);
  endRemoveRows();
  if (row < pairs_.size()) emit dataChanged(index(row, IndexColumn), index(pairs_.size() - 1, IndexColumn));
  emit pairsChanged();
  return p;
}

namespace {

// Removes `rows` (ascending) in redo, re-inserts them at their old places in undo, and optionally appends one
// pair after the removal: the building block of both requests.
class PairEditCommand : public QUndoCommand {
 public:
  PairEditCommand(PairTableModel* model, QList<int> rows, KeypointPairs removed, bool add, KeypointPair added,
                  const QString& text)
      : QUndoCommand(text), model_(model), rows_(std::move(rows)), removed_(std::move(removed)), add_(add), added_(added) {}

  void redo() override {
    for (int i = rows_.size() - 1; i >= 0; --i) model_->takePairAt(rows_[i]);
    if (add_) model_->insertPairAt(model_->rowCount(), added_);
  }
  void undo() override {
    if (add_) model_->takePairAt(model_->rowCount() - 1);
    for (int i = 0; i < rows_.size(); ++i) model_->insertPairAt(rows_[i], removed_[i]);
  }

 private:
  PairTableModel* model_;
  QList<int> rows_;
  KeypointPairs removed_;
  bool add_;
  KeypointPair added_;
};

}  // namespace

bool requestAddPair(QUndoStack* stack, PairTableModel* model, const KeypointPair& pair) {
  if (pair.source < 0 || pair.target < 0 || model->rowOf(pair) >= 0) return false;
  QList<int> rows;
  for (int r : {model->rowOfSource(pair.source), model->rowOfTarget(pair.target)})
    if (r >= 0 && !rows.contains(r)) rows << r;
  std::sort(rows.begin(), rows.end());
  KeypointPairs removed;
  for (int r : rows) removed << model->pairAt(r);
  const QString text = rows.isEmpty() ? QString("Add pair %1 → %2").arg(pair.source).arg(pair.target)
                                      : QString("Re-pair %1 → %2").arg(pair.source).arg(pair.target);
  stack->push(new PairEditCommand(model, rows, removed, true, pair, text));
  return true;
}

bool requestRemovePairs(QUndoStack* stack, PairTableModel* model, QList<int> rows) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  rows.erase(std::remove_if(rows.begin(), rows.end(), [&](int r) { return r < 0 || r >= model->rowCount(); }),
             rows.end());
  if (rows.isEmpty()) return false;
  KeypointPairs removed;
  for (int r : rows) removed << model->pairAt(r);
  const QString text = rows.size() == 1 ? QString("Delete pair %1 → %2").arg(removed[0].source).arg(removed[0].target)
                                        : QString("Delete %1 pairs").arg(rows.size());
  stack->push(new PairEditCommand(model, rows, removed, false, {}, text));
  return true;
}

}  // namespace otcs
