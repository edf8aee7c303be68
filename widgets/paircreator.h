#pragma once
// The pair-creation state machine (after Hugin's CPEditorPanel): nothing picked -> source picked or target
// picked -> both picked -> confirmed (back to nothing). Picking again on a side replaces that side's pick, so
// a misclick never needs a cancel. With auto-confirm, picking the second side creates the pair at once.
#include <QObject>

#include "widgets/keypointpair.h"

namespace otcs {

class PairCreator : public QObject {
  Q_OBJECT
 public:
  enum class State { NothingPicked, SourcePicked, TargetPicked, BothPicked };
  Q_ENUM(State)

  explicit PairCreator(QObject* parent = nullptr);

  State state() const { return state_; }
  qint64 source() const { return source_; }  // -1 when not picked
  qint64 target() const { return target_; }
  bool autoConfirm() const { return auto_confirm_; }
  void setAutoConfirm(bool on) { auto_confirm_ = on; }

  void pickSource(qint64 index);  // negative indices are ignored
  void pickTarget(qint64 index);
  void pick(Domain domain, qint64 index) { domain == Domain::Source ? pickSource(index) : pickTarget(index); }
  // In BothPicked: emits pairRequested and returns to NothingPicked. Elsewhere: returns false, changes nothing.
  bool confirm();
  void cancel();  // any state -> NothingPicked

  static QString describe(State state);

 signals:
  void stateChanged(otcs::PairCreator::State state);
  void picksChanged(qint64 source, qint64 target);
  void pairRequested(qint64 source, qint64 target);

 private:
  void update(qint64 source, qint64 target);

  State state_ = State::NothingPicked;
  qint64 source_ = -1;
  qint64 target_ = -1;
  bool auto_confirm_ = false;
};

}  // namespace otcs
