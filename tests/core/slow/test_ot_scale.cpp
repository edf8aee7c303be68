// The OT core at sizes closer to real data (label "slow"): the exact solver on a 1,500 x 1,500 problem, the
// float32 GEMM bridge against float64 at MNIST dimension, and an MLP trained on a 16-dimensional problem against
// the exact plan.
#include <QtTest/QtTest>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/ot/bridge.h"
#include "core/ot/cost.h"
#include "core/ot/exact.h"
#include "core/ot/plan.h"
#include "core/ot/trainer.h"

using namespace otcs::ot;

class TestOtScale : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void exactSolverOnAThousandsProblem() {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    auto S = torch::randn({1500, 2}, gen, torch::kFloat64), T = torch::randn({1500, 2}, gen, torch::kFloat64) + 0.7;
    auto C = cost_matrix(S, T, CostKind::L2);
    auto r = solve_exact(C, 1e-4);
    qInfo("1500 x 1500, eps 1e-4: %d Newton, %d CG steps, KKT %.3g, marginal errors %.3g / %.3g", r.newton_iterations,
          r.cg_iterations, r.kkt, r.marginal_error_rows, r.marginal_error_cols);
    QVERIFY(r.kkt <= 1e-8);
    QVERIFY(r.marginal_error_rows <= 1e-9 && r.marginal_error_cols <= 1e-9);
  }

  void float32BridgeAgreesWithFloat64AtMnistDimension() {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
    const int64_t n = 3000, m = 2500, d = 784;
    auto centres = torch::rand({10, d}, gen, torch::kFloat32);
    auto make = [&](int64_t count) {
      auto x = centres.index_select(0, torch::randint(10, {count}, gen, torch::kInt64));
      return x.add_(torch::randn({count, d}, gen, torch::kFloat32), 0.15).clamp_(0.0, 1.0);
    };
    auto S = make(n), T = make(m);
    const double eps = 1e-3;
    // potentials that keep a few dozen entries per row: u_i at the 2 % quantile of row i's cost
    auto C = cost_matrix(S.to(torch::kFloat64), T.to(torch::kFloat64), CostKind::L2);
    auto u = std::get<0>(C.kthvalue(int64_t(0.02 * m), 1)) + 2 * eps * 0.137;  // no entry sits on the threshold
    auto v = torch::zeros({m}, torch::kFloat64);
    BridgeOptions opt;
    opt.epsilon = eps;
    opt.empty_rows = EmptyRowPolicy::KeepEmpty;
    opt.dtype = torch::kFloat64;
    auto ref = bridge_from_potentials(u, v, S, T, opt).H.to_dense().to(torch::kFloat64);
    opt.dtype = torch::kFloat32;
    auto fast = bridge_from_potentials(u, v, S, T, opt).H.to_dense().to(torch::kFloat64);
    auto exact_h = torch::relu(u.unsqueeze(1) + v.unsqueeze(0) - C) / (2 * eps);
    // float64 tiles: the dense formula up to rounding (H is stored in float32) and entries within rounding of 0.1
    auto off = (ref - exact_h * (exact_h > 0.1)).abs() > 1e-6 * (1 + exact_h);
    QVERIFY((off & ((exact_h - 0.1).abs() > 1e-9)).sum().item<int64_t>() == 0);
    // float32 tiles: every entry well above the threshold is kept, nothing well below is, values to ~1e-3 of
    // the cost scale (GEMM-identity cancellation in single precision)
    const double tol = 1e-3 / (2 * eps) * C.mean().item<double>() * 0.1;
    QVERIFY(((exact_h > 0.1 + tol) & (fast == 0)).sum().item<int64_t>() == 0);
    QVERIFY(((exact_h < 0.1 - tol) & (fast > 0)).sum().item<int64_t>() == 0);
    auto both = (fast > 0) & (ref > 0);
    QVERIFY(((fast - ref).abs() * both).max().item<double>() <= tol);
    const int64_t nnz = (ref > 0).sum().item<int64_t>();
    qInfo("3000 x 2500 x 784: %ld entries above 0.1, float32 tolerance %.3g", long(nnz), tol);
    QVERIFY(nnz > n * 10);
  }

  void mlpOnASixteenDimensionalProblemIsCloseToExact() {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    auto S = torch::randn({300, 16}, gen, torch::kFloat32),
         T = torch::randn({300, 16}, gen, torch::kFloat32) * 0.7 + 0.5;
    auto C = cost_matrix(S.to(torch::kFloat64), T.to(torch::kFloat64), CostKind::L2);
    const double eps = 0.02;
    auto ex = solve_exact(C, eps);
    TrainerOptions o;
    o.epsilon = eps;
    o.batch_size = 64;
    o.iterations = 3000;
    o.lr = 1e-2 * C.mean().item<double>();
    o.schedule = LrSchedule::Cosine;
    o.lr_final_fraction = 1e-3;
    o.averaging_start = 0.5;
    o.u_spec.width = o.v_spec.width = 64;
    DualTrainer trainer(S, T, o);
    trainer.run();
    auto u = evaluate_potential(*trainer.u(), S), v = evaluate_potential(*trainer.v(), T);
    auto ev = evaluate_plan(u, v, S, T, CostKind::L2, eps, nullptr, true);
    const double rel = (ev.plan - ex.plan).abs().sum().item<double>();
    qInfo("16-D MLP: relative L1 distance to the exact plan %.4f", rel);
    QVERIFY(rel <= 0.10);
  }
};

QTEST_GUILESS_MAIN(TestOtScale)
#include "test_ot_scale.moc"
