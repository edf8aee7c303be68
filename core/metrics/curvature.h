#pragma once
// Trajectory curvature of a sampler's path, for any sampler that records states x_k at times t_k (EDM's Heun
// path, core/diffusion/edm.h: Trajectory; the DDPM/DDIM samplers' TrajectoryRecorder frames: frame.t, frame.x).
// Definition (the rectified-flow / AOT notion, "how far the velocity strays from the straight chord"):
//   chord velocity   v̄ = (x_K − x_0) / (t_K − t_0)
//   step velocity    v_k = (x_{k+1} − x_k) / (t_{k+1} − t_k),  k = 0 .. K−1
//   curvature        C = Σ_k w_k ‖v_k − v̄‖² / ‖v̄‖²,  w_k = |t_{k+1} − t_k| / |t_K − t_0|
// per sample, then the mean over samples. The weights make C the time integral of the normalised squared
// deviation (a grid with many short steps near σ = 0, as Heun's ρ = 7 grid, is not over-counted), the
// normalisation by ‖v̄‖² makes it scale-free. A straight path at constant speed has C = 0; the path of an
// ideal OT pairing (x = data + σ n, a fixed data point) is straight in σ.
#include <vector>

#include <torch/types.h>

namespace otcs::metrics {

// t: K + 1 >= 2 distinct times; x: the K + 1 states, each [B, ...] with the same shape.
double trajectory_curvature(const std::vector<double>& t, const std::vector<torch::Tensor>& x);

}  // namespace otcs::metrics
