#include "core/ot/exact.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::ot {

namespace {

// Connected components of the bipartite support graph must carry as much source as target mass, otherwise no
// coupling supported on the mask exists (e.g. keypoints with n != m: a keypoint source can only send its 1/n to
// its partner, which must receive exactly 1/m) and the dual is unbounded.
void check_feasible(const torch::Tensor& mask, int64_t n, int64_t m) {
  auto rows = mask.sum(1), cols = mask.sum(0);
  if ((rows <= 0).any().item<bool>())
    fail("the mask leaves source {} without any allowed target", torch::nonzero(rows <= 0)[0].item<int64_t>());
  if ((cols <= 0).any().item<bool>())
    fail("the mask leaves target {} without any allowed source", torch::nonzero(cols <= 0)[0].item<int64_t>());
  std::vector<int64_t> parent(size_t(n + m));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int64_t a) {
    while (parent[size_t(a)] != a) a = parent[size_t(a)] = parent[size_t(parent[size_t(a)])];
    return a;
  };
  auto mk = mask.to(torch::kBool).contiguous();
  const bool* mp = mk.data_ptr<bool>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      if (!mp[i * m + j]) continue;
      auto a = find(i), b = find(n + j);
      if (a != b) parent[size_t(a)] = b;
    }
  }
  std::vector<double> balance(size_t(n + m), 0.0);
  for (int64_t i = 0; i < n; ++i) balance[size_t(find(i))] += 1.0 / double(n);
  for (int64_t j = 0; j < m; ++j) balance[size_t(find(n + j))] -= 1.0 / double(m);
  for (double b : balance)
    if (std::abs(b) > 1e-12)
      fail(
          "no coupling with uniform marginals is supported on this mask (a group of samples that may only be "
          "matched among themselves holds {} more source than target mass; with keypoints, use as many sources "
          "as targets)",
          b);
}

// Dense n x m work buffers, allocated once: fresh multi-megabyte tensors per evaluation cost more in page
// faults than the arithmetic (measured ~0.5 s per 72 MB allocation on the 2-core dev machine).
struct Work {
  torch::Tensor G, M;   // inputs (float64; M undefined = all ones)
  torch::Tensor P, P2;  // M * relu(u_i + v_j - G_ij) at the current point and at a trial point
  torch::Tensor A;      // M * [V > 0] as float64 (the generalised Hessian's pattern)
  int64_t n = 0, m = 0;
  double p = 0, q = 0, w = 0;
  int iterations = 0;  // Newton iterations over every continuation stage, for progress reports

  // Fills `out` with M * relu(u + v - G) and returns the dual objective.
  double dual(const torch::Tensor& u, const torch::Tensor& v, double eps, torch::Tensor& out) const {
    torch::sub_out(out, v.unsqueeze(0), G);
    out.add_(u.unsqueeze(1)).relu_();
    if (M.defined()) out.mul_(M);
    auto flat = out.view({-1});
    const double quad = torch::dot(flat, flat).item<double>();
    return p * u.sum().item<double>() + q * v.sum().item<double>() - w * quad / (4.0 * eps);
  }
};

struct StageResult {
  int newton = 0, cg = 0;
  double residual = 0;
};

// Semismooth Newton on the dual at one eps, from (u, v), until the relative marginal residual is below tol.
StageResult newton_stage(Work& W, torch::Tensor& u, torch::Tensor& v, double eps, double tol,
                         const ExactOptions& options) {
  StageResult st;
  const int64_t n = W.n, m = W.m;
  const double s_scale = W.w / (2.0 * eps);
  double dual = W.dual(u, v, eps, W.P);
  torch::Tensor gu, gv;
  auto gradient = [&]() {
    gu = W.p - s_scale * W.P.sum(1);
    gv = W.q - s_scale * W.P.sum(0);
    return std::max(double(n) * gu.abs().max().item<double>(), double(m) * gv.abs().max().item<double>());
  };
  st.residual = gradient();
  if (options.on_iteration && W.iterations == 0) options.on_iteration(0, eps, dual, st.residual);
  for (int it = 0; it < options.max_newton && st.residual > tol; ++it) {
    torch::sign_out(W.A, W.P);  // P >= 0, so sign(P) is the active pattern
    // Newton system scaled by 1/s_scale: [diag(A1) A; A^T diag(A^T 1)] d = g / s_scale, plus lambda I, a
    // Levenberg term that vanishes with the residual and keeps CG well posed when a row has no active pair.
    const double lambda = std::min(1.0, st.residual) * 1e-2 + 1e-12;
    auto row_cnt = W.A.sum(1) + lambda, col_cnt = W.A.sum(0) + lambda;
    auto bu = gu / s_scale, bv = gv / s_scale;
    torch::Tensor du = torch::zeros_like(bu), dv = torch::zeros_like(bv);
    torch::Tensor ru = bu.clone(), rv = bv.clone();
    torch::Tensor zu = ru / row_cnt, zv = rv / col_cnt;
    torch::Tensor pu = zu.clone(), pv = zv.clone();
    torch::Tensor qu = torch::empty_like(bu), qv = torch::empty_like(bv);
    auto At = W.A.t();
    double rz = torch::dot(ru, zu).item<double>() + torch::dot(rv, zv).item<double>();
    const double b_norm = std::sqrt(torch::dot(bu, bu).item<double>() + torch::dot(bv, bv).item<double>());
    const double eta = std::max(1e-14, std::min(options.cg_relative_tolerance, st.residual));
    for (int k = 0; k < options.max_cg; ++k) {
      const double r_norm = std::sqrt(torch::dot(ru, ru).item<double>() + torch::dot(rv, rv).item<double>());
      if (r_norm <= eta * b_norm) break;
      torch::mv_out(qu, W.A, pv);
      qu.addcmul_(row_cnt, pu);
      torch::mv_out(qv, At, pu);
      qv.addcmul_(col_cnt, pv);
      const double pq = torch::dot(pu, qu).item<double>() + torch::dot(pv, qv).item<double>();
      if (!(pq > 0)) break;
      const double alpha = rz / pq;
      du.add_(pu, alpha);
      dv.add_(pv, alpha);
      ru.sub_(qu, alpha);
      rv.sub_(qv, alpha);
      torch::div_out(zu, ru, row_cnt);
      torch::div_out(zv, rv, col_cnt);
      const double rz_new = torch::dot(ru, zu).item<double>() + torch::dot(rv, zv).item<double>();
      pu.mul_(rz_new / rz).add_(zu);
      pv.mul_(rz_new / rz).add_(zv);
      rz = rz_new;
      ++st.cg;
    }
    // Armijo backtracking on the concave dual along the ascent direction. Near the optimum the predicted
    // increase drops below the dual's rounding error (~1e-16 |D|) and Armijo can no longer tell a good step
    // from a bad one; there the merit is the marginal residual instead (Newton's own convergence measure).
    const double slope = torch::dot(gu, du).item<double>() + torch::dot(gv, dv).item<double>();
    const bool in_roundoff = slope < 1e-12 * std::max(1.0, std::abs(dual));
    double t = 1.0, trial = 0, trial_residual = 0;
    torch::Tensor tgu, tgv;
    bool accepted = false;
    for (int ls = 0; ls < (in_roundoff ? 30 : 60); ++ls) {
      trial = W.dual(u + t * du, v + t * dv, eps, W.P2);
      if (in_roundoff) {
        tgu = W.p - s_scale * W.P2.sum(1);
        tgv = W.q - s_scale * W.P2.sum(0);
        trial_residual =
            std::max(double(n) * tgu.abs().max().item<double>(), double(m) * tgv.abs().max().item<double>());
        if (trial_residual < st.residual) {
          accepted = true;
          break;
        }
      } else if (trial >= dual + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    ++st.newton;
    if (!accepted) {
      // At machine precision neither the dual nor the residual improves; the residual says where we stopped.
      spdlog::debug("exact OT: line search stalled at residual {:.3g}", st.residual);
      break;
    }
    u.add_(du, t);
    v.add_(dv, t);
    std::swap(W.P, W.P2);
    dual = trial;
    st.residual = gradient();
    ++W.iterations;
    if (options.on_iteration) options.on_iteration(W.iterations, eps, dual, st.residual);
    spdlog::trace("exact OT: eps {:.3g} newton {} step {:.3g} residual {:.3e} dual {:.12g}", eps, it, t, st.residual,
                  dual);
  }
  return st;
}

}  // namespace

ExactResult solve_exact(const torch::Tensor& G_in, double epsilon, const torch::Tensor& mask_in,
                        const torch::Tensor& C_in, const ExactOptions& options) {
  if (G_in.dim() != 2 || G_in.size(0) == 0 || G_in.size(1) == 0)
    throw std::invalid_argument("exact: G must be a non-empty matrix");
  if (!(epsilon > 0)) throw std::invalid_argument("exact: epsilon must be positive");
  if (mask_in.defined() && mask_in.sizes() != G_in.sizes()) throw std::invalid_argument("exact: mask must match G");
  if (C_in.defined() && C_in.sizes() != G_in.sizes()) throw std::invalid_argument("exact: C must match G");
  torch::NoGradGuard no_grad;
  Work W;
  W.n = G_in.size(0);
  W.m = G_in.size(1);
  const int64_t n = W.n, m = W.m;
  W.p = 1.0 / double(n);
  W.q = 1.0 / double(m);
  W.w = W.p * W.q;
  W.G = G_in.to(torch::kFloat64).contiguous();
  if (mask_in.defined()) {
    W.M = (mask_in.to(torch::kFloat64) != 0).to(torch::kFloat64);
    check_feasible(W.M, n, m);
  }
  W.P = torch::empty({n, m}, torch::kFloat64);
  W.P2 = torch::empty({n, m}, torch::kFloat64);
  W.A = torch::empty({n, m}, torch::kFloat64);

  // Start from the stationary point of the dual without the positivity (all pairs active):
  // u_i = eps0 + mean_j G_ij - mean G / 2, v_j likewise, exact whenever that plan is non-negative. For small eps
  // Newton from there needs many damped steps, so eps is approached by continuation from eps0 = spread(G) / 100
  // in factors of 10, each stage warm-starting the next (the potentials converge as eps shrinks).
  const double gbar = W.G.mean().item<double>();
  const double spread = W.G.std().item<double>();
  double eps0 = std::max(epsilon, 1e-2 * spread);
  torch::Tensor u = eps0 + W.G.mean(1) - gbar / 2.0;
  torch::Tensor v = eps0 + W.G.mean(0) - gbar / 2.0;
  ExactResult result;
  for (double eps = eps0;; eps = std::max(epsilon, eps / 10.0)) {
    const bool last = eps <= epsilon;
    auto st = newton_stage(W, u, v, eps, last ? options.tolerance : 1e-6, options);
    result.newton_iterations += st.newton;
    result.cg_iterations += st.cg;
    spdlog::debug("exact OT: eps {:.3g}: {} Newton, {} CG steps, residual {:.3g}", eps, st.newton, st.cg, st.residual);
    if (last) break;
  }

  // Fix the gauge (u + c, v - c leaves everything unchanged): equal means.
  const double shift = (v.mean().item<double>() - u.mean().item<double>()) / 2.0;
  u.add_(shift);
  v.sub_(shift);
  const double dual = W.dual(u, v, epsilon, W.P);
  result.u = u;
  result.v = v;
  result.plan = W.P.mul_(W.w / (2.0 * epsilon));
  W.P2 = torch::Tensor();
  W.A = torch::Tensor();
  result.dual_objective = dual;
  auto flat = result.plan.view({-1});
  const double g_pi = torch::dot(W.G.view({-1}), flat).item<double>();
  result.primal_objective = g_pi + epsilon * torch::dot(flat, flat).item<double>() / W.w;
  result.transport_cost =
      C_in.defined() ? torch::dot(C_in.to(torch::kFloat64).contiguous().view({-1}), flat).item<double>() : g_pi;
  result.marginal_error_rows = (result.plan.sum(1) - W.p).abs().max().item<double>();
  result.marginal_error_cols = (result.plan.sum(0) - W.q).abs().max().item<double>();
  const double gap =
      std::abs(result.primal_objective - result.dual_objective) / std::max(1.0, std::abs(result.dual_objective));
  result.kkt = std::max({double(n) * result.marginal_error_rows, double(m) * result.marginal_error_cols, gap});
  result.converged = result.kkt <= std::max(1e-8, options.tolerance * 10);
  return result;
}

}  // namespace otcs::ot
