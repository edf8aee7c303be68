// DpmotJob: DPM-OT sampling on a trained EDM model. The Heun grid of the project (N steps, rho) is cut where its
// last M steps start (index N - M, sigma_M = t_{N-M}); latents y_i = x_i + sigma_M z from the first L training
// images; semi-discrete OT from the source to {y_i}; each fresh source point goes to its cell's latent, then Heun
// steps N - M .. N - 1 to sigma = 0 (NFE 2M - 1), compared with plain Heun with M steps (the same NFE).
#include <chrono>
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/timing.h"
#include "core/diffusion/dpmot.h"
#include "core/diffusion/edm.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/semidiscrete.h"
#include "core/run/json_text.h"
#include "core/session/gen_jobs.h"
#include "core/session/gen_model.h"
#include "core/session/stages.h"

namespace otcs::session {

namespace fs = std::filesystem;
using nlohmann::json;

DpmotJob::DpmotJob(DpmotOptions options) : GenJob(options.out_dir), options_(std::move(options)) {}

void DpmotJob::work() {
  const fs::path run = options_.run_dir;
  const std::string train_json = (run / GenRunFiles::train_report).string();
  if (!fs::is_regular_file(train_json)) fail("{}: missing (is {} a gen-train run?)", train_json, run.string());
  json tr;
  try {
    tr = json::parse(io::read_file(train_json));
  } catch (const json::exception&) {
    fail("{}: not valid JSON", train_json);
  }
  if (!tr.contains("project") || !tr["project"].is_string()) fail("{}: no \"project\" entry", train_json);
  auto project = load_gen_project(tr["project"].get<std::string>());
  auto model = load_edm_model((run / GenRunFiles::model).string());
  diffusion::HeunSpec hs;
  hs.steps = project.sample_steps;
  hs.rho = project.rho;
  const int64_t m = options_.m.value_or(project.dpmot_m);
  if (m >= hs.steps) fail("--M {} must be smaller than the project's Heun steps ({})", m, hs.steps);
  const auto split = diffusion::dpmot_split(hs, m);
  const std::string source_name = options_.source.value_or(project.dpmot_source);
  const auto source = ot::parse_source_kind(source_name);
  const int64_t n = options_.n.value_or(project.eval_samples);
  const int64_t nl = options_.latents.value_or(project.dpmot_latents);
  const int max_iter = int(options_.max_iter.value_or(project.dpmot_max_iter));
  auto data = load_gen_data(project);
  if (nl > data.train_x.size(0)) fail("--latents {}: the training set has {} images", nl, data.train_x.size(0));
  std::string clf_path = options_.classifier;
  if (clf_path.empty() && fs::is_regular_file(run.parent_path() / GenRunFiles::classifier))
    clf_path = (run.parent_path() / GenRunFiles::classifier).string();
  if (!clf_path.empty() && !fs::is_regular_file(clf_path)) fail("{}: no such classifier archive", clf_path);
  io::OutputDir out(options_.out_dir);
  if (clf_path.empty()) clf_path = out.claim(GenRunFiles::classifier);
  double accuracy = 0;
  stage(StageEvent::What::Started, Stage::Eval, "classifier");
  auto clf = gen_classifier(project, data, clf_path, &accuracy, [this](const std::string& s) { log(s); });
  stage(StageEvent::What::Finished, Stage::Eval, "classifier");
  auto reference = metrics::extract_features(clf, data.test_x);
  auto emit_fn = [this](const Event& e) { publish(e); };

  // 1. Latents from the first L training images at sigma_M (the released code uses the test split; we keep
  //    the test split for the FD reference, so that FD does not reward copying it).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(project.dpmot_seed);
  auto images = data.train_x.slice(0, 0, nl);
  auto latents = diffusion::build_latents(images, split.sigma, gen);
  // 2. Semi-discrete OT, paused and stopped between its iterations.
  ot::SemiDiscreteOptions so;
  so.source = source;
  so.max_iter = max_iter;
  so.lr = options_.lr.value_or(project.dpmot_lr);
  so.seed = project.dpmot_seed + 1;
  log(fmt::format("dpmot: sdot on {} latents of dimension {} (sigma_M {:.4f}, grid index {})", nl, latents.size(1),
                  split.sigma, split.start));
  stage(StageEvent::What::Started, Stage::Ot, "semi-discrete OT");
  int last = 0;
  int64_t last_samples = 0;
  ProgressClock sd_clock(0, max_iter);
  auto sd = ot::solve_semidiscrete(
      latents, so,
      [&](const ot::SemiDiscreteStep& s) {
        if (s.iteration == 1 || s.iteration - last >= 100 || s.samples != last_samples) {
          log(ot::describe(s));
          last = s.iteration;
          last_samples = s.samples;
        }
        sd_clock.tick(emit_fn, Stage::Ot, s.iteration, false, s.grad_norm, true);
        hold();  // a pause blocks here; a stop ends the solve through its cancel flag
      },
      &stop_flag());
  if (stop_requested()) {
    stopped_where_ = fmt::format("semi-discrete OT stopped after {} iterations; nothing was written", sd.iterations);
    stage(StageEvent::What::Stopped, Stage::Ot, stopped_where_);
    return;
  }
  sd_clock.tick(emit_fn, Stage::Ot, sd.iterations, true, sd.grad_norm, true);
  stage(StageEvent::What::Finished, Stage::Ot, fmt::format("{} iterations", sd.iterations));
  auto measures = ot::cell_measures(latents, sd.h, source, 100 * nl, gen);
  io::write_npy(out.claim(GenRunFiles::heights), sd.h);
  io::write_npy(out.claim(GenRunFiles::cell_measures), measures);
  // 3. Map fresh source points and refine.
  stage(StageEvent::What::Started, Stage::Sample, "");
  auto mapped = diffusion::map_source(latents, sd.h, source, n, gen);
  auto shape = data.train_x.sizes().vec();
  shape[0] = n;
  auto cell_labels = project.conditional ? data.train_y.index_select(0, mapped.cells) : torch::Tensor();
  const auto grid = diffusion::heun_grid(hs);
  int64_t nfe = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto x = diffusion::heun_sample(model, mapped.latents.reshape(shape), grid, cell_labels, split.start, nullptr, &nfe);
  const double dpmot_seconds = seconds_since(t0);
  io::write_npy(out.claim(GenRunFiles::samples), x.slice(0, 0, std::min<int64_t>(n, 100)));
  // 4. Plain Heun with M steps (the same NFE) from the same kind of start.
  diffusion::HeunSpec hp = hs;
  hp.steps = m;
  const auto plain_grid = diffusion::heun_grid(hp);
  int64_t plain_nfe = 0;
  auto noise = torch::randn(shape, gen, torch::kFloat32) * plain_grid[0];
  t0 = std::chrono::steady_clock::now();
  auto xp = diffusion::heun_sample(model, noise, plain_grid, balanced_labels(n, data.classes, project.conditional), 0,
                                   nullptr, &plain_nfe);
  const double plain_seconds = seconds_since(t0);
  stage(StageEvent::What::Finished, Stage::Sample, "");

  stage(StageEvent::What::Started, Stage::Eval, "scores");
  auto near_latent = diffusion::nearest_distances(x, latents);
  auto own_latent = (x.reshape({n, -1}) - mapped.latents).pow(2).sum(1).sqrt();
  auto near_train = diffusion::nearest_distances(x, data.train_x);
  auto plain_near_train = diffusion::nearest_distances(xp, data.train_x);
  auto test_near_train = diffusion::nearest_distances(data.test_x.slice(0, 0, n), data.train_x);
  auto stats = [](const torch::Tensor& d) {
    return json{
        {"mean", d.mean().item<double>()}, {"median", d.median().item<double>()}, {"min", d.min().item<double>()}};
  };
  auto dpmot_scores = score_samples(clf, x, reference);
  auto plain_scores = score_samples(clf, xp, reference);
  const double cells_used = double(std::get<0>(torch::_unique(mapped.cells)).size(0));
  json report = {
      {"project", project.path},
      {"run", run.string()},
      {"classifier",
       {{"extractor", "project classifier, penultimate layer (128-d), not Inception"}, {"test_accuracy", accuracy}}},
      {"split",
       {{"heun_steps", split.steps},
        {"M", split.m},
        {"start_index", split.start},
        {"sigma_M", split.sigma},
        {"rho", hs.rho}}},
      {"latents", {{"count", nl}, {"from", "first L images of /data/train"}}},
      {"sdot",
       {{"source", source_name},
        {"grad_norm", sd.grad_norm},
        {"empty_cells", sd.empty_cells},
        {"iterations", sd.iterations},
        {"grad_estimate", sd.grad_estimate},
        {"noise", sd.noise},
        {"samples", sd.samples},
        {"converged", sd.converged},
        {"seconds", sd.seconds},
        {"doublings", sd.doublings},
        {"step", so.lr > 0 ? json(so.lr) : json("newton")},
        {"cell_measure_min_times_N", measures.min().item<double>() * double(nl)},
        {"cell_measure_max_times_N", measures.max().item<double>() * double(nl)}}},
      {"samples", n},
      {"dpmot",
       {{"nfe", nfe},
        {"scores", dpmot_scores},
        {"seconds", dpmot_seconds},
        {"distinct_cells", cells_used},
        {"distance_to_own_latent", stats(own_latent)},
        {"nearest_latent_distance", stats(near_latent)},
        {"nearest_train_distance", stats(near_train)}}},
      {"heun_same_nfe",
       {{"nfe", plain_nfe},
        {"steps", m},
        {"scores", plain_scores},
        {"seconds", plain_seconds},
        {"nearest_train_distance", stats(plain_near_train)}}},
      {"test_images_nearest_train_distance", stats(test_near_train)}};
  out.write(GenRunFiles::report, run::json_text(report));
  out.commit();
  stage(StageEvent::What::Finished, Stage::Eval, "scores");
  report_ = std::move(report);
  const fs::path dir = options_.out_dir;
  for (const auto& [kind, name] :
       {std::pair{ArtifactKind::CellMeasures, GenRunFiles::cell_measures},
        std::pair{ArtifactKind::Samples, GenRunFiles::samples}, std::pair{ArtifactKind::Report, GenRunFiles::report}})
    announce(kind, (dir / name).string());
}

}  // namespace otcs::session
