#include "core/ot/dense.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::ot {

namespace {

// Solves sum_k relu(x_r - A_rk) = c for every row r of A (dim 1), warm-started at x where that is right of the root.
torch::Tensor newton_rows(const torch::Tensor& A, torch::Tensor x, double c, int64_t steps, double tol) {
  auto f_at = [&](const torch::Tensor& xx, torch::Tensor* count) {
    auto V = (xx.unsqueeze(1) - A).clamp_min_(0);
    if (count) *count = V.gt(0).sum(1).to(torch::kFloat32);
    return V.sum(1) - float(c);
  };
  auto safe = std::get<0>(A.min(1)) + float(c);  // f(safe) >= c - 0 >= 0: right of the root
  auto f0 = f_at(x, nullptr);
  x = torch::where(f0.ge(0) & torch::isfinite(f0), x, safe);
  for (int64_t k = 0; k < steps; ++k) {
    torch::Tensor count;
    auto f = f_at(x, &count);
    if (f.abs().max().item<double>() <= tol * c) break;
    x = x - f / count.clamp_min(1);
  }
  return x;
}

// The dual objective at (u, v), P = relu(u_i + v_j - G_ij) = 2 eps H: mean u + mean v - mean P^2 / (4 eps).
// `exact`: the sum of squares accumulated in float64 (a copy of P); else a float32 dot product, without the
// copy, for the per-step progress curve.
double dual_of(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& P, double epsilon, bool exact) {
  const auto flat = P.reshape({-1});
  const double squares = exact ? flat.to(torch::kFloat64).pow(2).sum().item<double>() : flat.dot(flat).item<double>();
  return u.to(torch::kFloat64).mean().item<double>() + v.to(torch::kFloat64).mean().item<double>() -
         squares / double(P.numel()) / (4 * epsilon);
}

// <G, pi> over the finite entries, pi = P / (2 eps n m). Masked entries (+inf in G) have P = 0 there, and the
// 0 * inf they make is the NaN that counts as 0.
double transport_cost_of(const torch::Tensor& P, const torch::Tensor& G, double epsilon, bool exact = false) {
  auto products = (P * G).nan_to_num_(0.0, 0.0, 0.0);
  const double sum = exact ? products.to(torch::kFloat64).sum().item<double>() : products.sum().item<double>();
  return sum / (2 * epsilon * double(P.numel()));
}

}  // namespace

DenseDualResult solve_dense_dual(const torch::Tensor& G_in, const DenseDualOptions& o,
                                 const std::function<bool(const DenseDualProgress&)>& progress) {
  torch::NoGradGuard no_grad;
  const auto t0 = std::chrono::steady_clock::now();
  if (G_in.dim() != 2) fail("dense OT: expected a cost matrix");
  if (!(o.epsilon > 0)) fail("dense OT: epsilon must be > 0");
  auto G = G_in.to(torch::kFloat32).contiguous();
  const int64_t n = G.size(0), m = G.size(1);
  const double c_row = 2 * o.epsilon * double(m), c_col = 2 * o.epsilon * double(n);
  auto u = torch::zeros({n}, torch::kFloat32);
  auto v = torch::zeros({m}, torch::kFloat32);
  DenseDualResult r;
  if (o.adam_steps > 0) {
    // Adam (ascent) on the exact gradient; the 1/n, 1/m factors are dropped (Adam is scale-free per coordinate).
    auto mu = torch::zeros_like(u), vu = torch::zeros_like(u), mv = torch::zeros_like(v), vv = torch::zeros_like(v);
    const double b1 = 0.9, b2 = 0.999;
    for (int64_t k = 1; k <= o.adam_steps; ++k) {
      auto P = (u.unsqueeze(1) + v.unsqueeze(0) - G).clamp_min_(0);
      auto gu = 1 - P.sum(1) / float(c_row);
      auto gv = 1 - P.sum(0) / float(c_col);
      if (progress) {
        DenseDualProgress p;
        p.phase = DenseDualProgress::Phase::Adam;
        p.step = k;
        p.dual_objective = dual_of(u, v, P, o.epsilon, false);
        p.marginal_error_rows = gu.abs().max().item<double>();
        p.marginal_error_cols = gv.abs().max().item<double>();
        if (k % 10 == 0 || k == 1 || k == o.adam_steps) {
          p.has_plan_diagnostics = true;
          p.transport_cost = transport_cost_of(P, G, o.epsilon);
        }
        if (!progress(p)) break;
      }
      P = torch::Tensor();
      const double lr = o.adam_lr * (0.01 + 0.99 * 0.5 * (1 + std::cos(M_PI * double(k - 1) / double(o.adam_steps))));
      const double bc1 = 1 - std::pow(b1, double(k)), bc2 = 1 - std::pow(b2, double(k));
      mu.mul_(b1).add_(gu, 1 - b1);
      vu.mul_(b2).addcmul_(gu, gu, 1 - b2);
      mv.mul_(b1).add_(gv, 1 - b1);
      vv.mul_(b2).addcmul_(gv, gv, 1 - b2);
      u.add_(mu / bc1 / ((vu / bc2).sqrt() + 1e-12), lr);
      v.add_(mv / bc1 / ((vv / bc2).sqrt() + 1e-12), lr);
    }
  }
  for (int64_t s = 1; s <= o.max_sweeps; ++s) {
    u = newton_rows(G - v.unsqueeze(0), u, c_row, o.newton_steps, o.tolerance * 0.1);
    v = newton_rows((G - u.unsqueeze(1)).t().contiguous(), v, c_col, o.newton_steps, o.tolerance * 0.1);
    auto P = (u.unsqueeze(1) + v.unsqueeze(0) - G).clamp_min_(0);  // 2 eps H
    const double row_err = (P.sum(1) / float(c_row) - 1).abs().max().item<double>();
    const double dual = dual_of(u, v, P, o.epsilon, true);
    r.sweeps = s;
    r.dual_objective = dual;
    r.marginal_error_rows = row_err;
    bool go_on = true;
    if (progress) {
      DenseDualProgress p;
      p.step = o.adam_steps + s;
      p.dual_objective = dual;
      p.marginal_error_rows = row_err;
      p.marginal_error_cols = (P.sum(0) / float(c_col) - 1).abs().max().item<double>();
      p.has_plan_diagnostics = true;
      p.transport_cost = transport_cost_of(P, G, o.epsilon);
      go_on = progress(p);
    }
    if (row_err <= o.tolerance) {
      r.converged = true;
      break;
    }
    if (!go_on) break;
  }
  auto P = (u.unsqueeze(1) + v.unsqueeze(0) - G).clamp_min_(0);
  r.marginal_error_cols = (P.sum(0) / float(c_col) - 1).abs().max().item<double>();
  r.transport_cost = transport_cost_of(P, G, o.epsilon, true);
  r.u = u.to(torch::kFloat64);
  r.v = v.to(torch::kFloat64);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace otcs::ot
