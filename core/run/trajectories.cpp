#include "core/run/trajectories.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/npy.h"

namespace otcs::run {

void write_trajectories(const std::string& path, const TrajectoryArrays& a) {
  io::write_npz(path, {{"x", a.x.to(torch::kFloat32).contiguous()},
                       {"x0", a.x0.to(torch::kFloat32).contiguous()},
                       {"step", a.step.to(torch::kInt64).contiguous()},
                       {"t", a.t.to(torch::kFloat64).contiguous()},
                       {"sources", a.sources.to(torch::kInt64).contiguous()}});
}

TrajectoryArrays read_trajectories(const std::string& path) {
  auto arrays = io::read_npz(path);
  for (const char* key : {"x", "x0", "step", "t", "sources"})
    if (!arrays.count(key)) fail("{}: missing array '{}'", path, key);
  TrajectoryArrays a;
  a.x = arrays["x"].to(torch::kFloat32).contiguous();
  a.x0 = arrays["x0"].to(torch::kFloat32).contiguous();
  a.step = arrays["step"].to(torch::kInt64).contiguous();
  a.t = arrays["t"].to(torch::kFloat64).contiguous();
  a.sources = arrays["sources"].to(torch::kInt64).contiguous();
  if (a.x.dim() != 4 || a.x0.sizes() != a.x.sizes() || a.step.numel() != a.x.size(0) || a.t.numel() != a.x.size(0) ||
      a.sources.numel() != a.x.size(1))
    fail(
        "{}: unexpected array shapes (x must be [frames, sources, paths, dim], x0 the same, step and t one per "
        "frame, sources one per source)",
        path);
  return a;
}

}  // namespace otcs::run
