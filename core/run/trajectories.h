#pragma once
// RUN/sample/trajectories.npz (and `otcs translate --trajectories`): recorded reverse processes. Arrays:
// x, x0 float32 [frames, sources, paths, dim] (x_t and the predicted x̂0; image runs: one path of C·H·W values per
// source), step int64 [frames], t float64 [frames], sources int64 [sources] (indices into the source set).
#include <string>

#include <torch/types.h>

namespace otcs::run {

struct TrajectoryArrays {
  torch::Tensor x, x0, step, t, sources;
};

void write_trajectories(const std::string& path, const TrajectoryArrays& arrays);
// Throws UserError naming the file when an array is missing or the shapes disagree; converts the dtypes above.
TrajectoryArrays read_trajectories(const std::string& path);

}  // namespace otcs::run
