#include "widgets/paircreator.h"

namespace otcs {

PairCreator::PairCreator(QObject* parent) : QObject(parent) {}

QString PairCreator::describe(State state) {
  switch (state) {
    case State::NothingPicked:
      return "Pick a source point (or a target point).";
    case State::SourcePicked:
      return "Source picked: now pick its target.";
    case State::TargetPicked:
      return "Target picked: now pick its source.";
    case State::BothPicked:
      return "Both picked: press A (Add pair) to pair them, Esc to cancel.";
  }
  return {};
}

void PairCreator::update(qint64 source, qint64 target) {
  const State before = state_;
  const bool picks_changed = source != source_ || target != target_;
  source_ = source;
  target_ = target;
  if (source_ >= 0 && target_ >= 0)
    state_ = State::BothPicked;
  else if (source_ >= 0)
    state_ = State::SourcePicked;
  else if (target_ >= 0)
    state_ = State::TargetPicked;
  else
    state_ = State::NothingPicked;
  if (picks_changed) emit picksChanged(source_, target_);
  if (state_ != before) emit stateChanged(state_);
}

void PairCreator::pickSource(qint64 index) {
  if (index < 0) return;
  update(index, target_);
  if (auto_confirm_ && state_ == State::BothPicked) confirm();
}

void PairCreator::pickTarget(qint64 index) {
  if (index < 0) return;
  update(source_, index);
  if (auto_confirm_ && state_ == State::BothPicked) confirm();
}

bool PairCreator::confirm() {
  if (state_ != State::BothPicked) return false;
  const qint64 s = source_, t = target_;
  update(-1, -1);
  emit pairRequested(s, t);
  return true;
}

void PairCreator::cancel() { update(-1, -1); }

}  // namespace otcs
