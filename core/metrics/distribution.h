#pragma once
// Distances between two sets of feature vectors (rows = samples): the Fréchet distance between the Gaussians
// fitted to them (the formula behind FID) and the kernel inception distance (unbiased MMD² with the cubic
// polynomial kernel k(x, y) = (x·y/d + 1)³, averaged over random subsets). Which network produced the features
// must be named next to every number: with our own classifier these are not comparable to published FID/KID.
#include <torch/types.h>

namespace otcs::metrics {

double frechet_distance(const torch::Tensor& a, const torch::Tensor& b);

struct KidResult {
  double mean = 0, stddev = 0;
};
KidResult kernel_inception_distance(const torch::Tensor& a, const torch::Tensor& b, int subsets = 10,
                                    int subset_size = 1000, uint64_t seed = 0);

}  // namespace otcs::metrics
