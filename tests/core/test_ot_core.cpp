// The OT core against definitions written out by hand: costs vs brute force, the released dual and H formulas,
// JS and the keypoint mask on hand-made cases, the exact solver's KKT conditions, the tiled sparse bridge vs the
// dense computation (threshold, row cap, empty-row policies), potentials and the trainer's determinism,
// cancellation and checkpoints, and the point-cloud reader.
#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/points.h"
#include "core/ot/bridge.h"
#include "core/ot/cost.h"
#include "core/ot/dual.h"
#include "core/ot/exact.h"
#include "core/ot/keypoints.h"
#include "core/ot/plan.h"
#include "core/ot/potentials.h"
#include "core/ot/trainer.h"

using namespace otcs::ot;
namespace fs = std::filesystem;

namespace {

torch::Tensor brute_cost(const torch::Tensor& x, const torch::Tensor& y, CostKind kind) {
  auto out = torch::empty({x.size(0), y.size(0)}, torch::kFloat64);
  for (int64_t i = 0; i < x.size(0); ++i)
    for (int64_t j = 0; j < y.size(0); ++j) {
      auto a = x[i], b = y[j];
      double c = 0;
      switch (kind) {
        case CostKind::L2:
          c = (a - b).pow(2).mean().item<double>();
          break;
        case CostKind::L1:
          c = (a - b).abs().mean().item<double>();
          break;
        case CostKind::SqEuclidean:
          c = (a - b).pow(2).sum().item<double>();
          break;
        case CostKind::Cosine:
          c = 1.0 - (a.dot(b) / (a.norm() * b.norm())).item<double>();
          break;
      }
      out[i][j] = c;
    }
  return out;
}

// The released KL/JS, written with the n x m x K broadcast exactly as OT_solver.py does.
torch::Tensor released_js(const torch::Tensor& P, const torch::Tensor& Q) {
  auto p = P.unsqueeze(1), q = Q.unsqueeze(0), mid = (p + q) / 2;
  auto kl = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a * (a + 1e-10).log() - a * (b + 1e-10).log()).sum(-1);
  };
  return 0.5 * (kl(p, mid) + kl(q, mid));
}

double max_abs(const torch::Tensor& a) { return a.abs().max().item<double>(); }

}  // namespace

class TestOtCore : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string path(const char* name) { return (fs::path(tmp_.path().toStdString()) / name).string(); }

 private Q_SLOTS:
  void initTestCase() { torch::manual_seed(7); }

  void costsMatchBruteForce() {
    auto x = torch::randn({9, 5}, torch::kFloat64), y = torch::randn({7, 5}, torch::kFloat64);
    y[3] = x[2];  // an identical pair: the GEMM identity must give exactly 0 there, not a tiny negative
    for (auto kind : {CostKind::L2, CostKind::L1, CostKind::Cosine, CostKind::SqEuclidean}) {
      auto want = brute_cost(x, y, kind);
      auto got = cost_matrix(x, y, kind);
      QCOMPARE(got.scalar_type(), torch::kFloat64);
      QVERIFY2(max_abs(got - want) < 1e-12, cost_name(kind).c_str());
      QVERIFY((got >= 0).all().item<bool>() || kind == CostKind::Cosine);
      if (kind != CostKind::Cosine) QCOMPARE(got[2][3].item<double>(), 0.0);
      // float32 inputs: float32 result, same values to single precision
      auto got32 = cost_matrix(x.to(torch::kFloat32), y.to(torch::kFloat32), kind);
      QCOMPARE(got32.scalar_type(), torch::kFloat32);
      QVERIFY(max_abs(got32.to(torch::kFloat64) - want) < 1e-4 * (1 + max_abs(want)));
      // tiles cover every row once and agree with the full matrix
      auto tiled = torch::zeros_like(want);
      int tiles = 0;
      for_each_cost_tile(x, y, kind, 4, [&](int64_t r0, const torch::Tensor& block) {
        tiled.slice(0, r0, r0 + block.size(0)).copy_(block);
        ++tiles;
      });
      QCOMPARE(tiles, 3);
      QVERIFY(max_abs(tiled - want) < 1e-12);
    }
    QCOMPARE(parse_cost("cosine"), CostKind::Cosine);
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, parse_cost("l3"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cost_matrix(x, torch::randn({3, 4}), CostKind::L2));
  }

  void meanCostsAreDividedByTheDimension() {
    auto x = torch::zeros({1, 4}, torch::kFloat64), y = torch::full({1, 4}, 2.0, torch::kFloat64);
    QCOMPARE(cost_matrix(x, y, CostKind::L2).item<double>(), 4.0);            // mean of 2^2
    QCOMPARE(cost_matrix(x, y, CostKind::SqEuclidean).item<double>(), 16.0);  // sum
    QCOMPARE(cost_matrix(x, y, CostKind::L1).item<double>(), 2.0);
  }

  void dualAndCompatibilityFollowTheReleasedFormulas() {
    auto u = torch::tensor({1.0, 2.0}, torch::kFloat64), v = torch::tensor({0.5, -1.0}, torch::kFloat64);
    auto G = torch::tensor({1.0, 0.0, 3.0, 0.5}, torch::kFloat64).reshape({2, 2});
    // V = [[0.5, 0], [-0.5, 0.5]]: mean relu(V)^2 = 0.125; D = 1.5 - 0.25 - 0.125 / (4 * 0.5)
    QCOMPARE(dual_objective(u, v, G, 0.5).item<double>(), 1.1875);
    auto M = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
    QCOMPARE(dual_objective(u, v, G, 0.5, M).item<double>(), 1.25 - 0.0625 / 2.0);
    // H uses 1/(2 eps), not 1/(4 eps)
    auto H = compatibility(u, v, G, 0.5);
    QVERIFY(torch::allclose(H, torch::tensor({0.5, 0.0, 0.0, 0.5}, torch::kFloat64).reshape({2, 2})));
    // d D / d u_0 = 1/2 - mean_j relu(V_0j) * 2 / (4 eps) / 2 rows... checked by autograd against the closed form
    auto ug = u.clone().requires_grad_(true);
    dual_objective(ug, v, G, 0.5).backward();
    const double want = 0.5 - (2.0 * 0.5 / 4.0) / (4.0 * 0.5);
    QVERIFY(std::abs(ug.grad()[0].item<double>() - want) < 1e-15);
    // diagnostics: a plan whose H averages 1 on every row and column has zero marginal errors
    auto Hu = torch::tensor({2.0, 0.0, 0.0, 2.0}, torch::kFloat64).reshape({2, 2});
    auto C = torch::tensor({1.0, 9.0, 9.0, 3.0}, torch::kFloat64).reshape({2, 2});
    auto d = plan_diagnostics(Hu, C);
    QCOMPARE(d.marginal_error_rows, 0.0);
    QCOMPARE(d.marginal_error_cols, 0.0);
    QCOMPARE(d.transport_cost, 2.0);
    QCOMPARE(d.nonzero_fraction, 0.5);
  }

  void jsMatchesTheReleasedDefinition() {
    const double s = 1e-10;
    auto P = torch::tensor({1.0, 0.0}, torch::kFloat64).reshape({1, 2});
    auto Q = torch::tensor({0.0, 1.0}, torch::kFloat64).reshape({1, 2});
    const double disjoint = std::log(1 + s) - std::log(0.5 + s);  // each KL; JS = their mean
    QVERIFY(std::abs(js_matrix(P, Q).item<double>() - disjoint) < 1e-15);
    QVERIFY(std::abs(disjoint - std::log(2.0)) < 1e-9);
    QVERIFY(std::abs(js_matrix(P, P).item<double>()) < 1e-15);
    auto A = torch::softmax(torch::randn({6, 4}, torch::kFloat64), 1);
    auto B = torch::softmax(torch::randn({5, 4}, torch::kFloat64), 1);
    QVERIFY(max_abs(js_matrix(A, B) - released_js(A, B)) < 1e-14);
    QVERIFY(max_abs(js_matrix(A.to(torch::kFloat32), B.to(torch::kFloat32)).to(torch::kFloat64) - released_js(A, B)) <
            1e-6);
    // relation vectors: softmax_k(-c(x, x_k) / tau) with the OT cost and no factor 2
    auto x = torch::randn({3, 2}, torch::kFloat64), kp = torch::randn({4, 2}, torch::kFloat64);
    auto R = relation_vectors(x, kp, CostKind::L2, 0.1);
    auto c = brute_cost(x, kp, CostKind::L2);
    auto e = (-c / 0.1).exp();
    QVERIFY(max_abs(R - e / e.sum(1, true)) < 1e-12);
  }

  void maskIsOneOnlyForNonKeypointsAndPartners() {
    // sources: 0 = no keypoint, 1 = pair 0, 2 = pair 1; targets: 0 = pair 1, 1 = no keypoint, 2 = pair 0
    auto sp = torch::tensor({-1, 0, 1}, torch::kInt64), tp = torch::tensor({1, -1, 0}, torch::kInt64);
    auto want = torch::tensor({0.0, 1.0, 0.0,   // neither / exactly one is a keypoint
                               0.0, 0.0, 1.0,   // pair 0 only with its partner
                               1.0, 0.0, 0.0},  // pair 1 only with its partner
                              torch::kFloat32)
                    .reshape({3, 3});
    QVERIFY(torch::equal(keypoint_mask(sp, tp), want));
    // through the guidance object: keypoint index pairs into finite sets
    auto S = torch::randn({5, 2}, torch::kFloat64), T = torch::randn({4, 2}, torch::kFloat64);
    KeypointPairs kp{torch::tensor({3, 0}, torch::kInt64), torch::tensor({1, 2}, torch::kInt64)};
    GuidanceOptions go;
    go.tau = 0.5;
    KeypointGuidance g(S, T, kp, go);
    auto M = g.mask({}, {});
    QCOMPARE(M.sum().item<double>(), 3.0 * 2.0 + 2.0);  // 3 x 2 non-keypoint block + 2 partner entries
    QCOMPARE(M[3][1].item<double>(), 1.0);
    QCOMPARE(M[3][2].item<double>(), 0.0);
    QCOMPARE(M[1][0].item<double>(), 1.0);
    QCOMPARE(M[1][1].item<double>(), 0.0);
    // G = (1 - alpha) C + alpha g
    auto C = cost_matrix(S, T, CostKind::L2);
    auto gfull = released_js(relation_vectors(S, S.index_select(0, kp.source_index), CostKind::L2, 0.5),
                             relation_vectors(T, T.index_select(0, kp.target_index), CostKind::L2, 0.5));
    QVERIFY(max_abs(g.guided_cost({}, {}, C, torch::kFloat64) - gfull) < 1e-14);
    go.alpha = 0.25;
    KeypointGuidance g2(S, T, kp, go);
    QVERIFY(max_abs(g2.guided_cost({}, {}, C, torch::kFloat64) - (0.75 * C + 0.25 * gfull)) < 1e-14);
    // bad pairs are user errors naming the problem
    KeypointPairs bad{torch::tensor({5}, torch::kInt64), torch::tensor({0}, torch::kInt64)};
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, validate_keypoints(bad, 5, 4, "k.csv"));
    KeypointPairs dup{torch::tensor({1, 1}, torch::kInt64), torch::tensor({0, 2}, torch::kInt64)};
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, validate_keypoints(dup, 5, 4, "k.csv"));
  }

  void exactSolverMeetsKktOnRandomProblems() {
    struct Case {
      int64_t n, m, d;
      CostKind cost;
      double eps;
    };
    const Case cases[] = {{60, 45, 2, CostKind::L2, 1e-2},           {150, 120, 5, CostKind::L2, 1e-3},
                          {80, 100, 3, CostKind::L1, 1e-3},          {90, 90, 8, CostKind::Cosine, 1e-4},
                          {120, 70, 2, CostKind::SqEuclidean, 1e-1}, {200, 200, 2, CostKind::L2, 1e-5}};
    for (const auto& c : cases) {
      auto x = torch::randn({c.n, c.d}, torch::kFloat64), y = torch::randn({c.m, c.d}, torch::kFloat64) + 0.5;
      auto C = cost_matrix(x, y, c.cost);
      auto r = solve_exact(C, c.eps);
      const auto label = QString("%1x%2 %3 eps=%4: kkt %5 rows %6 cols %7")
                             .arg(c.n)
                             .arg(c.m)
                             .arg(cost_name(c.cost).c_str())
                             .arg(c.eps)
                             .arg(r.kkt)
                             .arg(r.marginal_error_rows)
                             .arg(r.marginal_error_cols)
                             .toStdString();
      QVERIFY2(r.converged, label.c_str());
      QVERIFY2(r.kkt <= 1e-8, label.c_str());
      QVERIFY2(r.marginal_error_rows <= 1e-9 && r.marginal_error_cols <= 1e-9, label.c_str());
      // independent of the solver's own bookkeeping: the plan is H p q from the returned potentials
      auto plan = compatibility(r.u, r.v, C, c.eps) / double(c.n * c.m);
      QVERIFY(max_abs(plan - r.plan) < 1e-15);
      QVERIFY(max_abs(plan.sum(1) - 1.0 / double(c.n)) <= 1e-9);
      QVERIFY(max_abs(plan.sum(0) - 1.0 / double(c.m)) <= 1e-9);
      // optimality: any perturbation of the potentials lowers the (concave) dual
      const double d0 = dual_objective(r.u, r.v, C, c.eps).item<double>();
      QVERIFY(std::abs(d0 - r.dual_objective) < 1e-12);
      for (int k = 0; k < 3; ++k) {
        auto du = torch::randn({c.n}, torch::kFloat64) * 1e-3 * c.eps;
        auto dv = torch::randn({c.m}, torch::kFloat64) * 1e-3 * c.eps;
        QVERIFY(dual_objective(r.u + du, r.v + dv, C, c.eps).item<double>() <= d0 + 1e-15);
      }
      QVERIFY(std::abs(r.u.mean().item<double>() - r.v.mean().item<double>()) < 1e-12);  // gauge fixed
    }
  }

  void exactSolverWithKeypointMask() {
    const int64_t n = 70;
    auto S = torch::randn({n, 2}, torch::kFloat64), T = torch::randn({n, 2}, torch::kFloat64);
    KeypointPairs kp{torch::tensor({0, 10, 20}, torch::kInt64), torch::tensor({5, 15, 25}, torch::kInt64)};
    GuidanceOptions go;
    go.tau = 0.1;
    KeypointGuidance g(S, T, kp, go);
    auto C = cost_matrix(S, T, CostKind::L2);
    auto G = g.guided_cost({}, {}, C, torch::kFloat64);
    auto M = g.mask({}, {}, torch::kFloat64);
    auto r = solve_exact(G, 1e-3, M, C);
    QVERIFY(r.kkt <= 1e-8);
    QVERIFY(r.marginal_error_rows <= 1e-9 && r.marginal_error_cols <= 1e-9);
    QVERIFY((r.plan * (1 - M)).abs().max().item<double>() == 0.0);  // nothing outside the mask
    for (int k = 0; k < 3; ++k)                                     // a keypoint sends everything to its partner
      QVERIFY(std::abs(r.plan[kp.source_index[k].item<int64_t>()][kp.target_index[k].item<int64_t>()].item<double>() -
                       1.0 / double(n)) < 1e-12);
    // n != m with keypoints: no coupling exists on the mask
    auto T2 = torch::randn({n + 1, 2}, torch::kFloat64);
    KeypointGuidance g2(S, T2, kp, go);
    QVERIFY_THROWS_EXCEPTION(
        otcs::UserError, solve_exact(g2.guided_cost({}, {}, cost_matrix(S, T2, CostKind::L2), torch::kFloat64), 1e-3,
                                     g2.mask({}, {}, torch::kFloat64)));
  }

  void bridgeMatchesTheDenseComputation() {
    const int64_t n = 41, m = 33;
    auto S = torch::rand({n, 6}, torch::kFloat64), T = torch::rand({m, 6}, torch::kFloat64);
    for (auto kind : {CostKind::L2, CostKind::L1, CostKind::Cosine, CostKind::SqEuclidean}) {
      auto C = cost_matrix(S, T, kind);
      const double eps = 1e-2;
      // potentials that leave a few entries per row above the threshold
      auto u = torch::rand({n}, torch::kFloat64) * 0.02 + C.mean().item<double>() * 0.8;
      auto v = torch::zeros({m}, torch::kFloat64);
      auto dense = compatibility(u, v, C, eps);
      BridgeOptions opt;
      opt.cost = kind;
      opt.epsilon = eps;
      opt.dtype = torch::kFloat64;
      opt.empty_rows = EmptyRowPolicy::KeepEmpty;
      for (int64_t tile : {int64_t(0), int64_t(7)}) {
        opt.tile_rows = tile;
        auto res = bridge_from_potentials(u, v, S, T, opt);
        res.H.check();
        auto want = SparseMatrix::from_dense(dense, 0.1);
        QVERIFY2(torch::equal(res.H.indptr, want.indptr), cost_name(kind).c_str());
        QVERIFY(torch::equal(res.H.indices, want.indices));
        QVERIFY(max_abs(res.H.values.to(torch::kFloat64) - want.values.to(torch::kFloat64)) < 1e-5);
        QVERIFY(res.H.nnz() > n && res.H.nnz() < n * m);
      }
      // float32 tiles (the fast path) agree to single precision
      opt.dtype = torch::kFloat32;
      opt.tile_rows = 0;
      auto res32 = bridge_from_potentials(u, v, S, T, opt);
      auto d32 = res32.H.to_dense().to(torch::kFloat64);
      QVERIFY(max_abs(d32 - dense * (dense > 0.1)) < 1e-2 * (1 + max_abs(dense)));
    }
  }

  void bridgeRowCapKeepsTheLargestEntries() {
    const int64_t n = 20, m = 50;
    auto S = torch::rand({n, 3}, torch::kFloat64), T = torch::rand({m, 3}, torch::kFloat64);
    auto C = cost_matrix(S, T, CostKind::L2);
    auto u = torch::full({n}, C.max().item<double>(), torch::kFloat64), v = torch::zeros({m}, torch::kFloat64);
    BridgeOptions opt;
    opt.epsilon = 1e-2;
    opt.dtype = torch::kFloat64;
    opt.row_cap = 5;
    auto res = bridge_from_potentials(u, v, S, T, opt);
    auto dense = compatibility(u, v, C, 1e-2);
    QCOMPARE(res.H.nnz(), n * 5);
    for (int64_t i = 0; i < n; ++i) {
      auto top = std::get<0>(std::get<1>(dense[i].topk(5)).sort());
      auto got = res.H.indices.slice(0, i * 5, i * 5 + 5);
      QVERIFY(torch::equal(got, top));
    }
  }

  void bridgeEmptyRowPolicies() {
    const int64_t n = 6, m = 8;
    auto S = torch::rand({n, 2}, torch::kFloat64), T = torch::rand({m, 2}, torch::kFloat64);
    auto C = cost_matrix(S, T, CostKind::L2);
    auto u = torch::full({n}, C.max().item<double>() + 1.0, torch::kFloat64);
    u[1] = -10.0;  // rows 1, 4 and 5 keep nothing
    u[4] = -10.0;
    u[5] = -10.0;
    auto v = torch::zeros({m}, torch::kFloat64);
    v[3] = 0.5;  // so the argmax of u + v - C in an empty row is well defined
    BridgeOptions opt;
    opt.epsilon = 1e-2;
    opt.dtype = torch::kFloat64;
    opt.empty_rows = EmptyRowPolicy::KeepEmpty;
    auto keep = bridge_from_potentials(u, v, S, T, opt);
    QCOMPARE(keep.empty_rows, (std::vector<int64_t>{1, 4, 5}));
    QVERIFY(torch::equal(keep.H.empty_rows(), torch::tensor({1, 4, 5}, torch::kInt64)));
    QVERIFY(torch::equal(keep.redirect, torch::tensor({0, -1, 2, 3, -1, -1}, torch::kInt64)));
    opt.empty_rows = EmptyRowPolicy::NextSource;
    auto next = bridge_from_potentials(u, v, S, T, opt);
    QCOMPARE(next.H.nnz(), keep.H.nnz());                                                    // H unchanged
    QVERIFY(torch::equal(next.redirect, torch::tensor({0, 2, 2, 3, 0, 0}, torch::kInt64)));  // cyclic
    opt.empty_rows = EmptyRowPolicy::Nearest;
    auto nearest = bridge_from_potentials(u, v, S, T, opt);
    QCOMPARE(nearest.H.nnz(), keep.H.nnz() + 3);
    QVERIFY(nearest.H.empty_rows().numel() == 0);
    for (int64_t i : {1, 4, 5}) {
      QCOMPARE(nearest.H.row_nnz(i), int64_t(1));
      const int64_t at = nearest.H.indptr[i].item<int64_t>();
      const int64_t want = (v - C[i]).argmax().item<int64_t>();
      QCOMPARE(nearest.H.indices[at].item<int64_t>(), want);
      QCOMPARE(nearest.H.values[at].item<float>(), 0.1f);
    }
    QVERIFY(torch::equal(nearest.redirect, torch::arange(n, torch::kInt64)));
  }

  void guidedBridgeUsesGuidanceAndMask() {
    const int64_t n = 30;
    auto S = torch::randn({n, 2}, torch::kFloat64), T = torch::randn({n, 2}, torch::kFloat64);
    KeypointPairs kp{torch::tensor({2, 9}, torch::kInt64), torch::tensor({4, 11}, torch::kInt64)};
    GuidanceOptions go;
    go.tau = 0.3;
    go.alpha = 0.5;
    KeypointGuidance g(S, T, kp, go);
    auto C = cost_matrix(S, T, CostKind::L2);
    auto G = g.guided_cost({}, {}, C, torch::kFloat64);
    auto u = torch::full({n}, G.mean().item<double>(), torch::kFloat64), v = torch::zeros({n}, torch::kFloat64);
    BridgeOptions opt;
    opt.epsilon = 1e-2;
    opt.dtype = torch::kFloat64;
    opt.guidance = &g;
    opt.tile_rows = 8;
    opt.empty_rows = EmptyRowPolicy::KeepEmpty;
    auto dense = compatibility(u, v, G, 1e-2);
    auto unmasked = bridge_from_potentials(u, v, S, T, opt);  // as released: no mask
    QVERIFY(max_abs(unmasked.H.to_dense().to(torch::kFloat64) - dense * (dense > 0.1)) < 1e-5);
    opt.apply_mask = true;
    auto masked = bridge_from_potentials(u, v, S, T, opt);
    auto dm = dense * g.mask({}, {}, torch::kFloat64);
    QVERIFY(max_abs(masked.H.to_dense().to(torch::kFloat64) - dm * (dm > 0.1)) < 1e-5);
    QVERIFY(masked.H.nnz() < unmasked.H.nnz());
  }

  void planEvaluationAgreesWithTheExactSolver() {
    auto S = torch::randn({50, 3}, torch::kFloat64), T = torch::randn({40, 3}, torch::kFloat64);
    auto C = cost_matrix(S, T, CostKind::L1);
    auto r = solve_exact(C, 1e-3);
    auto ev = evaluate_plan(r.u, r.v, S, T, CostKind::L1, 1e-3, nullptr, true, 7);
    QVERIFY(max_abs(ev.plan - r.plan) < 1e-15);
    QVERIFY(std::abs(ev.dual_objective - r.dual_objective) < 1e-12);
    QVERIFY(std::abs(ev.transport_cost - r.transport_cost) < 1e-12);
    QVERIFY(ev.marginal_error_rows <= 1e-9 && std::abs(ev.mass - 1.0) < 1e-9);
  }

  void potentialsShapesAndRoundTrip() {
    PotentialSpec spec;
    spec.input_dim = 5;
    spec.width = 16;
    spec.depth = 3;  // OTCS's num_hidden_layers: 3 extra W x W layers
    spec.activation = Activation::Tanh;
    auto p = make_potential(spec, 11);
    int64_t count = 0;
    for (const auto& t : p->parameters()) count += t.numel();
    QCOMPARE(count, int64_t((5 * 16 + 16) + 3 * (16 * 16 + 16) + (16 + 1)));
    auto x = torch::randn({7, 5});
    auto out = p->forward(x, {});
    QCOMPARE(out.sizes(), (torch::IntArrayRef{7}));
    QVERIFY(torch::equal(make_potential(spec, 11)->forward(x, {}), out));  // seeded construction
    QVERIFY(!torch::equal(make_potential(spec, 12)->forward(x, {}), out));
    save_potential(path("p.pt"), *p);
    auto back = load_potential(path("p.pt"));
    QVERIFY(torch::equal(back->forward(x, {}), out));
    QVERIFY(torch::allclose(evaluate_potential(*p, x, 3), out));
    PotentialSpec tab;
    tab.kind = PotentialKind::Tabular;
    tab.size = 4;
    tab.dtype = torch::kFloat64;
    auto t = make_potential(tab, 0);
    {
      torch::NoGradGuard g;
      t->parameters()[0].copy_(torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64));
    }
    QVERIFY(
        torch::equal(t->forward({}, torch::tensor({3, 0}, torch::kInt64)), torch::tensor({4.0, 1.0}, torch::kFloat64)));
    QVERIFY_THROWS_EXCEPTION(otcs::UserError, load_potential(path("missing.pt")));
  }

  void trainerIsDeterministicCancellableAndResumable() {
    auto S = torch::randn({64, 2}), T = torch::randn({48, 2}) + 1.0;
    TrainerOptions o;
    o.epsilon = 0.05;
    o.batch_size = 16;
    o.iterations = 60;
    o.lr = 1e-2;
    o.seed = 3;
    o.u_spec.width = o.v_spec.width = 16;
    o.diagnostics_every = 20;
    auto run = [&](TrainerOptions opt) {
      DualTrainer t(S, T, opt);
      t.run();
      return evaluate_potential(*t.u(), S);
    };
    auto a = run(o), b = run(o);
    QVERIFY(torch::equal(a, b));
    auto o2 = o;
    o2.seed = 4;
    QVERIFY(!torch::equal(a, run(o2)));

    // events, diagnostics cadence and cancellation at a step boundary
    DualTrainer t(S, T, o);
    std::atomic<bool> cancel{false};
    int events = 0, diags = 0;
    t.set_callback([&](const TrainerEvent& e) {
      ++events;
      diags += e.has_diagnostics;
      if (e.has_diagnostics) QVERIFY(e.diagnostics.nonzero_fraction >= 0 && e.diagnostics.mass >= 0);
      QVERIFY(std::isfinite(e.dual_objective));
      if (e.step == 25) cancel = true;
    });
    auto r1 = t.run(&cancel);
    QVERIFY(r1.cancelled);
    QCOMPARE(r1.steps_done, int64_t(25));
    QCOMPARE(diags, 1);
    // checkpoint mid-run, restore into a fresh trainer, finish: same result as the uninterrupted run
    t.save_checkpoint(path("ckpt.pt"));
    DualTrainer t2(S, T, o);
    t2.load_checkpoint(path("ckpt.pt"));
    QCOMPARE(t2.step(), int64_t(25));
    cancel = false;
    t2.run();
    QVERIFY(torch::equal(evaluate_potential(*t2.u(), S), a));
    t.set_callback({});
    t.run(&cancel);
    QCOMPARE(t.step(), int64_t(60));
    QVERIFY(torch::equal(evaluate_potential(*t.u(), S), a));
    QCOMPARE(events, 25);
  }

  void pointsReaderChecksItsInput() {
    auto ok = otcs::io::parse_points_csv("1,2\n3.5, -4\n\n", "a.csv");
    QVERIFY(torch::equal(ok, torch::tensor({1.0, 2.0, 3.5, -4.0}, torch::kFloat64).reshape({2, 2})));
    auto message = [](const std::string& text) {
      try {
        otcs::io::parse_points_csv(text, "p.csv");
      } catch (const otcs::UserError& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    QVERIFY(message("1,2\n3\n").find("ragged") != std::string::npos);
    QVERIFY(message("1,nan\n").find("finite") != std::string::npos);
    QVERIFY(message("1,inf\n").find("finite") != std::string::npos);
    QVERIFY(message("1,x\n").find("not a number") != std::string::npos);
    QVERIFY(message("").find("empty") != std::string::npos);
    QVERIFY(message("1,2\n").empty());
  }
};

QTEST_GUILESS_MAIN(TestOtCore)
#include "test_ot_core.moc"
