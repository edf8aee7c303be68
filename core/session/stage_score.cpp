// The score stage: conditional denoising score matching on pairs drawn by compatibility, with checkpoints
// that make an interrupted run resume bit for bit.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/pair_sampler.h"
#include "core/diffusion/trainer.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/sparse.h"
#include "core/run/curve.h"
#include "core/run/layout.h"
#include "core/session/checkpoint.h"
#include "core/session/previews.h"
#include "core/session/run_fork.h"
#include "core/session/score_model.h"
#include "core/session/stages.h"

namespace fs = std::filesystem;

namespace otcs::session {

diffusion::NetworkSpec score_network_spec(const StageContext& ctx) {
  auto spec = ctx.project.score.network;
  spec.data_dim = ctx.target.size(1);
  spec.cond_dim = ctx.source.size(1);
  if (ctx.images() && spec.kind == diffusion::NetworkKind::UNet) {
    // The target image is the diffused variable; the source image (flattened) is the condition vector, embedded
    // and added to the time embedding (the animal task's way: a translation changes the content globally).
    spec.in_channels = ctx.image_shape[0];
    spec.resolution = ctx.image_shape[1];
    spec.cond_channels = 0;
    if (spec.cond_encoder == "channels") {
      // Super-resolution: the (upsampled) source image is concatenated to the noisy target, pixel for pixel.
      spec.cond_channels = ctx.image_shape[0];
      spec.cond_dim = 0;
    }
  }
  const auto& sch = ctx.project.score.schedule;
  spec.time_scale = sch.kind == diffusion::ScheduleKind::Ddpm    ? 1.0 / double(sch.steps)
                    : sch.kind == diffusion::ScheduleKind::VpSde ? 1.0 / 999.0
                                                                 : 1.0;
  return spec;
}

StageOutcome run_score_stage(StageContext& ctx) {
  const auto& sc = ctx.project.score;
  const run::RunLayout layout = ctx.layout();
  const fs::path dir = layout.score_dir();
  fs::create_directories(dir);
  CheckpointStore store(dir.string(), run::file::kCheckpointPrefix, sc.keep_checkpoints);
  const fs::path loss_path = layout.loss_curve();
  if (ctx.forced) {
    store.clear();
    std::error_code ec;
    fs::remove(loss_path, ec);
  }

  ot::SparseMatrix H;
  torch::Tensor redirect;
  if (sc.mode == data::PairMode::Otcs) {
    H = ot::load_sparse(layout.h().string());
    redirect = io::read_npy(layout.redirect().string());
  }
  const auto net_spec = score_network_spec(ctx);
  auto schedule = diffusion::make_schedule(sc.schedule);
  // The sampler's seed is derived from the trainer's so a project sets one seed for the stage.
  const uint64_t sampler_seed = sc.trainer.seed * 7919 + 17;
  const torch::Device device(ctx.device);
  auto fresh = [&] {
    auto trainer = std::make_unique<diffusion::ScoreTrainer>(net_spec, schedule, sc.trainer);
    trainer->to(device);
    return std::make_pair(std::move(trainer), std::make_unique<data::PairSampler>(
                                                  sc.mode, ctx.source.size(0), ctx.target.size(0), sampler_seed,
                                                  sc.mode == data::PairMode::Otcs ? &H : nullptr, redirect));
  };
  auto [trainer, sampler] = fresh();

  std::vector<std::string> rejected;
  auto loaded = store.load_latest(
      ctx.hash,
      [&](torch::serialize::InputArchive& ar) {
        trainer->load(ar);
        sampler->load(ar);
      },
      &rejected);
  for (const auto& r : rejected) ctx.log(LogEvent::Level::Warning, "score: " + r);
  if (!loaded && !rejected.empty()) std::tie(trainer, sampler) = fresh();  // undo a partial restore

  ScorePreviewer previews(ctx, net_spec, schedule, sc.trainer.prediction);
  if (!loaded) previews.clear();
  int64_t start = 0;
  // The warm start's model, by content (also in done.json; the stage hash carries it too).
  const std::string init_hash =
      sc.init_from.empty() ? std::string() : stable_hash(io::read_file(init_model_path(sc.init_from)));
  if (loaded) {
    start = loaded->step;
    previews.truncate(start);
    ctx.emit(StageEvent{StageEvent::What::Resumed, Stage::Score, fmt::format("from step {}", start)});
    ctx.log(LogEvent::Level::Info, fmt::format("score: resumed from {} (step {} of {})",
                                               fs::path(loaded->path).filename().string(), start, sc.steps));
  } else {
    if (!sc.init_from.empty()) {
      // Warm start: the base model's EMA weights into the network and its EMA; optimiser and step count fresh.
      const ScoreModel base =
          load_init_model(sc.init_from, net_spec, ctx.project.path.empty() ? "project" : ctx.project.path);
      torch::NoGradGuard no_grad;
      for (auto* target : {trainer->network().get(), trainer->ema_network().get()}) {
        auto from = base.network->named_parameters();
        for (auto& p : target->named_parameters()) p.value().copy_(from[p.key()]);
        auto from_buffers = base.network->named_buffers();
        for (auto& b : target->named_buffers())
          if (from_buffers.contains(b.key())) b.value().copy_(from_buffers[b.key()]);
      }
      ctx.log(LogEvent::Level::Info,
              fmt::format("score: warm start from {} (model {}, trained for configuration {}); {} steps from step 0",
                          init_model_path(sc.init_from), init_hash, base.config_hash, sc.steps));
    }
    const std::string net = net_spec.kind == diffusion::NetworkKind::UNet
                                ? fmt::format("UNet {} channels x {} levels, condition encoder {} on {}x{}x{} images",
                                              net_spec.channels, net_spec.channel_mult.size(), net_spec.cond_encoder,
                                              ctx.image_shape[0], ctx.image_shape[1], ctx.image_shape[2])
                                : fmt::format("mlp {}x{}", net_spec.hidden, net_spec.blocks);
    ctx.log(LogEvent::Level::Info,
            fmt::format("score: {} steps, batch {}, {} pairs, {} schedule, {} ({} parameters){}", sc.steps, sc.batch,
                        data::pair_mode_name(sc.mode), diffusion::schedule_kind_name(sc.schedule.kind), net,
                        diffusion::parameter_count(*trainer->network()),
                        trainer->spec().cond_dropout > 0
                            ? fmt::format(", {:.0f}% null conditions", 100 * trainer->spec().cond_dropout)
                            : std::string()));
  }
  // The loss curve survives a resume: rows past the checkpoint's step are dropped (they will be redone).
  run::CurveWriter curve(loss_path.string(), {run::column::kLoss}, start);
  for (size_t r = 0; r < curve.kept().rows(); ++r)
    ctx.emit(LossEvent{Stage::Score, "loss", curve.kept().steps[r], curve.kept().values[0][r]});

  auto save = [&](int64_t step) {
    return store.save(step, ctx.hash, [&](torch::serialize::OutputArchive& ar) {
      trainer->save(ar);
      sampler->save(ar);
    });
  };

  ProgressClock clock(start, sc.steps);
  const auto stage_start = std::chrono::steady_clock::now();
  double window = 0;
  int64_t window_n = 0;
  double last_loss = 0;
  for (int64_t step = start; step < sc.steps; ++step) {
    if (ctx.pause.load()) {
      clock.pause_begin();
      ctx.hold();
      clock.pause_end();
    }
    if (ctx.stop.load()) {
      const auto path = save(step);
      return {StageOutcome::Status::Stopped,
              fmt::format("score: stopped at step {} (checkpoint {})", step, fs::path(path).filename().string())};
    }
    auto [si, ti] = sampler->next(sc.batch);
    auto y0 = ctx.target.index_select(0, ti);
    if (ctx.images() && net_spec.kind == diffusion::NetworkKind::UNet)
      y0 = y0.view({y0.size(0), ctx.image_shape[0], ctx.image_shape[1], ctx.image_shape[2]});
    auto cond = ctx.source.index_select(0, si);
    try {
      last_loss = trainer->step(y0, cond);
    } catch (const diffusion::DivergedError& e) {
      auto files = store.list();
      const std::string kept = files.empty()
                                   ? "no checkpoint was written yet"
                                   : fmt::format("the last good checkpoint {} (step {}) is kept",
                                                 fs::path(files.back().path).filename().string(), files.back().step);
      return {
          StageOutcome::Status::Failed,
          fmt::format("score: training diverged ({}); {}; lower /stages/score/lr or raise grad_clip", e.what(), kept),
          false};
    }
    window += last_loss;
    ++window_n;
    const int64_t done = step + 1;
    if (done % sc.log_every == 0 || done == sc.steps) {
      const double mean = window / double(window_n);
      curve.append(done, {mean});
      curve.flush();
      ctx.emit(LossEvent{Stage::Score, "loss", done, mean});
      window = 0;
      window_n = 0;
    }
    clock.tick(ctx, Stage::Score, done, done == sc.steps, last_loss, true);
    if (previews.due(done, sc.steps))
      previews.write(done, trainer->ema_network(), trainer->network(), sc.trainer.ema_decay);
    if (done % sc.checkpoint_every == 0 && done != sc.steps) save(done);
  }
  if (previews.enabled())
    ctx.log(LogEvent::Level::Info, fmt::format("score: previews took {:.1f} s of the stage's {:.1f} s",
                                               previews.seconds(), seconds_since(stage_start)));
  curve.close();
  save(sc.steps);
  save_score_model(layout.score_model().string(), *trainer, ctx.hash, sc.schedule);
  nlohmann::json done = {{"steps", sc.steps}, {"final_loss", last_loss}};
  if (!sc.init_from.empty()) {
    done["init_from"] = init_model_path(sc.init_from);
    done["init_model_hash"] = init_hash;
  }
  mark_done(ctx, Stage::Score, done);
  return {StageOutcome::Status::Done, fmt::format("final batch loss {:.4g}", last_loss)};
}

}  // namespace otcs::session
