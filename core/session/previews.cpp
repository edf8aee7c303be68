#include "core/session/previews.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/diffusion/sampler.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/json_text.h"
#include "core/run/layout.h"
#include "core/session/image_data.h"
#include "core/session/score_model.h"
#include "core/session/translate.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

constexpr uint64_t kPreviewSeed = 20231;   // the same noise at every preview
constexpr int64_t kSamplesPerSource = 32;  // 2-D previews: samples drawn for each source

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

ScorePreviewer::ScorePreviewer(StageContext& ctx, const diffusion::NetworkSpec& spec,
                               std::shared_ptr<diffusion::Schedule> schedule, diffusion::Prediction prediction)
    : ctx_(ctx), spec_(spec), schedule_(std::move(schedule)), prediction_(prediction) {
  const auto& sc = ctx.project.score;
  dir_ = ctx.layout().previews_dir().string();
  if (sc.preview_every <= 0) return;
  if (ctx.device != "cpu") {
    ctx.log(LogEvent::Level::Warning, "score: previews are made on the CPU only; none while training on " + ctx.device);
    return;
  }
  every_ = sc.preview_every;
  const int64_t k = sc.preview_sources;
  const std::string where = ctx.project.path.empty() ? "project" : ctx.project.path;
  if (ctx.images() && ctx.project.image_eval.test_source.is_images()) {
    // Held-out sources: spread over the test set, the same at every preview.
    auto test = load_image_set(ctx.project.image_eval.test_source.images, where + ": /data/test_source");
    const int64_t n = test.size();
    for (int64_t i = 0; i < std::min(k, n); ++i) indices_.push_back(i * n / std::min(k, n));
    sources_ = test.as_float().flatten(1).index_select(0, torch::tensor(indices_, torch::kInt64));
    origin_ = "test_source";
  } else {
    indices_ = ctx.spread_sources(k);
    sources_ = ctx.source.index_select(0, torch::tensor(indices_, torch::kInt64));
    origin_ = "source";
  }
  if (sources_.size(1) != ctx.source.size(1)) {
    ctx.log(LogEvent::Level::Warning, "score: the test sources differ in size from the training sources; no previews");
    every_ = 0;
  }
}

void ScorePreviewer::clear() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  entries_ = nlohmann::json::array();
}

void ScorePreviewer::truncate(int64_t step) {
  entries_ = nlohmann::json::array();
  std::error_code ec;
  const fs::path index = ctx_.layout().previews_index();
  if (!fs::is_regular_file(index, ec)) return;
  try {
    for (const auto& e : nlohmann::json::parse(io::read_file(index.string())).at("previews"))
      if (e.at("step").get<int64_t>() <= step) entries_.push_back(e);
  } catch (const std::exception&) {
    entries_ = nlohmann::json::array();  // an unreadable index is rebuilt from here on
  }
}

double ScorePreviewer::write(int64_t step, const std::shared_ptr<diffusion::ScoreNetwork>& ema_network,
                             const std::shared_ptr<diffusion::ScoreNetwork>& online, double ema_decay) {
  if (!enabled()) return 0;
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const bool use_ema = std::pow(ema_decay, double(step)) < 0.1;
  const auto& ema = use_ema ? ema_network : online;
  const bool was_training = ema->is_training();
  ema->eval();
  const auto& sample_spec = ctx_.project.sample.sampler;
  PreviewFrame frame;
  frame.step = step;
  frame.images = ctx_.images();
  const int64_t k = sources_.size(0);
  diffusion::SamplerSpec spec;
  if (frame.images) {
    // A fast deterministic sampler: DDIM (eta 0) with the sample stage's guidance and clipping.
    spec.kind = diffusion::SamplerKind::Ddim;
    spec.steps = ctx_.project.score.preview_steps;
    spec.clip = sample_spec.clip > 0 ? sample_spec.clip : 1.0;
    spec.guidance = sample_spec.guidance;
    ScoreModel model;
    model.network = ema;
    model.network_spec = spec_;
    model.schedule = schedule_;
    model.prediction = prediction_;
    TranslateOptions to;
    to.sampler = spec;
    to.seed = kPreviewSeed;
    to.batch = k;
    auto y = translate_images(model, sources_, ctx_.image_shape, to);
    const auto& s = ctx_.image_shape;
    frame.shape = {k, s[0], s[1], s[2]};
    frame.sources = to_vector(sources_.view({k, s[0], s[1], s[2]}).clamp(-1, 1));
    frame.samples = to_vector(y);
  } else {
    spec = sample_spec;
    spec.steps = sample_spec.steps > 0 ? std::min(sample_spec.steps, ctx_.project.score.preview_steps * 5)
                                       : ctx_.project.score.preview_steps * 5;
    auto cond = sources_.repeat_interleave(kSamplesPerSource, 0);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(kPreviewSeed);
    diffusion::NetworkDenoiser denoiser(ema, prediction_, 0, spec.guidance, spec.precision);
    diffusion::SampleOptions so;
    so.cond = cond;
    if (spec.sdedit_t0 > 0) so.sdedit_source = cond;
    const int64_t d = ctx_.target.size(1);
    auto x = diffusion::sample(denoiser, *schedule_, spec, {cond.size(0), d}, gen, so);
    frame.shape = {k, kSamplesPerSource, d};
    frame.sources = to_vector(sources_);
    frame.samples = to_vector(x);
    frame.target = to_vector(ctx_.target);
  }
  if (was_training) ema->train();

  fs::create_directories(dir_);
  const fs::path npz = ctx_.layout().preview(step, "npz");
  const std::vector<int64_t> source_shape = frame.images ? frame.shape : std::vector<int64_t>{k, frame.shape[2]};
  io::write_npz(npz.string(), {{"sources", torch::tensor(frame.sources).view(source_shape)},
                               {"samples", torch::tensor(frame.samples).view(frame.shape)},
                               {"source_index", torch::tensor(indices_, torch::kInt64)}});
  std::string png;
  if (ctx_.preview_writer) {
    png = ctx_.layout().preview(step, "png").string();
    ctx_.preview_writer(png, frame);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  seconds_ += seconds;
  nlohmann::json entry = {
      {"step", step}, {"data", npz.filename().string()}, {"seconds", seconds}, {"weights", use_ema ? "ema" : "online"}};
  if (!png.empty()) entry["file"] = fs::path(png).filename().string();
  entries_.push_back(entry);
  save_index();
  ctx_.emit(PreviewEvent{step, png, ctx_.layout().previews_index().string()});
  return seconds;
}

void ScorePreviewer::save_index() const {
  const auto& sc = ctx_.project.score;
  nlohmann::json index = {
      {"every", every_},
      {"sources", indices_},
      {"sources_from", origin_},
      {"sampler", ctx_.images() ? fmt::format("ddim, {} steps, eta 0", sc.preview_steps)
                                : std::string(diffusion::sampler_kind_name(ctx_.project.sample.sampler.kind))},
      {"seed", kPreviewSeed},
      {"previews", entries_}};
  run::write_json_atomic(ctx_.layout().previews_index().string(), index);
}

}  // namespace otcs::session
