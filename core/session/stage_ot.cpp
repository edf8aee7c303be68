// The OT stage (potentials u, v) and the bridge (sparse compatibility H), on top of core/ot.
#include <chrono>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/bridge.h"
#include "core/ot/cost.h"
#include "core/ot/dense.h"
#include "core/ot/exact.h"
#include "core/ot/keypoints.h"
#include "core/ot/potentials.h"
#include "core/ot/sparse.h"
#include "core/ot/trainer.h"
#include "core/run/curve.h"
#include "core/run/layout.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

using Clock = std::chrono::steady_clock;

std::optional<ot::GuidanceOptions> guidance_options(const StageContext& ctx) {
  if (ctx.keypoints.size() == 0) return std::nullopt;
  const auto& o = ctx.project.ot;
  ot::GuidanceOptions g;
  g.cost = o.cost;
  g.tau = o.tau;
  g.tau_target = o.tau_target;
  g.alpha = o.alpha;
  g.relation = o.relation;
  g.neighbors = o.neighbors;
  g.propagation_alpha = o.propagation_alpha;
  g.propagation_iterations = o.propagation_iterations;
  return g;
}

}  // namespace

// The exact solve of the finite problem (source set x target set), shared with the eval stage's reference.
ot::ExactResult solve_exact_problem(const StageContext& ctx, const torch::Tensor& source, const torch::Tensor& target,
                                    const ot::KeypointPairs& keypoints, const ot::ExactOptions& options) {
  const auto& o = ctx.project.ot;
  const auto cost = o.cost;
  auto xs = source.to(torch::kFloat64), yt = target.to(torch::kFloat64);
  auto C = ot::cost_matrix(xs, yt, cost);
  torch::Tensor G = C, M;
  if (keypoints.size() > 0) {
    ot::KeypointGuidance guidance(xs, yt, keypoints, *guidance_options(ctx));
    auto si = torch::arange(xs.size(0), torch::kInt64), ti = torch::arange(yt.size(0), torch::kInt64);
    G = guidance.guided_cost(si, ti, C, torch::kFloat64);
    M = guidance.mask(si, ti, torch::kFloat64);
  }
  return ot::solve_exact(G, o.epsilon, M, C, options);
}

StageOutcome run_ot_stage(StageContext& ctx) {
  const auto& o = ctx.project.ot;
  const run::RunLayout layout = ctx.layout();
  fs::create_directories(layout.ot_dir());
  const auto t0 = Clock::now();
  torch::Tensor u, v;
  const std::vector<std::string> plan_columns = {"transport_cost", "marginal_error_rows", "marginal_error_cols"};
  nlohmann::json report;

  if (o.solver == ot::OtSolver::Dense) {
    // The whole guided cost in memory, then exact block-coordinate ascent (core/ot/dense.h).
    auto xs = ctx.source, yt = ctx.target;
    const int64_t n = xs.size(0), m = yt.size(0);
    if (double(n) * double(m) > 2.5e8)
      fail("{}: /stages/ot/solver: dense needs n·m <= 2.5e8 ({} x {} is too large); use tabular or mlp",
           ctx.project.path, n, m);
    auto G = torch::empty({n, m}, torch::kFloat32);
    std::unique_ptr<ot::KeypointGuidance> guidance;
    if (auto g = guidance_options(ctx)) guidance = std::make_unique<ot::KeypointGuidance>(xs, yt, ctx.keypoints, *g);
    auto ti = torch::arange(m, torch::kInt64);
    const auto cost = o.cost;
    for (int64_t b = 0; b < n; b += 1024) {
      const int64_t len = std::min<int64_t>(1024, n - b);
      auto si = torch::arange(b, b + len, torch::kInt64);
      torch::Tensor C;
      if (!guidance || o.alpha < 1.0) C = ot::cost_matrix(xs.narrow(0, b, len), yt, cost);
      torch::Tensor blk = guidance ? guidance->guided_cost(si, ti, C, torch::kFloat32) : C.to(torch::kFloat32);
      if (guidance) blk.masked_fill_(guidance->mask(si, ti, torch::kFloat32).eq(0), std::numeric_limits<float>::infinity());
      G.narrow(0, b, len).copy_(blk);
    }
    ctx.log(LogEvent::Level::Info, fmt::format("ot: dense block-coordinate solve of the {} x {} problem (epsilon {:g}{})",
                                               n, m, o.epsilon,
                                               guidance ? fmt::format(", {} keypoint pairs", ctx.keypoints.size()) : ""));
    ot::DenseDualOptions dopt;
    dopt.epsilon = o.epsilon;
    dopt.max_sweeps = o.iterations;
    dopt.adam_steps = o.adam_steps;
    dopt.adam_lr = o.lr;
    // The whole solve is one curve: every Adam step, then every sweep (dual.csv), and the plan's diagnostics
    // (diagnostics.csv) every sweep and every 10th Adam step; live as loss events.
    run::CurveWriter curve(layout.dual_curve().string(), {run::column::kDualObjective});
    run::CurveWriter diag(layout.ot_diagnostics().string(), plan_columns);
    auto res = ot::solve_dense_dual(G, dopt, [&](const ot::DenseDualProgress& p) {
      const bool adam = p.phase == ot::DenseDualProgress::Phase::Adam;
      curve.append(p.step, {p.dual_objective});
      ctx.emit(LossEvent{Stage::Ot, "dual", p.step, p.dual_objective});
      if (p.has_plan_diagnostics) {
        diag.append(p.step, {p.transport_cost, p.marginal_error_rows, p.marginal_error_cols});
        ctx.emit(LossEvent{Stage::Ot, "transport_cost", p.step, p.transport_cost});
        ctx.emit(LossEvent{Stage::Ot, "marginal_error_rows", p.step, p.marginal_error_rows});
        ctx.emit(LossEvent{Stage::Ot, "marginal_error_cols", p.step, p.marginal_error_cols});
      }
      if (!adam || p.step % 50 == 0)
        ctx.log(LogEvent::Level::Info,
                fmt::format("ot: {} {}: dual {:.6g}, row marginal error {:.2e}", adam ? "adam step" : "sweep",
                            adam ? p.step : p.step - dopt.adam_steps, p.dual_objective, p.marginal_error_rows));
      return !ctx.stop.load();
    });
    curve.close();
    diag.close();
    if (ctx.stop.load() && !res.converged) return {StageOutcome::Status::Stopped, "ot: stopped (the dense solve restarts)"};
    if (!res.converged)
      ctx.log(LogEvent::Level::Warning, fmt::format("ot: {} sweeps left a row marginal error of {:.2e}", res.sweeps,
                                                    res.marginal_error_rows));
    u = res.u;
    v = res.v;
    report = {{"solver", "dense"}, {"dual_objective", res.dual_objective}, {"transport_cost", res.transport_cost},
              {"marginal_error_rows", res.marginal_error_rows}, {"marginal_error_cols", res.marginal_error_cols},
              {"sweeps", res.sweeps}, {"seconds", seconds_since(t0)}};
  } else if (o.solver == ot::OtSolver::Exact) {
    ctx.log(LogEvent::Level::Info, fmt::format("ot: exact solve of the {} x {} problem (cost {}, epsilon {:g}{})",
                                               ctx.source.size(0), ctx.target.size(0), ot::cost_name(o.cost), o.epsilon,
                                               ctx.keypoints.size() ? fmt::format(", {} keypoint pairs, tau {:g}, "
                                                                                  "alpha {:g}",
                                                                                  ctx.keypoints.size(), o.tau, o.alpha)
                                                                    : ""));
    // Every Newton iteration is a point of the curve: the dual objective (dual.csv; it steps where the
    // continuation lowers epsilon) and the relative marginal residual (diagnostics.csv), live as loss events.
    run::CurveWriter curve(layout.dual_curve().string(), {run::column::kDualObjective}, 0, 12);
    run::CurveWriter diag(layout.ot_diagnostics().string(), {"marginal_residual"});
    ot::ExactOptions eo;
    eo.on_iteration = [&](int it, double eps, double dual, double residual) {
      curve.append(it, {dual});
      diag.append(it, {residual});
      ctx.emit(LossEvent{Stage::Ot, "dual", it, dual});
      ctx.emit(LossEvent{Stage::Ot, "marginal_residual", it, residual});
      spdlog::debug("ot: newton {}: epsilon {:.3g}, dual {:.12g}, residual {:.3e}", it, eps, dual, residual);
    };
    auto res = solve_exact_problem(ctx, ctx.source, ctx.target, ctx.keypoints, eo);
    curve.close();
    diag.close();
    if (!res.converged)
      ctx.log(LogEvent::Level::Warning, fmt::format("ot: the exact solver stopped before convergence (KKT residual {:.2e})", res.kkt));
    u = res.u;
    v = res.v;
    ctx.log(LogEvent::Level::Info,
            fmt::format("ot: {} Newton iterations: dual {:.12g}, transport cost {:.6g}, KKT residual {:.2e}",
                        res.newton_iterations, res.dual_objective, res.transport_cost, res.kkt));
    report = {{"solver", "exact"}, {"dual_objective", res.dual_objective}, {"transport_cost", res.transport_cost},
              {"marginal_error_rows", res.marginal_error_rows}, {"marginal_error_cols", res.marginal_error_cols},
              {"kkt", res.kkt}, {"newton_iterations", res.newton_iterations}, {"seconds", seconds_since(t0)}};
  } else {
    ot::TrainerOptions opt;
    opt.cost = o.cost;
    opt.epsilon = o.epsilon;
    opt.batch_size = o.batch;
    opt.iterations = o.iterations;
    opt.lr = o.lr;
    opt.seed = o.seed;
    for (auto* spec : {&opt.u_spec, &opt.v_spec}) {
      spec->kind = o.solver == ot::OtSolver::Tabular ? ot::PotentialKind::Tabular : ot::PotentialKind::Mlp;
      spec->width = o.width;
      spec->depth = o.depth;
      spec->activation = o.activation;
    }
    opt.guidance = guidance_options(ctx);
    // Primal diagnostics of the batch plan (transport cost, marginal errors) about 100 times per run.
    opt.diagnostics_every = std::max<int64_t>(1, o.iterations / 100);
    ot::DualTrainer trainer(ctx.source, ctx.target, opt, ctx.keypoints);
    const fs::path ckpt = layout.ot_checkpoint(), ckpt_hash = layout.ot_checkpoint_hash();
    std::error_code ec;
    if (ctx.forced) {
      fs::remove(ckpt, ec);
      fs::remove(ckpt_hash, ec);
    }
    if (fs::exists(ckpt, ec)) {
      std::string hash;
      try {
        hash = io::read_file(ckpt_hash.string());
      } catch (const UserError&) {
      }
      if (hash != ctx.hash) {
        ctx.log(LogEvent::Level::Warning, "ot: the checkpoint was written for another configuration; starting over");
      } else {
        try {
          trainer.load_checkpoint(ckpt.string());
          ctx.emit(StageEvent{StageEvent::What::Resumed, Stage::Ot, fmt::format("from step {}", trainer.step())});
          ctx.log(LogEvent::Level::Info, fmt::format("ot: resumed from {} (step {})", ckpt.string(), trainer.step()));
        } catch (const std::exception& e) {
          ctx.log(LogEvent::Level::Warning, fmt::format("ot: {}; starting over", e.what()));
          fs::remove(ckpt, ec);
          return run_ot_stage(ctx);  // with a fresh trainer: the failed load may have restored part of this one
        }
      }
    }
    auto save = [&] {
      // The trainer writes its file directly; a rename on top makes the visible checkpoint whole or absent.
      const fs::path tmp = ckpt.parent_path() / ("." + ckpt.filename().string() + ".tmp");
      trainer.save_checkpoint(tmp.string());
      fs::rename(tmp, ckpt);
      io::write_file_atomic(ckpt_hash.string(), ctx.hash);
    };
    // A resumed solve keeps the rows up to its checkpoint's step; those after it are written again.
    run::CurveWriter curve(layout.dual_curve().string(), {run::column::kDualObjective}, trainer.step());
    run::CurveWriter diag(layout.ot_diagnostics().string(), plan_columns, trainer.step());
    ProgressClock clock(trainer.step(), o.iterations);
    std::atomic<bool> chunk_done{false};
    int64_t next_save = (trainer.step() / o.checkpoint_every + 1) * o.checkpoint_every;
    const int64_t log_every = std::max<int64_t>(1, o.iterations / 500);
    trainer.set_callback([&](const ot::TrainerEvent& ev) {
      if (ev.step % log_every == 0 || ev.step == ev.iterations) {
        ctx.emit(LossEvent{Stage::Ot, "dual", ev.step, ev.dual_objective});
        curve.append(ev.step, {ev.dual_objective});
      }
      if (ev.has_diagnostics) {
        const auto& d = ev.diagnostics;
        ctx.emit(LossEvent{Stage::Ot, "transport_cost", ev.step, d.transport_cost});
        ctx.emit(LossEvent{Stage::Ot, "marginal_error_rows", ev.step, d.marginal_error_rows});
        ctx.emit(LossEvent{Stage::Ot, "marginal_error_cols", ev.step, d.marginal_error_cols});
        diag.append(ev.step, {d.transport_cost, d.marginal_error_rows, d.marginal_error_cols});
      }
      clock.tick(ctx, Stage::Ot, ev.step, ev.step == ev.iterations, ev.dual_objective, true);
      if (ctx.pause.load()) {
        clock.pause_begin();
        ctx.hold();
        clock.pause_end();
      }
      if (ev.step >= next_save || ctx.stop.load()) chunk_done.store(true);
    });
    while (trainer.step() < o.iterations) {
      chunk_done.store(false);
      try {
        trainer.run(&chunk_done);
      } catch (const ot::DivergedError& e) {
        // Nothing is saved: checkpoint.pt still holds the last finite iterate written at a chunk boundary.
        const std::string kept =
            fs::exists(ckpt, ec) ? fmt::format("the last good checkpoint {} is kept", ckpt.string())
                                 : std::string("no checkpoint was written yet");
        return {StageOutcome::Status::Failed,
                fmt::format("ot: the dual diverged ({}); {}; lower /stages/ot/lr or raise /stages/ot/epsilon "
                            "(lr {:g}, epsilon {:g}), then run again",
                            e.what(), kept, o.lr, o.epsilon),
                false};
      }
      save();
      next_save = (trainer.step() / o.checkpoint_every + 1) * o.checkpoint_every;
      if (ctx.stop.load() && trainer.step() < o.iterations)
        return {StageOutcome::Status::Stopped, fmt::format("ot: stopped at step {} (checkpoint saved)", trainer.step())};
    }
    curve.close();
    diag.close();
    u = ot::evaluate_potential(*trainer.u(), trainer.u()->needs_features() ? ctx.source : torch::Tensor());
    v = ot::evaluate_potential(*trainer.v(), trainer.v()->needs_features() ? ctx.target : torch::Tensor());
    ot::save_potential(layout.u_potential().string(), *trainer.u());
    ot::save_potential(layout.v_potential().string(), *trainer.v());
    report = {{"solver", ot::ot_solver_name(o.solver)}, {"iterations", trainer.step()}, {"seconds", seconds_since(t0)}};
  }
  io::write_npy(layout.u().string(), u.to(torch::kFloat64));
  io::write_npy(layout.v().string(), v.to(torch::kFloat64));
  mark_done(ctx, Stage::Ot, report);
  return {StageOutcome::Status::Done, fmt::format("{:.1f} s", seconds_since(t0))};
}

StageOutcome run_bridge_stage(StageContext& ctx) {
  const auto& b = ctx.project.bridge;
  const auto& o = ctx.project.ot;
  const run::RunLayout layout = ctx.layout();
  fs::create_directories(layout.bridge_dir());
  auto u = io::read_npy(layout.u().string());
  auto v = io::read_npy(layout.v().string());
  ot::BridgeOptions opt;
  opt.cost = o.cost;
  opt.epsilon = o.epsilon;
  opt.threshold = b.threshold;
  opt.row_cap = b.row_cap;
  opt.empty_rows = b.empty_rows;
  opt.apply_mask = b.apply_mask;
  const bool small = ctx.source.size(0) * ctx.target.size(0) <= 20'000'000;
  opt.dtype = small ? torch::kFloat64 : torch::kFloat32;
  std::unique_ptr<ot::KeypointGuidance> guidance;
  auto xs = small ? ctx.source.to(torch::kFloat64) : ctx.source;
  auto yt = small ? ctx.target.to(torch::kFloat64) : ctx.target;
  if (auto g = guidance_options(ctx)) {
    guidance = std::make_unique<ot::KeypointGuidance>(xs, yt, ctx.keypoints, *g);
    opt.guidance = guidance.get();
  }
  auto res = ot::bridge_from_potentials(u, v, xs, yt, opt);
  const std::string h_path = layout.h().string();
  ot::save_sparse(h_path, res.H);
  io::write_npy(layout.redirect().string(), res.redirect.to(torch::kInt64));
  const int64_t empty = int64_t(res.empty_rows.size());
  if (empty > 0)
    ctx.log(LogEvent::Level::Warning,
            fmt::format("bridge: {} of {} source rows keep no entry above {:g}; policy {} ({})", empty, res.H.rows,
                        b.threshold, ot::empty_row_policy_name(b.empty_rows),
                        b.empty_rows == ot::EmptyRowPolicy::NextSource ? "the released behaviour: the next source with entries is used"
                        : b.empty_rows == ot::EmptyRowPolicy::KeepEmpty ? "those sources are never drawn"
                                                       : "each keeps its single best target"));
  const double mean_nnz = double(res.H.nnz()) / double(std::max<int64_t>(1, res.H.rows));
  ctx.log(LogEvent::Level::Info, fmt::format("bridge: H is {} x {} with {} entries ({:.1f} per source row)",
                                             res.H.rows, res.H.cols, res.H.nnz(), mean_nnz));
  ctx.emit(HReadyEvent{res.H.rows, res.H.cols, res.H.nnz(), empty, h_path});
  mark_done(ctx, Stage::Bridge,
            {{"rows", res.H.rows}, {"cols", res.H.cols}, {"nnz", res.H.nnz()}, {"empty_rows", empty},
             {"empty_row_policy", ot::empty_row_policy_name(b.empty_rows)}, {"threshold", b.threshold},
             {"seconds", res.seconds_potentials + res.seconds_h}});
  return {StageOutcome::Status::Done, fmt::format("{} entries", res.H.nnz())};
}

}  // namespace otcs::session
