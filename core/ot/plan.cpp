#include "core/ot/plan.h"

#include <stdexcept>

#include <torch/torch.h>

namespace otcs::ot {

PlanEvaluation evaluate_plan(const torch::Tensor& u_in, const torch::Tensor& v_in, const torch::Tensor& source,
                             const torch::Tensor& target, CostKind cost, double epsilon,
                             const KeypointGuidance* guidance, bool keep_plan, int64_t tile_rows) {
  if (u_in.dim() != 1 || v_in.dim() != 1 || u_in.size(0) != source.size(0) || v_in.size(0) != target.size(0))
    throw std::invalid_argument("evaluate_plan: u must be [n] and v [m]");
  if (!(epsilon > 0)) throw std::invalid_argument("evaluate_plan: epsilon must be positive");
  torch::NoGradGuard no_grad;
  const int64_t n = source.size(0), m = target.size(0);
  const double w = 1.0 / (double(n) * double(m));
  auto u = u_in.to(torch::kFloat64), v = v_in.to(torch::kFloat64);
  if (tile_rows <= 0) tile_rows = std::max<int64_t>(1, (int64_t(8) << 20) / (8 * m));
  CostTiler tiler(target, cost, torch::kFloat64);
  PlanEvaluation ev;
  if (keep_plan) ev.plan = torch::empty({n, m}, torch::kFloat64);
  auto rows = torch::empty({n}, torch::kFloat64);
  auto cols = torch::zeros({m}, torch::kFloat64);
  double quad = 0, tc = 0, nnz = 0;
  torch::Tensor C;
  for (int64_t b = 0; b < n; b += tile_rows) {
    const int64_t e = std::min(n, b + tile_rows);
    tiler.compute_into(source.slice(0, b, e), C);
    torch::Tensor G = C, M;
    if (guidance) {
      auto si = torch::arange(b, e, torch::kInt64);
      G = guidance->guided_cost(si, {}, C, torch::kFloat64);
      M = guidance->mask(si, {}, torch::kFloat64);
    }
    auto P = torch::relu(u.slice(0, b, e).unsqueeze(1) + v.unsqueeze(0) - G);
    if (M.defined()) P.mul_(M);
    quad += (P * P).sum().item<double>();
    P.mul_(w / (2.0 * epsilon));  // now the plan tile
    tc += (P * C).sum().item<double>();
    nnz += (P > 0).sum().item<double>();
    rows.slice(0, b, e).copy_(P.sum(1));
    cols.add_(P.sum(0));
    if (keep_plan) ev.plan.slice(0, b, e).copy_(P);
  }
  ev.dual_objective = u.mean().item<double>() + v.mean().item<double>() - w * quad / (4.0 * epsilon);
  ev.transport_cost = tc;
  ev.mass = rows.sum().item<double>();
  auto re = (rows - 1.0 / double(n)).abs(), ce = (cols - 1.0 / double(m)).abs();
  ev.marginal_error_rows = re.max().item<double>();
  ev.marginal_error_cols = ce.max().item<double>();
  ev.marginal_error_rows_l1 = re.sum().item<double>();
  ev.marginal_error_cols_l1 = ce.sum().item<double>();
  ev.nonzero_fraction = nnz * w;
  return ev;
}

}  // namespace otcs::ot
