// The sample and eval stages of image projects. Sample: a grid of translations, `grid` sources per mapped source
// class. Eval: the project's own classifier (trained on the target set, tested on the held-out target split), then
// every held-out test input translated and scored: translated-class accuracy (the class the keypoint pairs imply),
// the confusion matrix of source class against the class read, Fréchet distance and KID on that classifier's
// penultimate features (named as such), and how class-consistent the OT coupling itself is. Paired test sets
// (super-resolution) are scored in stage_paired_eval.cpp.
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/hash.h"
#include "core/data/pack.h"
#include "core/diffusion/sampler.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/metrics/classifier.h"
#include "core/metrics/confusion.h"
#include "core/metrics/distribution.h"
#include "core/metrics/image_metrics.h"
#include "core/ot/sparse.h"
#include "core/run/artifacts.h"
#include "core/run/json_text.h"
#include "core/run/layout.h"
#include "core/session/image_data.h"
#include "core/session/image_stage_util.h"
#include "core/session/score_model.h"
#include "core/session/stages.h"
#include "core/session/translate.h"

namespace fs = std::filesystem;

namespace otcs::session {

TranslateOptions stage_translate_options(StageContext& ctx, Stage stage, const diffusion::SamplerSpec& sampler,
                                         uint64_t seed, ProgressClock& clock, bool& clock_ready) {
  TranslateOptions to;
  to.sampler = sampler;
  to.seed = seed;
  to.batch = 250;
  to.cancelled = [&ctx, &clock] {
    if (ctx.pause.load()) {
      clock.pause_begin();
      ctx.hold();
      clock.pause_end();
    }
    return ctx.stop.load();
  };
  to.progress = [&ctx, &clock, &clock_ready, stage](int64_t done, int64_t total) {
    if (!clock_ready) {
      clock = ProgressClock(0, total);
      clock_ready = true;
    }
    clock.tick(ctx, stage, done, done == total);
  };
  return to;
}

torch::Tensor low_resolution_inputs(StageContext& ctx, const ImageSetSpec& spec, const diffusion::SamplerSpec& sampler,
                                    const std::string& where) {
  if (sampler.consistency <= 1) return {};
  ImageSetSpec low;
  if (!low_resolution_spec(spec, sampler.consistency, &low)) {
    ctx.log(LogEvent::Level::Warning,
            fmt::format("{}: sampler consistency {} but the inputs are not downsampled by {} and upsampled; the "
                        "inputs' own block means stand for the low-resolution images",
                        where, sampler.consistency, sampler.consistency));
    return {};
  }
  return load_image_set(low, where + " (low resolution)").as_float();
}

torch::Tensor as_images(const torch::Tensor& rows, const std::vector<int64_t>& shape) {
  return rows.view({rows.size(0), shape[0], shape[1], shape[2]});
}

torch::Tensor to_uint8(const torch::Tensor& x) {
  return x.add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8).contiguous();
}

namespace {

// The grid's rows taken round-robin over its classes (one source of each class, then a second of each, ...), so
// that `k` recorded sources show as many classes as they can.
std::vector<size_t> spread_over_classes(const std::vector<int64_t>& classes, int64_t k) {
  std::vector<std::vector<size_t>> groups;
  std::map<int64_t, size_t> group_of;
  for (size_t i = 0; i < classes.size(); ++i) {
    auto [it, added] = group_of.try_emplace(classes[i], groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  std::vector<size_t> out;
  for (size_t round = 0; int64_t(out.size()) < k; ++round) {
    bool any = false;
    for (const auto& g : groups)
      if (round < g.size() && int64_t(out.size()) < k) {
        out.push_back(g[round]);
        any = true;
      }
    if (!any) break;
  }
  return out;
}

// Records the reverse process of `trajectory_sources` of the grid's sources (x_t and x̂0 at `trajectory_frames`
// evenly spaced steps, the first and the last included) into sample/trajectories.npz, streaming each frame as it
// is made. A separate short translation of those sources with the grid's sampler and seed: the grid's own
// results stay what they are without recording. Returns the number of sources recorded, -1 when stopped.
int64_t record_image_trajectories(StageContext& ctx, const ScoreModel& model, const std::vector<int64_t>& rows,
                                  const std::vector<int64_t>& classes, const TranslateOptions& grid_options) {
  const auto& sp = ctx.project.sample;
  const auto picked = spread_over_classes(classes, sp.trajectory_sources);
  const fs::path path = ctx.layout().trajectories();
  std::error_code ec;
  fs::remove(path, ec);
  if (picked.empty()) return 0;
  std::vector<int64_t> sources, positions;
  for (size_t i : picked) {
    sources.push_back(rows[i]);
    positions.push_back(int64_t(i));
  }
  const int64_t k = int64_t(sources.size());
  const int64_t dim = ctx.source.size(1);
  diffusion::TrajectoryRecorder recorder({}, sp.trajectory_frames);
  stream_trajectory_frames(ctx, recorder, sources, 1, 1);
  TranslateOptions to = grid_options;
  to.progress = nullptr;
  to.recorder = &recorder;
  to.record = k;
  auto sel = torch::tensor(positions, torch::kInt64);
  if (to.low_res.defined()) to.low_res = to.low_res.index_select(0, sel);
  auto src = ctx.source.index_select(0, torch::tensor(sources, torch::kInt64)).view({k, dim});
  ctx.log(LogEvent::Level::Info,
          fmt::format("sample: recording the reverse process of {} sources ({} frames)", k, sp.trajectory_frames));
  auto y = translate_images(model, src, ctx.image_shape, to);
  if (!y.defined()) return -1;
  save_image_trajectories(path.string(), recorder, sources);
  return k;
}

}  // namespace

StageOutcome run_image_sample_stage(StageContext& ctx) {
  const fs::path dir = ctx.dir(Stage::Sample);
  fs::create_directories(dir);
  auto model = load_score_model(ctx.layout().score_model().string());
  const int64_t per_class = ctx.project.image_eval.grid;
  std::vector<int64_t> rows, classes;
  for (auto [cs, ct] : class_map(ctx.project.keypoint_rule, ctx.keypoints, ctx.source_labels, ctx.target_labels)) {
    auto idx = ctx.source_labels.eq(cs).nonzero().squeeze(1);
    for (int64_t k = 0; k < std::min<int64_t>(per_class, idx.numel()); ++k) {
      rows.push_back(idx[k * idx.numel() / std::min<int64_t>(per_class, idx.numel())].item<int64_t>());
      classes.push_back(ct);
    }
  }
  if (rows.empty() && ctx.source_labels.ge(0).sum().item<int64_t>() == 0) {
    // Unlabelled sources (faces): grid x 10 sources spread evenly over the set.
    const int64_t n = std::min<int64_t>(ctx.source.size(0), per_class * 10);
    for (int64_t k = 0; k < n; ++k) {
      rows.push_back(k * ctx.source.size(0) / n);
      classes.push_back(-1);
    }
  }
  if (rows.empty()) fail("sample: no source sample carries a class of the project's class map");
  auto sel = torch::tensor(rows, torch::kInt64);
  auto src = ctx.source.index_select(0, sel);
  ProgressClock clock(0, 1);
  bool ready = false;
  auto to =
      stage_translate_options(ctx, Stage::Sample, ctx.project.sample.sampler, ctx.project.sample.seed, clock, ready);
  if (ctx.project.source.is_images()) {
    auto low = low_resolution_inputs(ctx, ctx.project.source.images, ctx.project.sample.sampler,
                                     (ctx.project.path.empty() ? "project" : ctx.project.path) + ": /data/source");
    if (low.defined()) to.low_res = low.index_select(0, sel);
  }
  auto y = translate_images(model, src, ctx.image_shape, to);
  if (!y.defined()) return {StageOutcome::Status::Stopped, "sample: stopped"};
  io::write_npz(ctx.layout().sample_translations().string(),
                {{"sources", to_uint8(as_images(src, ctx.image_shape))},
                 {"translations", to_uint8(y)},
                 {"source_index", sel},
                 {"target_class", torch::tensor(classes, torch::kInt64)},
                 {"per_class", torch::tensor({per_class}, torch::kInt64)}});
  const int64_t recorded = record_image_trajectories(ctx, model, rows, classes, to);
  if (recorded < 0) return {StageOutcome::Status::Stopped, "sample: stopped"};
  mark_done(ctx, Stage::Sample, {{"translations", rows.size()}, {"trajectory_sources", recorded}});
  return {StageOutcome::Status::Done, fmt::format("{} translations, {} recorded trajectories", rows.size(), recorded)};
}

StageOutcome run_image_eval_stage(StageContext& ctx) {
  const auto& ie = ctx.project.image_eval;
  const fs::path dir = ctx.dir(Stage::Eval);
  fs::create_directories(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string where = ctx.project.path.empty() ? "project" : ctx.project.path;
  if (!ie.test_source.is_images() || !ie.test_target.is_images())
    fail(
        "{}: /data: image projects need test_source and test_target for the eval stage (or set "
        "/stages/eval/enabled to false)",
        where);
  auto test_src = load_image_set(ie.test_source.images, where + ": /data/test_source");
  auto test_tgt = load_image_set(ie.test_target.images, where + ": /data/test_target");
  if (ie.paired) return run_paired_eval(ctx, test_src, test_tgt, t0);
  const auto map = class_map(ctx.project.keypoint_rule, ctx.keypoints, ctx.source_labels, ctx.target_labels);
  std::map<int64_t, int64_t> to_target;
  for (auto [cs, ct] : map) to_target[cs] = ct;
  // Keep the test inputs whose class is mapped; the intended class of each is its mapped target class.
  std::vector<int64_t> keep, intended;
  auto sl = test_src.labels.contiguous();
  for (int64_t i = 0; i < test_src.size(); ++i) {
    auto it = to_target.find(sl[i].item<int64_t>());
    if (it == to_target.end()) continue;
    keep.push_back(i);
    intended.push_back(it->second);
  }
  if (keep.empty()) fail("{}: /data/test_source: no test input has a class of the project's class map", where);
  test_src = test_src.subset(torch::tensor(keep, torch::kInt64));
  auto intended_t = torch::tensor(intended, torch::kInt64);

  // 1. The project's classifier on the target domain: trained on the target set, tested on the held-out split.
  const auto& shape = ctx.image_shape;
  metrics::ClassifierConfig cc;
  cc.channels = shape[0];
  cc.size = shape[1];
  cc.classes = std::max<int64_t>(10, ctx.target_labels.max().item<int64_t>() + 1);
  cc.epochs = int(ie.classifier_epochs);
  cc.seed = ctx.project.eval.seed;
  // The classifier depends only on the target sets and its own settings: a run re-evaluating a new score model
  // reuses RUN/eval/classifier.pt when classifier.json carries the same key (skips minutes of training).
  auto target_f = ctx.target.to(torch::kFloat32).contiguous();
  auto target_l = ctx.target_labels.to(torch::kInt64).contiguous();
  std::string key = hash_hex(target_f.data_ptr(), size_t(target_f.numel()) * 4);
  key = hash_hex(target_l.data_ptr(), size_t(target_l.numel()) * 8, std::stoull(key, nullptr, 16));
  key = hash_hex(test_tgt.content_hash.data(), test_tgt.content_hash.size(), std::stoull(key, nullptr, 16));
  key += fmt::format("-c{}s{}k{}e{}seed{}", cc.channels, cc.size, cc.classes, cc.epochs, cc.seed);
  const fs::path clf_path = ctx.layout().classifier(), clf_meta = ctx.layout().classifier_meta();
  metrics::TrainReport rep;
  metrics::Classifier clf{nullptr};
  bool reused = false;
  if (!ctx.forced && fs::exists(clf_path) && fs::exists(clf_meta)) {
    try {
      auto meta = nlohmann::json::parse(io::read_file(clf_meta.string()));
      if (meta.at("key").get<std::string>() == key) {
        clf = metrics::load_classifier(clf_path.string(), &rep.test_accuracy);
        rep.train_accuracy = meta.at("train_accuracy");
        rep.seconds = meta.at("seconds");
        reused = true;
      }
    } catch (const std::exception& e) {
      ctx.log(LogEvent::Level::Warning, fmt::format("eval: cached classifier not reused ({})", e.what()));
    }
  }
  if (reused) {
    ctx.log(LogEvent::Level::Info, fmt::format("eval: reusing the target-domain classifier in {}", clf_path.string()));
  } else {
    torch::manual_seed(cc.seed);
    clf = metrics::Classifier(cc);
    ctx.log(LogEvent::Level::Info, fmt::format("eval: training the target-domain classifier ({} images, {} epochs)",
                                               ctx.target.size(0), cc.epochs));
    rep = metrics::train_classifier(clf, as_images(ctx.target, shape), ctx.target_labels, test_tgt.as_float(),
                                    test_tgt.labels, [&](int epoch, double loss) {
                                      ctx.log(LogEvent::Level::Info,
                                              fmt::format("eval: classifier epoch {} loss {:.4f}", epoch, loss));
                                    });
    metrics::save_classifier(clf_path.string(), clf, rep.test_accuracy);
    run::write_json_atomic(clf_meta.string(), {{"key", key},
                                               {"train_accuracy", rep.train_accuracy},
                                               {"test_accuracy", rep.test_accuracy},
                                               {"seconds", rep.seconds}});
  }
  ctx.log(LogEvent::Level::Info, fmt::format("eval: classifier test accuracy {:.4f} on {} held-out target images",
                                             rep.test_accuracy, test_tgt.size()));
  if (ctx.stop.load()) return {StageOutcome::Status::Stopped, "eval: stopped"};

  // 2. Translate every test input.
  auto model = load_score_model(ctx.layout().score_model().string());
  const auto& sampler = ctx.project.eval.has_sampler ? ctx.project.eval.sampler : ctx.project.sample.sampler;
  ProgressClock clock(0, 1);
  bool ready = false;
  auto to = stage_translate_options(ctx, Stage::Eval, sampler, ctx.project.eval.seed, clock, ready);
  if (sampler.consistency > 1) {
    auto low = low_resolution_inputs(ctx, ie.test_source.images, sampler, where + ": /data/test_source");
    if (low.defined()) to.low_res = low.index_select(0, torch::tensor(keep, torch::kInt64));
  }
  const auto ts = std::chrono::steady_clock::now();
  ctx.log(LogEvent::Level::Info, fmt::format("eval: translating {} test inputs ({} sampler, {} steps)", test_src.size(),
                                             diffusion::sampler_kind_name(sampler.kind), sampler.steps));
  int64_t nfe = 0;
  to.nfe = &nfe;
  auto y = translate_images(model, test_src.as_float().flatten(1), shape, to);
  if (!y.defined()) return {StageOutcome::Status::Stopped, "eval: stopped while translating"};
  const double sample_seconds = seconds_since(ts);

  // 3. Scores.
  auto proba = metrics::predict_proba(clf, y);
  auto pred = proba.argmax(1);
  const double acc = pred.eq(intended_t).to(torch::kFloat64).mean().item<double>();
  auto f_gen = metrics::extract_features(clf, y);
  auto f_ref = metrics::extract_features(clf, test_tgt.as_float());
  const double fd = metrics::frechet_distance(f_gen, f_ref);
  const int subset = int(std::min<int64_t>(1000, std::min(f_gen.size(0), f_ref.size(0))));
  auto kid = metrics::kernel_inception_distance(f_gen, f_ref, 10, subset, ctx.project.eval.seed);
  // Reference points for the distances: the held-out target images against the target set (the best a
  // translation could do) and the untranslated sources' own accuracy floor is chance.
  auto f_train = metrics::extract_features(
      clf, as_images(ctx.target, shape).narrow(0, 0, std::min<int64_t>(ctx.target.size(0), 2000)));
  const double fd_floor = metrics::frechet_distance(f_train, f_ref);
  std::vector<double> mmr;
  for (double theta : {0.1, 0.2, 0.3, 0.4}) mmr.push_back(metrics::mode_mixture_ratio(proba, theta));
  // Per intended class accuracy.
  nlohmann::json per_class = nlohmann::json::object();
  for (auto [cs, ct] : map) {
    auto m = intended_t.eq(ct);
    const int64_t n = m.sum().item<int64_t>();
    if (n == 0) continue;
    per_class[std::to_string(cs)] = {
        {"target_class", ct},
        {"inputs", n},
        {"accuracy", pred.masked_select(m).eq(ct).to(torch::kFloat64).mean().item<double>()}};
  }
  // The confusion matrix: a row per mapped source class, a column per class the classifier read (the target
  // classes first); its expected cells hold exactly the inputs counted as accurate above.
  auto as_vector = [](const torch::Tensor& t) {
    auto c = t.to(torch::kInt64).contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  std::vector<int64_t> target_classes;
  for (int64_t c : as_vector(ctx.target_labels))
    if (c >= 0) target_classes.push_back(c);
  const auto confusion = metrics::confusion_matrix({to_target.begin(), to_target.end()}, as_vector(test_src.labels),
                                                   as_vector(pred), target_classes);
  // How class-consistent the coupling is: the share of H's mass on (source, target) pairs whose classes the class
  // map links (labels are used only here, for diagnosis).
  nlohmann::json coupling = nullptr;
  if (ctx.project.score.mode == data::PairMode::Otcs && fs::exists(ctx.layout().h())) {
    auto H = ot::load_sparse(ctx.layout().h().string());
    auto rows = torch::repeat_interleave(torch::arange(H.rows, torch::kInt64), H.indptr.diff());
    auto mapped = torch::full({ctx.source.size(0)}, int64_t(-100), torch::kInt64);
    for (auto [cs, ct] : map) mapped.masked_fill_(ctx.source_labels.eq(cs), ct);
    auto agree = mapped.index_select(0, rows).eq(ctx.target_labels.index_select(0, H.indices));
    const double mass = H.values.to(torch::kFloat64).sum().item<double>();
    const double good = H.values.to(torch::kFloat64).masked_select(agree).sum().item<double>();
    coupling = {{"class_agreement", mass > 0 ? good / mass : 0.0}, {"nnz", H.nnz()}};
    ctx.log(LogEvent::Level::Info,
            fmt::format("eval: the coupling H puts {:.1f}% of its mass on class-consistent pairs",
                        100 * (mass > 0 ? good / mass : 0.0)));
  }

  nlohmann::json m;
  m["translated_class_accuracy"] = acc;
  m["classifier_test_accuracy"] = rep.test_accuracy;
  m["classifier"] = {{"what", "the project's CNN trained on the target set (core/metrics/classifier)"},
                     {"train_images", ctx.target.size(0)},
                     {"test_images", test_tgt.size()},
                     {"train_accuracy", rep.train_accuracy},
                     {"test_accuracy", rep.test_accuracy},
                     {"seconds", rep.seconds},
                     {"reused_from_earlier_eval", reused}};
  m["frechet_distance_classifier_features"] = fd;
  m["frechet_distance_floor"] = fd_floor;
  m["kid_classifier_features"] = {{"mean", kid.mean}, {"std", kid.stddev}, {"subset", subset}};
  m["feature_extractor"] =
      "penultimate layer of the project's target-domain classifier (not Inception: not "
      "comparable to published FID)";
  m["mode_mixture_ratio"] = {{"0.1", mmr[0]}, {"0.2", mmr[1]}, {"0.3", mmr[2]}, {"0.4", mmr[3]}};
  m["per_class"] = per_class;
  m["confusion"] = metrics::to_json(confusion);
  m["coupling"] = coupling;
  m["test_inputs"] = test_src.size();
  m["settings"] = {{"sampler", diffusion::sampler_kind_name(sampler.kind)},
                   {"sampler_steps", sampler.steps},
                   {"sampler_nfe", nfe},
                   {"precision", precision_name(sampler.precision)},
                   {"score_precision", precision_name(ctx.project.score.trainer.precision)},
                   {"guidance", sampler.guidance},
                   {"pair_mode", data::pair_mode_name(ctx.project.score.mode)},
                   {"keypoints", ctx.keypoints.size()}};
  m["seconds"] = {{"sampling", sample_seconds}, {"total", seconds_since(t0)}};
  run::write_metrics(ctx.layout(), m);
  io::write_npz(ctx.layout().eval_translations().string(), {{"sources", to_uint8(test_src.as_float())},
                                                            {"translations", to_uint8(y)},
                                                            {"intended_class", intended_t},
                                                            {"predicted_class", pred.contiguous()}});
  ctx.log(LogEvent::Level::Info,
          fmt::format("eval: translated-class accuracy {:.4f} on {} test inputs (classifier test accuracy {:.4f}); "
                      "Fréchet distance {:.3f} on the classifier's features (held-out floor {:.3f})",
                      acc, test_src.size(), rep.test_accuracy, fd, fd_floor));
  MetricsEvent me;
  me.values = {{"translated_class_accuracy", acc},
               {"classifier_test_accuracy", rep.test_accuracy},
               {"frechet_distance_classifier_features", fd}};
  me.path = ctx.layout().metrics().string();
  ctx.emit(me);
  mark_done(ctx, Stage::Eval, {{"translated_class_accuracy", acc}});
  return {StageOutcome::Status::Done, fmt::format("translated-class accuracy {:.4f}", acc)};
}

}  // namespace otcs::session
