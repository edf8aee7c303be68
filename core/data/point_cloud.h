#pragma once
// Point-cloud datasets: rows = samples. Read from .npy (float32/float64) or .csv (no header, one sample a line),
// or generated as a Gaussian mixture from a seed, so a project file can describe its data without shipping it.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/data/specs.h"

namespace otcs::data {

struct PointCloud {
  torch::Tensor points;  // float32 [n, d]
  torch::Tensor labels;  // int64 [n]: the mixture component of each point; -1 for points read from a file
  int64_t size() const { return points.defined() ? points.size(0) : 0; }
  int64_t dim() const { return points.defined() ? points.size(1) : 0; }
};

// The components get floor(n w_k / sum w) points each (the remainder goes to the last one), in blocks,
// component after component (as the OTCS demos generate their mixtures). Deterministic in the seed.
PointCloud generate_mixture(const std::vector<MixtureComponent>& components, int64_t n, uint64_t seed);

// .npy or .csv (io::read_points: UserError naming the file for anything malformed), as float32.
torch::Tensor read_point_cloud(const std::string& path);

// Per-coordinate mean and total standard deviation sqrt(trace Cov) of a cloud [n, d].
double total_std(const torch::Tensor& points);

}  // namespace otcs::data
