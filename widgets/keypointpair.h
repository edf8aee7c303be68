#pragma once
// A keypoint pair: a source sample and the target sample the user declares to correspond (indices into the two
// sets, as the project file stores them). A plain value type, like Hugin's ControlPoint.
#include <QMetaType>
#include <QVector>
#include <QtGlobal>

namespace otcs {

enum class Domain { Source, Target };

struct KeypointPair {
  qint64 source = -1;
  qint64 target = -1;
  bool operator==(const KeypointPair& o) const { return source == o.source && target == o.target; }
  bool operator!=(const KeypointPair& o) const { return !(*this == o); }
};

using KeypointPairs = QVector<KeypointPair>;

}  // namespace otcs

Q_DECLARE_METATYPE(otcs::KeypointPair)
