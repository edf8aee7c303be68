// The generation jobs' shared part and the two that train: GenTrainJob and AotCompareJob (DpmotJob:
// dpmot_job.cpp).
#include "core/session/gen_jobs.h"

#include <chrono>
#include <filesystem>
#include <map>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/timing.h"
#include "core/diffusion/edm.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/metrics/curvature.h"
#include "core/run/json_text.h"
#include "core/session/gen_model.h"
#include "core/session/stages.h"

namespace otcs::session {

namespace fs = std::filesystem;
using nlohmann::json;

JobResult GenJob::run() {
  try {
    work();
  } catch (const UserError& e) {
    return {JobStatus::Failed, e.what(), true};
  } catch (const std::exception& e) {
    std::string what = e.what();
    spdlog::error("internal error: {}", what);
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    return {JobStatus::Failed, what, false};
  }
  if (!stopped_where_.empty()) return {JobStatus::Stopped, stopped_where_};
  return {JobStatus::Completed, ""};
}

void GenJob::log(const std::string& message) const {
  spdlog::info("{}", message);
  publish(LogEvent{LogEvent::Level::Info, message});
}

namespace {

// The training settings the options select; checked against the data before anything is written.
GenTrainSettings train_settings(const GenProject& p, const GenData& d, bool assign, std::optional<int64_t> aot,
                                std::optional<int64_t> steps, std::optional<int64_t> batch,
                                std::optional<int64_t> fd_every) {
  GenTrainSettings s;
  s.assign = assign;
  s.fd_every = fd_every.value_or(p.fd_every);
  if (s.fd_every < 0) fail("--fd-every must be >= 0 (got {})", s.fd_every);
  s.chunk = aot && *aot > 0 ? *aot : p.aot;
  s.steps = steps.value_or(p.steps);
  s.batch = batch.value_or(p.batch);
  if (s.chunk < s.batch || s.chunk % s.batch != 0)
    fail("the AOT chunk ({}) must be a multiple of the batch ({})", s.chunk, s.batch);
  if (s.chunk > d.train_x.size(0))
    fail("the AOT chunk ({}) is larger than the training set ({} images)", s.chunk, d.train_x.size(0));
  return s;
}

// The training loop's hooks for a job: log lines, progress and window-mean loss points of the score stage
// (series "edm" or "aot"), and the job's pause and stop.
GenTrainHooks train_hooks(const GenTrainSettings& s, const fs::path& dir,
                          const std::function<void(const std::string&)>& log,
                          const std::function<void(const Event&)>& publish, const std::function<bool()>& stop) {
  auto clock = std::make_shared<ProgressClock>(0, s.steps);
  const std::string series = s.assign ? "aot" : "edm";
  GenTrainHooks h;
  h.log = log;
  h.stop = stop;
  h.checkpoint = (dir / GenRunFiles::checkpoint).string();
  h.step = [clock, publish](int64_t step, int64_t total, double loss) {
    clock->tick(publish, Stage::Score, step, step == total, loss, true);
  };
  h.window = [series, publish](int64_t step, double mean) { publish(LossEvent{Stage::Score, series, step, mean}); };
  h.fd_point = [series, publish](int64_t step, double fd) {
    publish(LossEvent{Stage::Score, series + " fd", step, fd});
  };
  return h;
}

}  // namespace

// ------------------------------------------------------------------------------------------ gen-train

GenTrainJob::GenTrainJob(GenTrainOptions options) : GenJob(options.out_dir), options_(std::move(options)) {}

void GenTrainJob::work() {
  auto project = load_gen_project(options_.project);
  const std::string dir = options_.out_dir;
  if (fs::exists(fs::path(dir) / GenRunFiles::model))
    fail("{}: already holds a {}; choose another --out", dir, GenRunFiles::model);
  auto data = load_gen_data(project);
  const bool assign = options_.aot ? *options_.aot > 0 : project.method == "aot";
  auto settings =
      train_settings(project, data, assign, options_.aot, options_.steps, options_.batch, options_.fd_every);
  io::OutputDir out(dir);
  auto hooks = train_hooks(
      settings, dir, [this](const std::string& s) { log(s); }, [this](const Event& e) { publish(e); },
      [this] { return should_stop(); });
  // The FD curve's instrument: the project classifier, kept in DIR (a resumed training loads it).
  std::optional<metrics::Classifier> clf;
  if (settings.fd_every > 0) {
    fs::create_directories(dir);
    clf.emplace(gen_classifier(project, data, (fs::path(dir) / GenRunFiles::classifier).string(), nullptr,
                               [this](const std::string& s) { log(s); }));
    hooks.fd = fd_probe(project, data, *clf, metrics::extract_features(*clf, data.test_x));
  }
  stage(StageEvent::What::Started, Stage::Score, assign ? "aot" : "edm");
  auto report = train_gen_model(project, data, settings, out, hooks);
  if (!report) {
    stopped_where_ = "training stopped; training again with the same settings resumes it";
    stage(StageEvent::What::Stopped, Stage::Score, stopped_where_);
    return;
  }
  out.commit();
  report_ = *report;
  stage(StageEvent::What::Finished, Stage::Score, assign ? "aot" : "edm");
  for (const auto& [kind, name] :
       {std::pair{ArtifactKind::Model, GenRunFiles::model}, std::pair{ArtifactKind::Loss, GenRunFiles::loss},
        std::pair{ArtifactKind::AotChunks, GenRunFiles::aot_chunks},
        std::pair{ArtifactKind::Report, GenRunFiles::train_report}})
    announce(kind, (fs::path(dir) / name).string());
}

// ------------------------------------------------------------------------------------------ aot-compare

AotCompareJob::AotCompareJob(AotCompareOptions options) : GenJob(options.out_dir), options_(std::move(options)) {}

void AotCompareJob::work() {
  auto project = load_gen_project(options_.project);
  const auto& nfes = options_.nfe;
  if (nfes.empty()) fail("--nfe: give at least one value");
  for (int64_t v : nfes)
    if (v < 1 || v % 2 == 0)
      fail("--nfe: '{}' is not an odd positive number (Heun with N steps uses 2N - 1 evaluations)", v);
  const int64_t samples = options_.samples.value_or(project.eval_samples);
  if (options_.aot && *options_.aot < 1) fail("--aot must be >= 1 for aot-compare");
  auto data = load_gen_data(project);
  auto plain = train_settings(project, data, false, options_.aot, options_.steps, options_.batch, options_.fd_every);
  auto aot = train_settings(project, data, true, options_.aot, options_.steps, options_.batch, options_.fd_every);
  const fs::path dir = options_.out_dir;
  // Created here rather than by OutputDir: the trained models and the classifier are complete artifacts a
  // later call reuses, and must survive a failure further on.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create directory ({})", dir.string(), ec.message());
  io::OutputDir top(dir.string());
  auto log_fn = [this](const std::string& s) { log(s); };

  double accuracy = 0;
  stage(StageEvent::What::Started, Stage::Eval, "classifier");
  auto clf = gen_classifier(project, data, (dir / GenRunFiles::classifier).string(), &accuracy, log_fn);
  stage(StageEvent::What::Finished, Stage::Eval, "classifier");
  auto reference = metrics::extract_features(clf, data.test_x);
  json report = {
      {"project", project.path},
      {"classifier",
       {{"extractor", "project classifier, penultimate layer (128-d), not Inception"}, {"test_accuracy", accuracy}}},
      {"samples", samples},
      {"rho", project.rho}};
  {
    // The floor: real training images scored like samples.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(project.eval_seed);
    auto idx = torch::randperm(data.train_x.size(0), gen, torch::kInt64).slice(0, 0, samples);
    report["train_images_scores"] = score_samples(clf, data.train_x.index_select(0, idx), reference);
  }
  std::map<std::string, diffusion::EdmModel> models;
  for (const auto& [name, s] : {std::pair{std::string(GenRunFiles::plain_model_dir), plain},
                                std::pair{std::string(GenRunFiles::aot_model_dir), aot}}) {
    // A model in DIR/<name> trained with these settings is reused; otherwise it is trained there.
    const fs::path model_dir = dir / name;
    const std::string path = (model_dir / GenRunFiles::model).string();
    const json want = gen_model_meta(project, s);
    json tr;
    if (fs::exists(path)) {
      json meta;
      auto model = load_edm_model(path, &meta);
      if (meta != want)
        fail("{}: trained with other settings ({}); remove it or choose another --out", path, meta.dump());
      log(fmt::format("reusing {}", path));
      stage(StageEvent::What::Skipped, Stage::Score, fmt::format("{}: reusing {}", name, path));
      if (fs::is_regular_file(model_dir / GenRunFiles::train_report, ec))
        tr = json::parse(io::read_file((model_dir / GenRunFiles::train_report).string()));
      models.emplace(name, std::move(model));
    } else {
      io::OutputDir out(model_dir.string());
      stage(StageEvent::What::Started, Stage::Score, name);
      auto hooks = train_hooks(
          s, model_dir, log_fn, [this](const Event& e) { publish(e); }, [this] { return should_stop(); });
      if (s.fd_every > 0) hooks.fd = fd_probe(project, data, clf, reference);
      auto trained = train_gen_model(project, data, s, out, hooks);
      if (!trained) {
        stopped_where_ = fmt::format(
            "{} training stopped; running the comparison again resumes it (a finished "
            "model is kept and reused)",
            name);
        stage(StageEvent::What::Stopped, Stage::Score, stopped_where_);
        return;
      }
      out.commit();
      tr = *trained;
      stage(StageEvent::What::Finished, Stage::Score, name);
      announce(ArtifactKind::Model, path);
      announce(ArtifactKind::AotChunks, (model_dir / GenRunFiles::aot_chunks).string());
      models.emplace(name, load_edm_model(path));
    }
    report["training"][name] = tr;
  }
  const auto labels = balanced_labels(samples, data.classes, project.conditional);
  stage(StageEvent::What::Started, Stage::Sample, "");
  ProgressClock clock(0, int64_t(nfes.size()));
  for (size_t row_index = 0; row_index < nfes.size(); ++row_index) {
    if (should_stop()) {
      stopped_where_ = fmt::format("stopped before NFE {} (the models are kept and reused)", nfes[row_index]);
      stage(StageEvent::What::Stopped, Stage::Sample, stopped_where_);
      return;
    }
    const int64_t nfe = nfes[row_index];
    diffusion::HeunSpec hs;
    hs.steps = (nfe + 1) / 2;
    hs.rho = project.rho;
    const auto grid = diffusion::heun_grid(hs);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(project.eval_seed);
    auto noise =
        torch::randn({samples, data.train_x.size(1), data.train_x.size(2), data.train_x.size(3)}, gen, torch::kFloat32);
    json row = {{"nfe", nfe}, {"steps", hs.steps}};
    for (auto& [name, model] : models) {
      diffusion::Trajectory path;
      int64_t used = 0;
      const auto t0 = std::chrono::steady_clock::now();
      auto x = diffusion::heun_sample(model, noise * grid[0], grid, labels, 0, &path, &used);
      json sc = score_samples(clf, x, reference);
      sc["curvature"] = metrics::trajectory_curvature(path.t, path.x);
      sc["nfe_counted"] = used;
      sc["seconds"] = seconds_since(t0);
      row[name] = sc;
      if (nfe == nfes.back()) {
        const std::string file = top.claim(GenRunFiles::compare_samples(name));
        io::write_npy(file, x.slice(0, 0, 100));
        announce(ArtifactKind::Samples, file);
      }
    }
    report["rows"].push_back(row);
    clock.tick([this](const Event& e) { publish(e); }, Stage::Sample, int64_t(row_index) + 1, true);
  }
  stage(StageEvent::What::Finished, Stage::Sample, "");
  top.write(GenRunFiles::report, run::json_text(report));
  top.commit();
  report_ = std::move(report);
  announce(ArtifactKind::Report, (dir / GenRunFiles::report).string());
}

}  // namespace otcs::session
