#include "widgets/smoothing.h"

#include <QtGlobal>
#include <cmath>

namespace otcs {

Smoother::Smoother(SmoothingMode mode, double ema_weight, int window)
    : mode_(mode), weight_(qBound(0.0, ema_weight, 0.9999)), window_(qMax(1, window)) {
  reset();
}

void Smoother::reset() {
  ema_ = 0.0;
  debias_ = 0.0;
  ring_ = QVector<double>(mode_ == SmoothingMode::WindowedMean ? window_ : 0, 0.0);
  ring_pos_ = 0;
  ring_count_ = 0;
  ring_sum_ = 0.0;
  pushes_since_resum_ = 0;
}

double Smoother::push(double value) {
  if (!std::isfinite(value) || mode_ == SmoothingMode::Off) return value;
  if (mode_ == SmoothingMode::Ema) {
    ema_ = weight_ * ema_ + (1.0 - weight_) * value;
    debias_ = weight_ * debias_ + (1.0 - weight_);
    return ema_ / debias_;
  }
  if (ring_count_ == window_)
    ring_sum_ -= ring_[ring_pos_];
  else
    ++ring_count_;
  ring_[ring_pos_] = value;
  ring_sum_ += value;
  ring_pos_ = (ring_pos_ + 1) % window_;
  // A running sum drifts over millions of points; re-add the window now and then.
  if (++pushes_since_resum_ >= 65536) {
    pushes_since_resum_ = 0;
    ring_sum_ = 0.0;
    for (int i = 0; i < ring_count_; ++i) ring_sum_ += ring_[(ring_pos_ - 1 - i + window_) % window_];
  }
  return ring_sum_ / ring_count_;
}

QVector<double> emaDebiased(const QVector<double>& values, double weight) {
  Smoother s(SmoothingMode::Ema, weight, 1);
  QVector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(s.push(v));
  return out;
}

QVector<double> windowedMean(const QVector<double>& values, int window) {
  Smoother s(SmoothingMode::WindowedMean, 0.0, window);
  QVector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(s.push(v));
  return out;
}

}  // namespace otcs
