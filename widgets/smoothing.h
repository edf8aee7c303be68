#pragma once
// Smoothing of noisy training curves, as users of TensorBoard and W&B expect it (ecosystem.md §1a):
// an exponential moving average with debiasing (the start is not pulled towards zero, a constant series stays
// constant) and a trailing windowed mean (finite memory). Non-finite inputs pass through as gaps and do not
// disturb the running state.
#include <QVector>

namespace otcs {

enum class SmoothingMode { Off, Ema, WindowedMean };

// Incremental smoother so that a live plot can append points without recomputing the whole series.
class Smoother {
 public:
  Smoother() = default;
  Smoother(SmoothingMode mode, double ema_weight, int window);

  // Weight w in [0, 1): s_t = w s_{t-1} + (1 - w) x_t, divided by (1 - w^n) for the n finite points seen so far.
  // Window: mean of the last `window` finite values (>= 1).
  double push(double value);
  void reset();

  SmoothingMode mode() const { return mode_; }

 private:
  SmoothingMode mode_ = SmoothingMode::Off;
  double weight_ = 0.6;
  int window_ = 1;
  double ema_ = 0.0;
  double debias_ = 0.0;
  QVector<double> ring_;
  int ring_pos_ = 0;
  int ring_count_ = 0;
  double ring_sum_ = 0.0;
  qint64 pushes_since_resum_ = 0;
};

QVector<double> emaDebiased(const QVector<double>& values, double weight);
QVector<double> windowedMean(const QVector<double>& values, int window);

}  // namespace otcs
