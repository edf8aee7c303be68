#include "core/ot/dual.h"

#include <stdexcept>

#include <torch/torch.h>

namespace otcs::ot {

namespace {
void check(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& G, const torch::Tensor& mask) {
  if (u.dim() != 1 || v.dim() != 1 || G.dim() != 2 || G.size(0) != u.size(0) || G.size(1) != v.size(0))
    throw std::invalid_argument("dual: expected u [B], v [B'], G [B, B']");
  if (mask.defined() && mask.sizes() != G.sizes()) throw std::invalid_argument("dual: mask must match G");
}
}  // namespace

torch::Tensor dual_objective(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& G, double epsilon,
                             const torch::Tensor& mask) {
  check(u, v, G, mask);
  if (!(epsilon > 0)) throw std::invalid_argument("dual: epsilon must be positive");
  auto V = torch::relu(u.unsqueeze(1) + v.unsqueeze(0) - G);
  auto sq = V * V;
  if (mask.defined()) sq = sq * mask;
  return u.mean() + v.mean() - sq.mean() / (4.0 * epsilon);
}

torch::Tensor compatibility(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& G, double epsilon) {
  check(u, v, G, {});
  if (!(epsilon > 0)) throw std::invalid_argument("dual: epsilon must be positive");
  return torch::relu(u.unsqueeze(1) + v.unsqueeze(0) - G) / (2.0 * epsilon);
}

PlanDiagnostics plan_diagnostics(const torch::Tensor& H_in, const torch::Tensor& C, const torch::Tensor& mask) {
  torch::NoGradGuard no_grad;
  auto H = H_in.to(torch::kFloat64);
  if (mask.defined()) H = H * mask.to(torch::kFloat64);
  PlanDiagnostics d;
  auto rows = H.mean(1), cols = H.mean(0);
  d.marginal_error_rows = (rows - 1.0).abs().mean().item<double>();
  d.marginal_error_cols = (cols - 1.0).abs().mean().item<double>();
  d.mass = H.mean().item<double>();
  const double total = H.sum().item<double>();
  d.transport_cost = total > 0 ? (H * C.to(torch::kFloat64)).sum().item<double>() / total : 0.0;
  d.nonzero_fraction = (H > 0).to(torch::kFloat64).mean().item<double>();
  return d;
}

}  // namespace otcs::ot
