#include "core/session/gen_model.h"

#include <chrono>
#include <filesystem>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "core/io/archive.h"
#include "core/common/error.h"
#include "core/common/timing.h"
#include "core/diffusion/aot.h"
#include "core/diffusion/trainer.h"
#include "core/metrics/distribution.h"
#include "core/run/curve.h"
#include "core/run/json_text.h"
#include "core/run/layout.h"
#include "core/session/gen_jobs.h"
#include "core/session/image_data.h"
#include "core/session/score_model.h"

namespace otcs::session {

using nlohmann::json;
namespace fs = std::filesystem;

GenData load_gen_data(const GenProject& project) {
  GenData d;
  auto train = load_image_set(project.train.images, project.path + ": /data/train");
  auto test = load_image_set(project.test.images, project.path + ": /data/test");
  if (train.size() == 0) fail("{}: /data/train: no images", project.path);
  if (test.size() == 0) fail("{}: /data/test: no images", project.path);
  if (train.images.sizes().slice(1) != test.images.sizes().slice(1))
    fail("{}: /data/test: images of another shape than /data/train", project.path);
  d.train_x = train.as_float();
  d.test_x = test.as_float();
  d.train_y = train.labels;
  d.test_y = test.labels;
  if (d.train_y.numel() == 0 || d.train_y.min().item<int64_t>() < 0 || d.test_y.min().item<int64_t>() < 0)
    fail("{}: every image needs a class label (the classifier and conditional models use them)", project.path);
  d.classes = std::max<int64_t>(10, std::max(d.train_y.max().item<int64_t>(), d.test_y.max().item<int64_t>()) + 1);
  return d;
}

json gen_model_meta(const GenProject& project, const GenTrainSettings& s) {
  return {{"project_model", project.canonical_model},
          {"aot", s.assign},
          {"chunk", s.chunk},
          {"steps", s.steps},
          {"batch", s.batch},
          {"seed", project.seed},
          {"lr", project.lr}};
}

void save_edm_model(const std::string& path, const diffusion::EdmTrainer& trainer, const json& meta) {
  torch::serialize::OutputArchive archive;
  const auto& e = trainer.edm_spec();
  json edm = {{"sigma_data", e.sigma_data}, {"p_mean", e.p_mean}, {"p_std", e.p_std}, {"classes", e.classes}};
  archive.write("format", c10::IValue(std::string("otcs-edm-model")));
  archive.write("network_spec", c10::IValue(network_spec_json(trainer.network_spec())));
  archive.write("edm_spec", c10::IValue(edm.dump()));
  archive.write("meta", c10::IValue(meta.dump()));
  diffusion::save_module(archive, "ema", *trainer.ema_network());
  std::ostringstream bytes;
  archive.save_to(bytes);
  io::write_file_atomic(path, bytes.str());
}

diffusion::EdmModel load_edm_model(const std::string& path, json* meta) {
  if (!fs::is_regular_file(path)) fail("{}: no such model file (train one with otcs gen-train)", path);
  diffusion::EdmModel m;
  try {
    torch::serialize::InputArchive archive;
    io::load_archive_file(path, archive);
    c10::IValue v;
    if (!archive.try_read("format", v) || !v.isString() || v.toStringRef() != "otcs-edm-model")
      fail("{}: not an otcs EDM model (otcs gen-train writes them)", path);
    archive.read("network_spec", v);
    m.network_spec = network_spec_from_json(v.toStringRef());
    archive.read("edm_spec", v);
    auto e = json::parse(v.toStringRef());
    m.edm.sigma_data = e.at("sigma_data");
    m.edm.p_mean = e.at("p_mean");
    m.edm.p_std = e.at("p_std");
    m.edm.classes = e.at("classes");
    archive.read("meta", v);
    if (meta) *meta = json::parse(v.toStringRef());
    m.network = diffusion::with_global_rng_preserved([&] { return diffusion::make_network(m.network_spec); });
    diffusion::load_module(archive, "ema", *m.network);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& ex) {
    fail("{}: not an EDM model archive ({})", path, std::string(ex.what()).substr(0, 200));
  }
  m.network->eval();
  return m;
}

namespace {

constexpr const char* kCheckpointFormat = "otcs-edm-training-checkpoint";

void save_training(const std::string& path, const json& meta, const diffusion::EdmTrainer& trainer,
                   const diffusion::AotProvider& provider, const std::string& loss_csv, const std::string& fd_csv,
                   double step_seconds) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kCheckpointFormat)));
  archive.write("meta", c10::IValue(meta.dump()));
  archive.write("loss_csv", c10::IValue(loss_csv));
  archive.write("fd_csv", c10::IValue(fd_csv));
  archive.write("step_seconds", c10::IValue(step_seconds));
  trainer.save(archive);
  provider.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  io::write_file_atomic(path, bytes.str());
}

// Restores a stopped training; false (nothing restored) when the checkpoint was saved with other settings.
bool resume_training(const std::string& path, const json& meta, diffusion::EdmTrainer& trainer,
                     diffusion::AotProvider& provider, std::string* loss_csv, std::string* fd_csv,
                     double* step_seconds) {
  try {
    torch::serialize::InputArchive archive;
    io::load_archive_file(path, archive);
    c10::IValue v;
    if (!archive.try_read("format", v) || !v.isString() || v.toStringRef() != kCheckpointFormat)
      fail("{}: not a training checkpoint; remove it to train from the first step", path);
    if (!archive.try_read("meta", v) || !v.isString() || v.toStringRef() != meta.dump()) return false;
    if (!archive.try_read("loss_csv", v) || !v.isString()) throw std::runtime_error("missing 'loss_csv'");
    *loss_csv = v.toStringRef();
    if (archive.try_read("fd_csv", v) && v.isString() && !v.toStringRef().empty()) *fd_csv = v.toStringRef();
    if (!archive.try_read("step_seconds", v) || !v.isDouble()) throw std::runtime_error("missing 'step_seconds'");
    *step_seconds = v.toDouble();
    trainer.load(archive);
    provider.load(archive);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    fail("{}: a damaged training checkpoint ({}); remove it to train from the first step", path,
         std::string(e.what()).substr(0, 200));
  }
  return true;
}

}  // namespace

std::optional<json> train_gen_model(const GenProject& project, const GenData& data, const GenTrainSettings& settings,
                                    io::OutputDir& out, const GenTrainHooks& hooks) {
  diffusion::NetworkSpec ns = project.network;
  ns.in_channels = data.train_x.size(1);
  ns.resolution = data.train_x.size(2);
  diffusion::EdmSpec edm;
  edm.sigma_data = project.sigma_data;
  edm.p_mean = project.p_mean;
  edm.p_std = project.p_std;
  edm.classes = project.conditional ? data.classes : 0;
  diffusion::EdmTrainerSpec ts;
  ts.lr = project.lr;
  ts.lr_rampup = project.lr_rampup;
  ts.grad_clip = project.grad_clip;
  ts.ema_halflife = project.ema_halflife;
  ts.seed = project.seed;
  diffusion::EdmTrainer trainer(ns, edm, ts);

  diffusion::AotOptions ao;
  ao.chunk = settings.chunk;
  ao.batch = settings.batch;
  ao.assign = settings.assign;
  ao.seed = project.seed + 1;
  diffusion::AotProvider provider(data.train_x, project.conditional ? data.train_y : torch::Tensor(), ao);

  std::string loss_csv = run::curve_header({run::column::kLoss});
  std::string fd_csv = run::curve_header({"frechet"});
  double window = 0, step_seconds = 0;
  int64_t in_window = 0, first = 1;
  const json meta = gen_model_meta(project, settings);
  if (!hooks.checkpoint.empty() && fs::is_regular_file(hooks.checkpoint)) {
    if (resume_training(hooks.checkpoint, meta, trainer, provider, &loss_csv, &fd_csv, &step_seconds)) {
      first = trainer.steps_done() + 1;
      hooks.log(fmt::format("{}: resuming from step {}", hooks.checkpoint, first));
    } else {
      hooks.log(fmt::format("{}: saved with other settings; training from the first step", hooks.checkpoint));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t step = first; step <= settings.steps; ++step) {
    if (hooks.stop && hooks.stop()) {
      if (!hooks.checkpoint.empty() && step > 1) {
        save_training(hooks.checkpoint, meta, trainer, provider, loss_csv, fd_csv, step_seconds);
        hooks.log(fmt::format("stopped after step {}; {} resumes it", step - 1, hooks.checkpoint));
      }
      return std::nullopt;
    }
    auto batch = provider.next();  // a new chunk (and its assignment) every chunk / batch steps
    const auto ts0 = std::chrono::steady_clock::now();
    const double loss = trainer.step(batch.x, batch.noise, batch.labels);
    step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - ts0).count();
    loss_csv += run::curve_row(step, {loss}, run::wall_time_now(), 6);
    window += loss;
    ++in_window;
    if (hooks.step) hooks.step(step, settings.steps, loss);
    if (step % project.log_every == 0 || step == settings.steps) {
      hooks.log(fmt::format("{} step {}/{}: loss {:.4f} ({:.3f} s/step)", settings.assign ? "aot" : "edm", step,
                            settings.steps, window / double(in_window), step_seconds / double(step)));
      if (hooks.window) hooks.window(step, window / double(in_window));
      window = 0;
      in_window = 0;
    }
    if (settings.fd_every > 0 && hooks.fd && (step % settings.fd_every == 0 || step == settings.steps)) {
      diffusion::EdmModel now{trainer.ema_network(), trainer.network_spec(), trainer.edm_spec()};
      now.network->eval();  // the EMA copy is never trained: its mode only matters here
      const auto tf = std::chrono::steady_clock::now();
      const double fd = hooks.fd(now);
      fd_csv += run::curve_row(step, {fd}, run::wall_time_now(), 6);
      hooks.log(fmt::format("{} step {}: Fréchet distance {:.2f} ({:.1f} s)", settings.assign ? "aot" : "edm", step, fd,
                            seconds_since(tf)));
      if (hooks.fd_point) hooks.fd_point(step, fd);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::string chunks_csv = "chunk,assigned_cost,random_cost,seconds\n";
  double lsa = 0, assigned = 0, random = 0;
  for (const auto& c : provider.stats()) {
    chunks_csv += fmt::format("{},{:.6g},{:.6g},{:.6g}\n", c.chunk, c.assigned_cost, c.random_cost, c.seconds);
    lsa += c.seconds;
    assigned += c.assigned_cost;
    random += c.random_cost;
  }
  const double nchunks = double(std::max<size_t>(1, provider.stats().size()));
  save_edm_model(out.claim(GenRunFiles::model), trainer, meta);
  out.write(GenRunFiles::loss, loss_csv);
  out.write(GenRunFiles::aot_chunks, chunks_csv);
  if (settings.fd_every > 0) out.write(GenRunFiles::fd_curve, fd_csv);
  json report = {{"project", project.path},
                 {"method", settings.assign ? "aot" : "edm"},
                 {"meta", meta},
                 {"parameters", diffusion::parameter_count(*trainer.network())},
                 {"seconds", seconds},
                 {"step_seconds_mean", step_seconds / double(settings.steps)},
                 {"chunks", provider.stats().size()},
                 {"lsa_seconds_mean", lsa / nchunks},
                 {"mean_assigned_cost", assigned / nchunks},
                 {"mean_random_cost", random / nchunks}};
  if (settings.fd_every > 0) {
    // How flat the curve ended: the relative change of FD over the last quarter of the training (from the first
    // probe at or after 3/4 of the steps to the last), read back from fd.csv so a resumed training counts all.
    const auto c = run::parse_curve(fd_csv, GenRunFiles::fd_curve);
    json curve = {{"every", settings.fd_every}, {"samples", project.fd_samples},
                  {"nfe", project.fd_nfe},      {"points", c.rows()},
                  {"final", nullptr},           {"last_quarter_change", nullptr}};
    if (c.rows() > 0) {
      const auto& fd = c.values.at(0);
      curve["final"] = fd.back();
      const double quarter = 0.75 * double(settings.steps);
      for (size_t i = 0; i < c.rows(); ++i)
        if (double(c.steps[i]) >= quarter) {
          if (i + 1 < c.rows() && fd[i] > 0) curve["last_quarter_change"] = std::abs(fd.back() - fd[i]) / fd[i];
          break;
        }
    }
    report["fd_curve"] = curve;
  }
  out.write(GenRunFiles::train_report, run::json_text(report));
  if (!hooks.checkpoint.empty()) {
    std::error_code ec;
    fs::remove(hooks.checkpoint, ec);
  }
  return report;
}

metrics::Classifier gen_classifier(const GenProject& project, const GenData& data, const std::string& path,
                                   double* test_accuracy, const std::function<void(const std::string&)>& log) {
  if (fs::is_regular_file(path)) {
    log(fmt::format("classifier: loading {}", path));
    return metrics::load_classifier(path, test_accuracy);
  }
  metrics::ClassifierConfig cc;
  cc.channels = data.train_x.size(1);
  cc.size = data.train_x.size(2);
  cc.classes = data.classes;
  cc.epochs = int(project.classifier_epochs);
  cc.seed = project.eval_seed;
  torch::manual_seed(cc.seed);
  metrics::Classifier clf(cc);
  log(fmt::format("classifier: training on {} images, {} epochs", data.train_x.size(0), cc.epochs));
  auto rep = metrics::train_classifier(clf, data.train_x, data.train_y, data.test_x, data.test_y);
  metrics::save_classifier(path, clf, rep.test_accuracy);
  log(fmt::format("classifier: test accuracy {:.4f} on {} test images", rep.test_accuracy, data.test_x.size(0)));
  if (test_accuracy) *test_accuracy = rep.test_accuracy;
  return clf;
}

json score_samples(metrics::Classifier& classifier, const torch::Tensor& samples, const torch::Tensor& reference) {
  auto x = samples.clamp(-1, 1);
  auto features = metrics::extract_features(classifier, x);
  auto proba = metrics::predict_proba(classifier, x);
  json mmr = json::object();
  for (double theta : {0.1, 0.2, 0.3, 0.4})
    mmr[fmt::format("{:.1f}", theta)] = metrics::mode_mixture_ratio(proba, theta);
  return {{"frechet", metrics::frechet_distance(features, reference)}, {"mmr", mmr}};
}

std::function<double(const diffusion::EdmModel&)> fd_probe(const GenProject& project, const GenData& data,
                                                           metrics::Classifier& classifier,
                                                           const torch::Tensor& reference_features) {
  diffusion::HeunSpec hs;
  hs.steps = (project.fd_nfe + 1) / 2;
  hs.rho = project.rho;
  const auto grid = diffusion::heun_grid(hs);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(project.eval_seed);
  const auto noise = torch::randn(
      {project.fd_samples, data.train_x.size(1), data.train_x.size(2), data.train_x.size(3)}, gen, torch::kFloat32);
  const auto labels = balanced_labels(project.fd_samples, data.classes, project.conditional);
  return [&classifier, reference_features, grid, noise, labels](const diffusion::EdmModel& model) {
    auto x = diffusion::heun_sample(model, noise * grid[0], grid, labels);
    return score_samples(classifier, x, reference_features).at("frechet").get<double>();
  };
}

torch::Tensor balanced_labels(int64_t n, int64_t classes, bool conditional) {
  if (!conditional) return {};
  return torch::arange(n, torch::kInt64).remainder(classes);
}

}  // namespace otcs::session
