// The sample stage (conditional samples and recorded reverse trajectories for a few sources) and the eval
// stage (conditional W2 against the exact regularised plan on a finer target discretisation).
#include <ATen/CPUGeneratorImpl.h>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/point_cloud.h"
#include "core/diffusion/sampler.h"
#include "core/diffusion/wasserstein.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/artifacts.h"
#include "core/run/layout.h"
#include "core/run/trajectories.h"
#include "core/session/score_model.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

using Clock = std::chrono::steady_clock;

// Draws per_source samples for each source; recorder/progress optional. Undefined result: stopped.
torch::Tensor conditional_samples(const StageContext& ctx, const ScoreModel& model, const diffusion::SamplerSpec& spec,
                                  const torch::Tensor& source_set, const std::vector<int64_t>& sources,
                                  int64_t per_source, uint64_t seed, diffusion::TrajectoryRecorder* recorder,
                                  Stage stage, int64_t* nfe = nullptr) {
  auto idx = torch::tensor(sources, torch::kInt64).repeat_interleave(per_source);
  auto cond = source_set.index_select(0, idx);
  const int64_t d = ctx.target.size(1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  diffusion::NetworkDenoiser denoiser(model.network, model.prediction, 0, spec.guidance, spec.precision);
  diffusion::SampleOptions so;
  so.cond = cond;
  so.recorder = recorder;
  if (spec.sdedit_t0 > 0) {
    if (ctx.source.size(1) != d) fail("the sdedit start needs sources and targets of the same dimension");
    so.sdedit_source = cond;
  }
  ProgressClock clock(0, 1);
  bool clock_ready = false;
  so.cancelled = [&] {
    if (ctx.pause.load()) {
      clock.pause_begin();
      ctx.hold();
      clock.pause_end();
    }
    return ctx.stop.load();
  };
  so.progress = [&](int64_t step, int64_t total) {
    if (!clock_ready) {
      clock = ProgressClock(0, total);
      clock_ready = true;
    }
    clock.tick(ctx, stage, step, step == total);
  };
  auto x = diffusion::sample(denoiser, *model.schedule, spec, {idx.size(0), d}, gen, so);
  if (nfe) *nfe = denoiser.evaluations();
  if (!x.defined()) return x;
  return x.reshape({int64_t(sources.size()), per_source, d});
}

std::vector<int64_t> checked_sources(const StageContext& ctx, const std::vector<int64_t>& given, int64_t count) {
  if (given.empty()) return ctx.spread_sources(count);
  for (size_t k = 0; k < given.size(); ++k)
    if (given[k] >= ctx.source.size(0))
      fail("{}: /stages/sample/sources/{}: index {} is outside the {} sources", ctx.project.path, k, given[k],
           ctx.source.size(0));
  return given;
}

}  // namespace

void stream_trajectory_frames(const StageContext& ctx, diffusion::TrajectoryRecorder& recorder,
                              const std::vector<int64_t>& sources, int64_t per_source, int64_t kept) {
  auto frame_no = std::make_shared<int64_t>(0);
  recorder.on_frame = [&ctx, sources, per_source, kept, frame_no](const diffusion::TrajectoryFrame& f) {
    const int64_t rows = int64_t(sources.size()) * per_source;
    auto xs = f.x.reshape({rows, -1}), x0s = f.x0.reshape({rows, -1});
    for (size_t s = 0; s < sources.size(); ++s) {
      TrajectoryEvent e;
      e.source_index = sources[s];
      e.frame = *frame_no;
      e.step = f.step;
      e.t = f.t;
      e.count = kept;
      e.dim = xs.size(1);
      auto x = xs.slice(0, int64_t(s) * per_source, int64_t(s) * per_source + kept).contiguous();
      auto x0 = x0s.slice(0, int64_t(s) * per_source, int64_t(s) * per_source + kept).contiguous();
      e.x.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
      e.x0.assign(x0.data_ptr<float>(), x0.data_ptr<float>() + x0.numel());
      ctx.emit(e);
    }
    ++*frame_no;
  };
}

StageOutcome run_sample_stage(StageContext& ctx) {
  const auto& sp = ctx.project.sample;
  const run::RunLayout layout = ctx.layout();
  fs::create_directories(layout.sample_dir());
  const auto t0 = Clock::now();
  auto model = load_score_model(layout.score_model().string());
  const auto sources = checked_sources(ctx, sp.sources, sp.source_count);
  const int64_t S = int64_t(sources.size()), P = sp.per_source, K = std::min(sp.trajectory_paths, sp.per_source);
  const int64_t d = ctx.target.size(1);

  diffusion::TrajectoryRecorder recorder({}, sp.trajectory_frames);
  stream_trajectory_frames(ctx, recorder, sources, P, K);
  ctx.log(LogEvent::Level::Info, fmt::format("sample: {} samples for each of {} sources ({} sampler)", P, S,
                                             diffusion::sampler_kind_name(sp.sampler.kind)));
  auto x = conditional_samples(ctx, model, sp.sampler, ctx.source, sources, P, sp.seed, &recorder, Stage::Sample);
  if (!x.defined()) return {StageOutcome::Status::Stopped, "sample: stopped (sampling starts over next time)"};

  io::write_npy(layout.samples().string(), x);
  io::write_npy(layout.sample_sources().string(), torch::tensor(sources, torch::kInt64));
  std::vector<torch::Tensor> fx, fx0;
  std::vector<int64_t> steps;
  std::vector<double> ts;
  for (const auto& f : recorder.frames()) {
    fx.push_back(f.x.reshape({S, P, d}).slice(1, 0, K));
    fx0.push_back(f.x0.reshape({S, P, d}).slice(1, 0, K));
    steps.push_back(f.step);
    ts.push_back(f.t);
  }
  run::write_trajectories(layout.trajectories().string(),
                          {torch::stack(fx), torch::stack(fx0), torch::tensor(steps, torch::kInt64),
                           torch::tensor(ts, torch::kFloat64), torch::tensor(sources, torch::kInt64)});
  SamplesEvent se;
  se.source_index = sources;
  se.per_source = P;
  se.dim = d;
  auto flat = x.contiguous();
  se.samples.assign(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  se.path = layout.samples().string();
  ctx.emit(se);
  mark_done(ctx, Stage::Sample, {{"sources", S}, {"per_source", P}, {"seconds", seconds_since(t0)}});
  return {StageOutcome::Status::Done, fmt::format("{} samples", S * P)};
}

StageOutcome run_eval_stage(StageContext& ctx) {
  const auto& ev = ctx.project.eval;
  const run::RunLayout layout = ctx.layout();
  fs::create_directories(layout.eval_dir());
  const auto t0 = Clock::now();
  auto model = load_score_model(layout.score_model().string());

  // The reference pi(.|x): the exact plan on a fine discretisation of both sides. With keypoints the masked
  // problem with uniform marginals is feasible only with as many sources as targets (a keypoint pair carries
  // 1/n on one side and 1/m on the other), so the source side is discretised as finely as the target; the
  // evaluation sources are fresh points of that discretisation, the keypoints join both sides as in training.
  torch::Tensor fine_source, fine_target;
  ot::KeypointPairs kp = ctx.keypoints;
  int64_t fine_base = 0;
  const auto& sspec = ctx.project.source;
  const auto& tspec = ctx.project.target;
  if (sspec.generated() && tspec.generated()) {
    fine_source = data::generate_mixture(sspec.mixture, ev.fine_size, ev.fine_seed).points;
    fine_target = data::generate_mixture(tspec.mixture, ev.fine_size, ev.fine_seed + 1).points;
    fine_base = ev.fine_size;
    if (kp.size() > 0) {
      fine_source = torch::cat({fine_source, ctx.source.index_select(0, kp.source_index)});
      fine_target = torch::cat({fine_target, ctx.target.index_select(0, kp.target_index)});
      kp.source_index = fine_base + torch::arange(kp.size(), torch::kInt64);
      kp.target_index = fine_base + torch::arange(kp.size(), torch::kInt64);
    }
  } else {
    fine_source = ctx.source;
    fine_target = ctx.target;
    fine_base = fine_target.size(0);
    ctx.log(LogEvent::Level::Warning,
            "eval: the data come from files, so their own samples are the reference discretisation");
  }
  ctx.log(LogEvent::Level::Info,
          fmt::format("eval: exact reference plan {} x {}", fine_source.size(0), fine_target.size(0)));
  const auto t_ref = Clock::now();
  auto ref = solve_exact_problem(ctx, fine_source, fine_target, kp);
  const double ref_seconds = seconds_since(t_ref);
  if (ctx.stop.load()) return {StageOutcome::Status::Stopped, "eval: stopped"};

  // Evaluation sources: spread over the reference's non-keypoint sources.
  std::vector<int64_t> sources;
  {
    std::vector<char> is_kp(size_t(fine_source.size(0)), 0);
    for (int64_t k = 0; k < kp.size(); ++k) is_kp[size_t(kp.source_index[k].item<int64_t>())] = 1;
    std::vector<int64_t> pool;
    for (int64_t i = 0; i < fine_source.size(0); ++i)
      if (!is_kp[size_t(i)]) pool.push_back(i);
    const int64_t count = std::min<int64_t>(ev.sources, int64_t(pool.size()));
    for (int64_t k = 0; k < count; ++k)
      sources.push_back(pool[size_t((double(k) + 0.5) * double(pool.size()) / double(count))]);
  }
  const int64_t S = int64_t(sources.size()), P = ev.per_source;
  const auto& spec = ev.has_sampler ? ev.sampler : ctx.project.sample.sampler;
  const auto t_sample = Clock::now();
  int64_t nfe = 0;
  auto x = conditional_samples(ctx, model, spec, fine_source, sources, P, ev.seed, nullptr, Stage::Eval, &nfe);
  if (!x.defined()) return {StageOutcome::Status::Stopped, "eval: stopped (it starts over next time)"};
  const double sample_seconds = seconds_since(t_sample);

  auto gen = at::make_generator<at::CPUGeneratorImpl>(ev.seed + 1);
  auto fine_base_points = fine_target.slice(0, 0, fine_base);
  std::vector<double> w2_model, w2_base, ref_spread;
  std::vector<torch::Tensor> ref_points, ref_weights;
  std::vector<int64_t> offsets = {0};
  const auto t_w2 = Clock::now();
  for (int64_t s = 0; s < S; ++s) {
    if (ctx.hold()) return {StageOutcome::Status::Stopped, "eval: stopped (it starts over next time)"};
    auto row = ref.plan[sources[size_t(s)]];
    auto support = torch::nonzero(row > 0).squeeze(1);
    auto pts = fine_target.index_select(0, support);
    auto w = row.index_select(0, support);
    ref_points.push_back(pts);
    ref_weights.push_back(w / w.sum());
    {
      auto wn = (w / w.sum()).unsqueeze(1);
      auto p64 = pts.to(torch::kFloat64);
      auto mu = (wn * p64).sum(0, true);
      ref_spread.push_back(std::sqrt((wn * (p64 - mu).pow(2)).sum().item<double>()));
    }
    offsets.push_back(offsets.back() + support.numel());
    w2_model.push_back(diffusion::wasserstein2(x[s], pts, {}, w));
    auto q = fine_base_points.index_select(0, torch::randint(0, fine_base, {P}, gen, torch::kInt64));
    w2_base.push_back(diffusion::wasserstein2(q, pts, {}, w));
  }
  const double w2_seconds = seconds_since(t_w2);
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / double(std::max<size_t>(1, v.size()));
  };
  const double num = mean(w2_model), den = mean(w2_base);
  const double tstd = data::total_std(fine_base_points);
  const double ratio = num / den;

  nlohmann::json m;
  m["conditional_w2_ratio"] = ratio;
  m["conditional_w2_baseline"] = den;
  m["conditional_w2_model"] = num;
  m["target_std"] = tstd;
  m["baseline_over_target_std"] = den / tstd;
  // How concentrated the reference conditionals are: sqrt(trace Cov) of pi(.|x), averaged over the sources.
  m["reference_conditional_std"] = mean(ref_spread);
  m["per_source"] = nlohmann::json::array();
  for (int64_t s = 0; s < S; ++s)
    m["per_source"].push_back({{"source", sources[size_t(s)]},
                               {"w2_model", w2_model[size_t(s)]},
                               {"w2_baseline", w2_base[size_t(s)]},
                               {"reference_support", offsets[size_t(s) + 1] - offsets[size_t(s)]},
                               {"reference_std", ref_spread[size_t(s)]}});
  m["settings"] = {{"sources", S},
                   {"samples_per_source", P},
                   {"sampler", diffusion::sampler_kind_name(spec.kind)},
                   {"sampler_steps", spec.steps},
                   {"sampler_nfe", nfe},
                   {"precision", precision_name(spec.precision)},
                   {"score_precision", precision_name(ctx.project.score.trainer.precision)},
                   {"reference", "exact L2-regularised plan (core/ot/exact) on the fine discretisation"},
                   {"fine_points_per_side", fine_base},
                   {"w2", "exact discrete OT (core/diffusion/wasserstein)"},
                   {"baseline", "W2 between the same number of draws from the target marginal q and pi(.|x)"},
                   {"reference_kkt", ref.kkt}};
  m["seconds"] = {
      {"reference", ref_seconds}, {"sampling", sample_seconds}, {"w2", w2_seconds}, {"total", seconds_since(t0)}};
  run::write_metrics(layout, m);
  auto source_points = fine_source.index_select(0, torch::tensor(sources, torch::kInt64));
  io::write_npz(layout.conditionals().string(),
                {{"sources", torch::tensor(sources, torch::kInt64)},
                 {"source_points", source_points.contiguous()},
                 {"samples", x.contiguous()},
                 {"ref_points", torch::cat(ref_points).to(torch::kFloat32).contiguous()},
                 {"ref_weights", torch::cat(ref_weights).to(torch::kFloat64).contiguous()},
                 {"ref_offsets", torch::tensor(offsets, torch::kInt64)}});
  ctx.log(LogEvent::Level::Info,
          fmt::format("eval: conditional W2 {:.4f} (model) / {:.4f} (ignoring x) = ratio {:.4f}; target std {:.4f}",
                      num, den, ratio, tstd));
  MetricsEvent me;
  me.values = {{"conditional_w2_ratio", ratio},
               {"conditional_w2_baseline", den},
               {"conditional_w2_model", num},
               {"target_std", tstd}};
  me.path = layout.metrics().string();
  ctx.emit(me);
  mark_done(ctx, Stage::Eval, {{"conditional_w2_ratio", ratio}});
  return {StageOutcome::Status::Done, fmt::format("ratio {:.4f}", ratio)};
}

}  // namespace otcs::session
