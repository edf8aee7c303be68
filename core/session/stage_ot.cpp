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
#include "core/ot/setup.h"
#include "core/ot/sparse.h"
#include "core/ot/trainer.h"
#include "core/run/curve.h"
#include "core/run/layout.h"
#include "core/session/checkpoint.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

using Clock = std::chrono::steady_clock;

// The project's /stages/ot as the problem setup `otcs ot` builds from its flags (core/ot/setup.h).
ot::OtSetup ot_setup(const OtStageSpec& o) {
  ot::OtSetup s;
  s.solver = o.solver;
  s.cost = o.cost;
  s.epsilon = o.epsilon;
  s.tau = o.tau;
  s.tau_target = o.tau_target;
  s.alpha = o.alpha;
  s.relation = o.relation;
  s.neighbors = o.neighbors;
  s.propagation_alpha = o.propagation_alpha;
  s.propagation_iterations = o.propagation_iterations;
  s.iterations = o.iterations;
  s.batch = o.batch;
  s.lr = o.lr;
  s.seed = o.seed;
  s.width = o.width;
  s.depth = o.depth;
  s.activation = o.activation;
  // Primal diagnostics of the batch plan (transport cost, marginal errors) about 100 times per run.
  s.diagnostics_every = std::max<int64_t>(1, o.iterations / 100);
  return s;
}

std::optional<ot::GuidanceOptions> guidance_options(const StageContext& ctx) {
  return ot::guidance_options(ot_setup(ctx.project.ot), ctx.keypoints);
}

}  // namespace

// The exact solve of the finite problem (source set x target set), shared with the eval stage's reference.
ot::ExactResult solve_exact_problem(const StageContext& ctx, const torch::Tensor& source, const torch::Tensor& target,
                                    const ot::KeypointPairs& keypoints, const ot::ExactOptions& options) {
  return ot::solve_exact_problem(ot_setup(ctx.project.ot), source, target, keypoints, options);
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
      if (guidance)
        blk.masked_fill_(guidance->mask(si, ti, torch::kFloat32).eq(0), std::numeric_limits<float>::infinity());
      G.narrow(0, b, len).copy_(blk);
    }
    ctx.log(LogEvent::Level::Info,
            fmt::format("ot: dense block-coordinate solve of the {} x {} problem (epsilon {:g}{})", n, m, o.epsilon,
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
    if (ctx.stop.load() && !res.converged)
      return {StageOutcome::Status::Stopped, "ot: stopped (the dense solve restarts)"};
    if (!res.converged)
      ctx.log(LogEvent::Level::Warning,
              fmt::format("ot: {} sweeps left a row marginal error of {:.2e}", res.sweeps, res.marginal_error_rows));
    u = res.u;
    v = res.v;
    report = {{"solver", "dense"},
              {"dual_objective", res.dual_objective},
              {"transport_cost", res.transport_cost},
              {"marginal_error_rows", res.marginal_error_rows},
              {"marginal_error_cols", res.marginal_error_cols},
              {"sweeps", res.sweeps},
              {"seconds", seconds_since(t0)}};
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
      ctx.log(LogEvent::Level::Warning,
              fmt::format("ot: the exact solver stopped before convergence (KKT residual {:.2e})", res.kkt));
    u = res.u;
    v = res.v;
    ctx.log(LogEvent::Level::Info,
            fmt::format("ot: {} Newton iterations: dual {:.12g}, transport cost {:.6g}, KKT residual {:.2e}",
                        res.newton_iterations, res.dual_objective, res.transport_cost, res.kkt));
    report = {{"solver", "exact"},
              {"dual_objective", res.dual_objective},
              {"transport_cost", res.transport_cost},
              {"marginal_error_rows", res.marginal_error_rows},
              {"marginal_error_cols", res.marginal_error_cols},
              {"kkt", res.kkt},
              {"newton_iterations", res.newton_iterations},
              {"seconds", seconds_since(t0)}};
  } else {
    ot::TrainerOptions opt = ot::trainer_options(ot_setup(o), ctx.keypoints);
    opt.precision = o.precision;
    auto fresh = [&] { return std::make_unique<ot::DualTrainer>(ctx.source, ctx.target, opt, ctx.keypoints); };
    auto trainer = fresh();
    // Checkpoints go through the store every stage uses: RUN/ot/ckpt-<step>.pt, one archive each, written
    // atomically (file and directory synced), read back before older ones are pruned.
    CheckpointStore store(layout.ot_dir().string(), run::file::kCheckpointPrefix, 2);
    const fs::path legacy = layout.legacy_ot_checkpoint(), legacy_hash = layout.legacy_ot_checkpoint_hash();
    std::error_code ec;
    auto remove_legacy = [&] {
      fs::remove(legacy, ec);
      fs::remove(legacy_hash, ec);
    };
    if (ctx.forced) {
      store.clear();
      remove_legacy();
    }
    std::vector<std::string> rejected;
    auto loaded = store.load_latest(
        ctx.hash,
        [&](torch::serialize::InputArchive& ar) {
          torch::serialize::InputArchive part;
          ar.read("trainer", part);
          trainer->load(part);
        },
        &rejected);
    for (const auto& r : rejected) ctx.log(LogEvent::Level::Warning, "ot: " + r);
    if (!loaded && !rejected.empty()) trainer = fresh();  // undo a partial restore
    std::string resumed_from = loaded ? fs::path(loaded->path).filename().string() : std::string();
    bool legacy_pending = false;  // an older run's checkpoint.pt, removed once the store holds a checkpoint
    if (!loaded && fs::exists(legacy, ec)) {
      std::string hash;
      try {
        hash = io::read_file(legacy_hash.string());
      } catch (const UserError&) {
      }
      if (hash != ctx.hash) {
        ctx.log(LogEvent::Level::Warning, "ot: the checkpoint was written for another configuration; starting over");
        remove_legacy();
      } else {
        try {
          trainer->load_checkpoint(legacy.string());
          resumed_from = legacy.filename().string();
          legacy_pending = true;
        } catch (const std::exception& e) {
          ctx.log(LogEvent::Level::Warning, fmt::format("ot: {}; starting over", e.what()));
          trainer = fresh();
          remove_legacy();
        }
      }
    }
    if (!resumed_from.empty()) {
      ctx.emit(StageEvent{StageEvent::What::Resumed, Stage::Ot, fmt::format("from step {}", trainer->step())});
      ctx.log(LogEvent::Level::Info, fmt::format("ot: resumed from {} (step {})", resumed_from, trainer->step()));
    }
    auto save = [&] {
      store.save(trainer->step(), ctx.hash, [&](torch::serialize::OutputArchive& ar) {
        torch::serialize::OutputArchive part;
        trainer->save(part);
        ar.write("trainer", part);
      });
      if (legacy_pending) remove_legacy();
      legacy_pending = false;
    };
    // A resumed solve keeps the rows up to its checkpoint's step; those after it are written again.
    run::CurveWriter curve(layout.dual_curve().string(), {run::column::kDualObjective}, trainer->step());
    run::CurveWriter diag(layout.ot_diagnostics().string(), plan_columns, trainer->step());
    ProgressClock clock(trainer->step(), o.iterations);
    std::atomic<bool> chunk_done{false};
    int64_t next_save = (trainer->step() / o.checkpoint_every + 1) * o.checkpoint_every;
    const int64_t log_every = std::max<int64_t>(1, o.iterations / 500);
    trainer->set_callback([&](const ot::TrainerEvent& ev) {
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
    while (trainer->step() < o.iterations) {
      chunk_done.store(false);
      try {
        trainer->run(&chunk_done);
      } catch (const ot::DivergedError& e) {
        // Nothing is saved: the newest checkpoint still holds the last finite iterate written at a chunk boundary.
        const auto files = store.list();
        const std::string kept = !files.empty() ? fmt::format("the last good checkpoint {} is kept", files.back().path)
                                                : std::string("no checkpoint was written yet");
        return {StageOutcome::Status::Failed,
                fmt::format("ot: the dual diverged ({}); {}; lower /stages/ot/lr or raise /stages/ot/epsilon "
                            "(lr {:g}, epsilon {:g}), then run again",
                            e.what(), kept, o.lr, o.epsilon),
                false};
      }
      save();
      next_save = (trainer->step() / o.checkpoint_every + 1) * o.checkpoint_every;
      if (ctx.stop.load() && trainer->step() < o.iterations)
        return {StageOutcome::Status::Stopped,
                fmt::format("ot: stopped at step {} (checkpoint saved)", trainer->step())};
    }
    curve.close();
    diag.close();
    u = ot::evaluate_potential(*trainer->u(), trainer->u()->needs_features() ? ctx.source : torch::Tensor());
    v = ot::evaluate_potential(*trainer->v(), trainer->v()->needs_features() ? ctx.target : torch::Tensor());
    ot::save_potential(layout.u_potential().string(), *trainer->u());
    ot::save_potential(layout.v_potential().string(), *trainer->v());
    report = {
        {"solver", ot::ot_solver_name(o.solver)}, {"iterations", trainer->step()}, {"seconds", seconds_since(t0)}};
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
                        b.empty_rows == ot::EmptyRowPolicy::NextSource
                            ? "the released behaviour: the next source with entries is used"
                        : b.empty_rows == ot::EmptyRowPolicy::KeepEmpty ? "those sources are never drawn"
                                                                        : "each keeps its single best target"));
  const double mean_nnz = double(res.H.nnz()) / double(std::max<int64_t>(1, res.H.rows));
  ctx.log(LogEvent::Level::Info, fmt::format("bridge: H is {} x {} with {} entries ({:.1f} per source row)", res.H.rows,
                                             res.H.cols, res.H.nnz(), mean_nnz));
  ctx.emit(HReadyEvent{res.H.rows, res.H.cols, res.H.nnz(), empty, h_path});
  mark_done(ctx, Stage::Bridge,
            {{"rows", res.H.rows},
             {"cols", res.H.cols},
             {"nnz", res.H.nnz()},
             {"empty_rows", empty},
             {"empty_row_policy", ot::empty_row_policy_name(b.empty_rows)},
             {"threshold", b.threshold},
             {"seconds", res.seconds_potentials + res.seconds_h}});
  return {StageOutcome::Status::Done, fmt::format("{} entries", res.H.nnz())};
}

}  // namespace otcs::session
