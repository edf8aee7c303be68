#pragma once
// Exact W2 between two discrete measures (weighted point sets), for evaluating conditional samplers against
// a reference conditional. Solved as the transportation problem min <C, P> over couplings with C the squared
// Euclidean distance, by the primal network simplex (exact up to floating point, no regularisation). Meant
// for a few hundred to a few thousand points per side.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace otcs::diffusion {

struct TransportSolution {
  double cost = 0;  // sum_ij P_ij C_ij
  int64_t pivots = 0;
};

// C row-major [n * m]; a [n] and b [m] non-negative with equal positive sums (they are normalised to 1).
TransportSolution exact_transport(const std::vector<double>& C, int64_t n, int64_t m, std::vector<double> a,
                                  std::vector<double> b);

// W2 = sqrt(min E|X - Y|^2) between x [n, d] with weights a (undefined: uniform) and y [m, d] with weights b.
double wasserstein2(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a = {},
                    const torch::Tensor& b = {});

}  // namespace otcs::diffusion
