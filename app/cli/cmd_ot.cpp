// `otcs ot`: L2-regularised OT (unsupervised or keypoint-guided) between two point clouds, solved exactly or by
// the stochastic dual (tabular or MLP potentials), with the plan, the potentials, the sparse compatibility H and
// a JSON report written into one output directory (nothing is left behind when anything fails).
#include <chrono>
#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/runtime.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/io/points.h"
#include "core/ot/bridge.h"
#include "core/ot/exact.h"
#include "core/ot/plan.h"
#include "core/ot/setup.h"
#include "core/ot/trainer.h"
#include "core/run/json_text.h"
#include "core/run/layout.h"
#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/plot.h"
#endif

namespace otcs::cli {

namespace {

constexpr double kMaxDensePlan = 2e7;     // n m above this: no plan.npy (a dense plan would pass 160 MB)
constexpr double kMaxExactPairs = 1.6e7;  // the exact solver keeps ~5 dense float64 n x m matrices

using Clock = std::chrono::steady_clock;

#ifdef OTCS_HAVE_IMAGING
// Sources, targets, keypoint pairs and, per source, segments to the targets that receive at least a fifth of
// its largest plan entry (at most 4 each), so the coupling's structure is visible without drawing n m lines.
void draw_figure(const std::string& path, const torch::Tensor& S, const torch::Tensor& T, const torch::Tensor& plan,
                 const ot::KeypointPairs& kp, const std::string& title) {
  auto s = S.to(torch::kFloat64).contiguous(), t = T.to(torch::kFloat64).contiguous();
  auto col = [](const torch::Tensor& a, int64_t c) {
    auto x = a.select(1, c).contiguous();
    return std::vector<double>(x.data_ptr<double>(), x.data_ptr<double>() + x.numel());
  };
  std::vector<double> x0, y0, x1, y1;
  auto top = plan.topk(std::min<int64_t>(4, plan.size(1)), 1);
  auto vals = std::get<0>(top).contiguous(), idx = std::get<1>(top).contiguous();
  const double* sp = s.data_ptr<double>();
  const double* tp = t.data_ptr<double>();
  for (int64_t i = 0; i < plan.size(0); ++i) {
    const double vmax = vals[i][0].item<double>();
    for (int64_t k = 0; k < vals.size(1); ++k) {
      if (!(vmax > 0) || vals[i][k].item<double>() < 0.2 * vmax) break;
      const int64_t j = idx[i][k].item<int64_t>();
      x0.push_back(sp[i * 2]), y0.push_back(sp[i * 2 + 1]);
      x1.push_back(tp[j * 2]), y1.push_back(tp[j * 2 + 1]);
    }
  }
  imaging::Plot p(800, 600);
  p.title(title).xlabel("x").ylabel("y").equal_aspect();
  {  // room above the data for the legend
    auto both = torch::cat({s, t});
    const double x0 = both.select(1, 0).min().item<double>(), x1 = both.select(1, 0).max().item<double>();
    const double y0 = both.select(1, 1).min().item<double>(), y1 = both.select(1, 1).max().item<double>();
    const double w = std::max(x1 - x0, 1e-9), h = std::max(y1 - y0, 1e-9);
    p.limits(x0 - 0.06 * w, x1 + 0.06 * w, y0 - 0.06 * h, y1 + 0.3 * h);
  }
  p.segments(x0, y0, x1, y1, imaging::Color{150, 150, 150}, 1.0, "plan (top entries per source)", 0.35);
  p.scatter(col(s, 0), col(s, 1), imaging::palette(0), 3.0, "source");
  p.scatter(col(t, 0), col(t, 1), imaging::palette(1), 3.0, "target");
  if (kp.size() > 0) {
    auto ks = s.index_select(0, kp.source_index), kt = t.index_select(0, kp.target_index);
    p.segments(col(ks, 0), col(ks, 1), col(kt, 0), col(kt, 1), imaging::palette(5), 2.0, "keypoint pairs", 1.0);
    p.markers(col(ks, 0), col(ks, 1), imaging::palette(5), 8, "");
    p.markers(col(kt, 0), col(kt, 1), imaging::palette(5), 8, "");
  }
  p.save_png(path);
}
#endif

int run_ot(const Args& args) {
  const auto t_start = Clock::now();
  // ---- validate every input before anything is written ----
  const std::string source_path = args.get("--source"), target_path = args.get("--target");
  const std::string out_dir = args.get("--out");
  const ot::CostKind cost = ot::parse_cost(args.get("--cost", "l2"));
  const double epsilon = positive_double(args, "--epsilon", 0);
  const double tau = positive_double(args, "--tau", 0.1);
  const double tau_target = args.has("--tau-target") ? positive_double(args, "--tau-target", 0) : 0.0;
  const double alpha = args.get_double("--alpha", 1.0);
  if (!(alpha >= 0 && alpha <= 1)) fail("--alpha must be in [0, 1] (got {})", args.get("--alpha"));
  const double threshold = args.get_double("--threshold", 0.1);
  if (!(threshold >= 0)) fail("--threshold must be >= 0 (got {})", args.get("--threshold"));
  const long long row_cap = args.get_int("--row-cap", 0);
  if (row_cap < 0) fail("--row-cap must be >= 0 (got {})", row_cap);
  const auto empty_policy = ot::parse_empty_row_policy(args.get("--empty-rows", "next_source"));
  const long long seed = args.get_int("--seed", 0);
  if (seed < 0) fail("--seed must be >= 0 (got {})", seed);

  auto S = io::read_points(source_path);
  auto T = io::read_points(target_path);
  const int64_t n = S.size(0), m = T.size(0), d = S.size(1);
  if (T.size(1) != d)
    fail("{}: dimension mismatch: the target has {} features per sample but the source ({}) has {}", target_path,
         T.size(1), source_path, d);
  ot::KeypointPairs kp;
  if (args.has("--keypoints")) kp = ot::read_keypoints_csv(args.get("--keypoints"), n, m);

  const double pairs = double(n) * double(m);
  std::string solver = args.get("--solver", pairs <= kMaxExactPairs ? "exact" : "mlp");
  if (solver != "exact" && solver != "tabular" && solver != "mlp")
    fail("--solver must be exact, tabular or mlp (got {})", solver);
  if (solver == "exact" && pairs > kMaxExactPairs)
    fail(
        "--solver exact: {} x {} pairs is too large for the dense exact solver (at most {:.0f} pairs); use "
        "--solver mlp or tabular",
        n, m, kMaxExactPairs);
  const bool stochastic = solver != "exact";
  const long long iterations = positive_int(args, "--iterations", 20000);
  const long long batch = positive_int(args, "--batch", std::min<int64_t>(256, std::min(n, m)));
  if (stochastic && (batch > n || batch > m))
    fail("--batch {} is larger than the smaller point cloud ({} samples)", batch, std::min(n, m));
  if (kp.size() > 0 && solver == "exact" && n != m)
    fail(
        "--keypoints with --solver exact needs as many sources as targets ({} vs {}): a keypoint may only be "
        "matched to its partner, so it must send 1/n and its partner receive 1/m of the mass",
        n, m);
  const long long width = positive_int(args, "--width", 128);
  const long long depth = args.get_int("--depth", 2);
  if (depth < 0) fail("--depth must be >= 0 (got {})", depth);
  const auto activation = ot::parse_activation(args.get("--activation", "silu"));
  const std::string schedule = args.get("--lr-schedule", "cosine");
  if (schedule != "cosine" && schedule != "constant") fail("--lr-schedule must be cosine or constant");
  const double average = args.get_double("--average", 0.5);
  if (!(average >= 0 && average <= 1)) fail("--average must be in [0, 1] (got {})", args.get("--average"));
  const std::string figure = args.get("--figure");
#ifndef OTCS_HAVE_IMAGING
  if (!figure.empty()) fail("--figure: this build has no image output (built without OpenCV)");
#endif
  if (!figure.empty() && d != 2) fail("--figure draws 2-D problems only (the points have {} dimensions)", d);

  // ---- the problem, set up as the run's OT stage sets up its own (core/ot/setup.h) ----
  ot::OtSetup setup;
  setup.solver = ot::parse_ot_solver(solver);
  setup.cost = cost;
  setup.epsilon = epsilon;
  setup.tau = tau;
  setup.tau_target = tau_target;
  setup.alpha = alpha;
  setup.iterations = iterations;
  setup.batch = batch;
  setup.seed = uint64_t(seed);
  setup.width = width;
  setup.depth = depth;
  setup.activation = activation;
  setup.potential_dtype = solver == "mlp" ? torch::kFloat32 : torch::kFloat64;
  setup.schedule = schedule == "cosine" ? ot::LrSchedule::Cosine : ot::LrSchedule::Constant;
  setup.lr_final_fraction = args.get_double("--lr-final", 1e-3);
  setup.averaging_start = average;
  setup.diagnostics_every = std::max<long long>(1, iterations / 10);
  std::unique_ptr<ot::KeypointGuidance> guidance;
  if (auto g = ot::guidance_options(setup, kp)) guidance = std::make_unique<ot::KeypointGuidance>(S, T, kp, *g);

  io::OutputDir out(out_dir);
  nlohmann::json report;
  report["solver"] = solver;
  report["cost"] = ot::cost_name(cost);
  report["epsilon"] = epsilon;
  report["n"] = n;
  report["m"] = m;
  report["d"] = d;
  report["keypoints"] = kp.size();
  if (kp.size() > 0) report["tau"] = tau, report["alpha"] = alpha;

  // ---- solve ----
  if (stochastic) {
    if (args.has("--lr") && !(args.get_double("--lr", -1) > 0)) fail("--lr must be > 0 (got {})", args.get("--lr"));
    setup.lr = args.has("--lr") ? args.get_double("--lr", -1) : ot::default_stochastic_lr(setup, S, T);
    report["iterations"] = iterations;
    report["batch"] = batch;
    report["lr"] = setup.lr;
    report["seed"] = seed;
    // Small batches are latency-bound: each op's parallel region costs more than it saves, and when the cores
    // are shared (ctest -j, other jobs) every region waits for a descheduled thread (measured: 1,000 steps of a
    // 64-wide MLP, batch 64, took 0.7 s on one thread and 5.9 s on two on the loaded 2-core dev machine).
    const int64_t step_width = (batch + kp.size()) * (solver == "mlp" ? width : 1);
    if (requested_threads(args) == 0 && step_width <= 256 * 128) {
      otcs::set_threads(1);
      spdlog::info("small batches: training on one thread (--threads N or OMP_NUM_THREADS overrides)");
    }
  }
  ot::OtSolution solution;
  try {
    solution = ot::solve_ot_problem(setup, S, T, kp, [](const ot::TrainerEvent& ev) {
      if (!ev.has_diagnostics) return;
      spdlog::info("step {}/{}: dual {:.6g}, E[c] {:.4g}, row err {:.3g}, col err {:.3g}, H>0 {:.3f}", ev.step,
                   ev.iterations, ev.dual_objective, ev.diagnostics.transport_cost, ev.diagnostics.marginal_error_rows,
                   ev.diagnostics.marginal_error_cols, ev.diagnostics.nonzero_fraction);
    });
  } catch (const ot::DivergedError& e) {
    fail("the OT dual diverged ({}); nothing was written; lower --lr or raise --epsilon", e.what());
  }
  const torch::Tensor u = solution.u, v = solution.v;
  const std::shared_ptr<ot::Potential> pu = solution.u_potential, pv = solution.v_potential;
  if (const auto& res = solution.exact) {
    report["kkt"] = res->kkt;
    report["primal_objective"] = res->primal_objective;
    report["newton_iterations"] = res->newton_iterations;
    report["cg_iterations"] = res->cg_iterations;
    report["converged"] = res->converged;
    if (!res->converged) spdlog::warn("exact OT: stopped at KKT residual {:.3g}", res->kkt);
    spdlog::info("exact OT: {} Newton steps, {} CG steps, KKT {:.3g}", res->newton_iterations, res->cg_iterations,
                 res->kkt);
  } else {
    report["train_seconds"] = solution.train_seconds;
  }

  // ---- evaluate and write ----
  const bool dense = pairs <= kMaxDensePlan;
  auto ev = ot::evaluate_plan(u, v, S, T, cost, epsilon, guidance.get(), dense);
  ot::BridgeOptions bopt;
  bopt.cost = cost;
  bopt.epsilon = epsilon;
  bopt.threshold = threshold;
  bopt.row_cap = row_cap;
  bopt.empty_rows = empty_policy;
  bopt.dtype = torch::kFloat64;
  bopt.guidance = guidance.get();
  bopt.apply_mask = !args.flag("--unmasked-h");
  auto bridge = ot::bridge_from_potentials(u, v, S, T, bopt);

  report["dual_objective"] = ev.dual_objective;
  report["transport_cost"] = ev.transport_cost;
  report["mass"] = ev.mass;
  report["marginal_error_rows"] = ev.marginal_error_rows;
  report["marginal_error_cols"] = ev.marginal_error_cols;
  report["marginal_error_rows_l1"] = ev.marginal_error_rows_l1;
  report["marginal_error_cols_l1"] = ev.marginal_error_cols_l1;
  report["plan_nonzero_fraction"] = ev.nonzero_fraction;
  report["plan_written"] = dense;
  report["h_threshold"] = threshold;
  report["h_row_cap"] = row_cap;
  report["h_masked"] = bopt.apply_mask;
  report["nnz"] = bridge.H.nnz();
  report["empty_rows"] = bridge.empty_rows.size();
  report["empty_row_policy"] = ot::empty_row_policy_name(empty_policy);

  namespace file = run::file;
  if (dense) io::write_npy(out.claim(file::kPlan), ev.plan);
  io::write_npy(out.claim(file::kU), u);
  io::write_npy(out.claim(file::kV), v);
  ot::save_sparse(out.claim(file::kH), bridge.H);
  io::write_npy(out.claim(file::kRedirect), bridge.redirect);
  if (pu) {
    // The OT stage's names (RUN/ot/u_potential.pt), so that one reader serves both (run::find_potential).
    ot::save_potential(out.claim(file::kUPotential), *pu);
    ot::save_potential(out.claim(file::kVPotential), *pv);
  }
#ifdef OTCS_HAVE_IMAGING
  if (!figure.empty()) {
    auto plan = dense ? ev.plan : bridge.H.to_dense().to(torch::kFloat64);
    draw_figure(out.claim(figure), S, T, plan, kp,
                fmt::format("{} OT, {} cost, eps = {:g}{}", solver, ot::cost_name(cost), epsilon,
                            kp.size() ? fmt::format(", {} keypoint pairs", kp.size()) : std::string()));
  }
#endif
  report["seconds"] = std::chrono::duration<double>(Clock::now() - t_start).count();
  out.write(file::kReport, run::json_text(report));
  out.commit();
  std::cout << fmt::format(
      "{} OT ({} x {}, d = {}): dual {:.8g}, E[c] {:.6g}, marginal errors {:.3g} / {:.3g}, "
      "H nnz {}, {:.2f} s -> {}\n",
      solver, n, m, d, ev.dual_objective, ev.transport_cost, ev.marginal_error_rows, ev.marginal_error_cols,
      bridge.H.nnz(), report["seconds"].get<double>(), out_dir);
  return 0;
}

}  // namespace

void register_ot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "ot";
  cmd.summary = "L2-regularised OT between two point clouds (exact or stochastic dual; keypoint-guided)";
  cmd.usage =
      "otcs ot --source S --target T [--keypoints K] --cost {l2,l1,cosine,sqeuclidean} --epsilon E [--tau T] "
      "[--alpha A] [--solver {exact,tabular,mlp}] [--iterations N] [--batch B] [--lr LR] [--seed S] --out DIR";
  cmd.description =
      "Maximises the released OTCS dual mean u + mean v - mean(M relu(u+v-G)^2)/(4 eps) with uniform marginals and "
      "writes DIR/plan.npy (float64 n x m, when n m <= 2e7), u.npy, v.npy, H.npz (scipy CSR of "
      "H = relu(u+v-G)/(2 eps) above the threshold), redirect.npy (the source each row resamples from), "
      "report.json and, for the stochastic solvers, u_potential.pt/v_potential.pt (the OT stage's names). Costs are "
      "per-coordinate means (l2, l1) as in OTCS; choose eps on that scale. S and T: .npy (float32/float64) or "
      "headerless CSV, one sample per line. K: CSV lines 'source_index,target_index' (0-based); "
      "G = (1-alpha) C + alpha JS(relations), alpha = 1 is pure guiding.";
  cmd.options = {
      {"--source", "S", "source point cloud (.npy or .csv)", "", true},
      {"--target", "T", "target point cloud (.npy or .csv)", "", true},
      {"--keypoints", "K", "keypoint pairs CSV: source_index,target_index per line", ""},
      {"--cost", "C", "l2 (mean squared), l1 (mean abs), cosine (1 - cos) or sqeuclidean (sum of squares)", "l2"},
      {"--epsilon", "E", "regularisation strength, on the scale of the cost", "", true},
      {"--tau", "T", "keypoint relation temperature (source; and target unless --tau-target)", "0.1"},
      {"--tau-target", "T", "keypoint relation temperature on the target side", "= --tau"},
      {"--alpha", "A", "G = (1 - A) C + A g; 1 = pure keypoint guiding", "1"},
      {"--solver", "NAME", "exact (dense semismooth Newton, float64), tabular or mlp (Adam on batches)",
       "exact if n m <= 1.6e7, else mlp"},
      {"--iterations", "N", "stochastic solvers: Adam steps", "20000"},
      {"--batch", "B", "stochastic solvers: samples per side per step (keypoints are added)", "min(256, n, m)"},
      {"--lr", "LR", "stochastic solvers: Adam learning rate",
       "mean cost times 2e-2 (tabular) or 1e-2 min(1, 64 / W) (mlp)"},
      {"--lr-schedule", "S", "constant or cosine (decays to --lr-final times LR)", "cosine"},
      {"--lr-final", "F", "final fraction of the learning rate under the cosine schedule", "1e-3"},
      {"--average", "F", "average the iterates from this fraction of the run on (1 = off)", "0.5"},
      {"--seed", "S", "random seed (initialisation and batches)", "0"},
      {"--width", "W", "mlp: hidden width", "128"},
      {"--depth", "D", "mlp: number of hidden W x W layers (OTCS's num_hidden_layers)", "2"},
      {"--activation", "A", "mlp: silu, relu, tanh, leaky_relu or gelu", "silu"},
      {"--threshold", "H", "keep H entries above this", "0.1"},
      {"--row-cap", "K", "keep at most K (largest) H entries per source row; 0 = no cap", "0"},
      {"--empty-rows", "P", "rows without H entries: keep_empty, next_source (released) or nearest", "next_source"},
      {"--unmasked-h", "", "build H without the keypoint mask (as the released code does)", ""},
      {"--figure", "NAME", "2-D problems: also draw DIR/NAME (PNG) with points, plan and keypoints", ""},
      {"--out", "DIR", "output directory", "", true},
  };
  // The run's log goes to the user log directory: a log file in DIR would be left behind by a failed run.
  cmd.log_dir_option = "";
  cmd.run_dir_option = "--out";
  cmd.run = run_ot;
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
