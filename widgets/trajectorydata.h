#pragma once
// Recorded reverse-process trajectories as plain data: for one conditioning source, `count` tracked samples of
// dimension `dim`, and for each recorded frame the noisy state x_t and the model's estimate of the clean sample
// x̂0 (both [count * dim], row-major). 2-D data is drawn as paths; images need a shape.
#include <QPointF>
#include <QVector>
#include <QtGlobal>

namespace otcs {

struct TrajectoryFrame {
  qint64 step = 0;  // sampler step index
  double t = 0;     // diffusion time
  QVector<float> x, x0;
};

struct Trajectory {
  qint64 source = 0;
  QPointF sourcePoint{qQNaN(), qQNaN()};  // the conditioning source, when 2-D
  int count = 0, dim = 0;
  QVector<TrajectoryFrame> frames;  // in recording order: the first is pure noise, the last the final sample
};

struct ImageShape {
  int channels = 0, height = 0, width = 0;
  bool valid() const { return channels > 0 && height > 0 && width > 0; }
  int size() const { return channels * height * width; }
};

}  // namespace otcs
