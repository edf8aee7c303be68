#include "core/session/project.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/session/project_reader.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace otcs::session {

using namespace detail;

namespace {

// A stage's canonical JSON (what its configuration hash reads) carries "precision" only when it is not fp32:
// "precision": "fp32" and no key hash alike, and as every run from before the key existed, so those are reused.
// The OT stage's precision reaches only the stochastic solvers' networks; the exact and dense solvers ignore it,
// so it stays out of their hash (a bf16 run reuses their coupling).
Precision ot_hashed_precision(const OtStageSpec& o) {
  return o.solver == ot::OtSolver::Tabular || o.solver == ot::OtSolver::Mlp ? o.precision : Precision::Fp32;
}

std::string canonical_with_precision(json stage, Precision precision) {
  if (stage.is_object()) {
    stage.erase("precision");
    if (precision != Precision::Fp32) stage["precision"] = precision_name(precision);
  }
  return stage.dump();
}

}  // namespace

Project parse_project(const std::string& text, const std::string& name, const std::string& base_dir) {
  json root = parse_json(text, name);
  if (root.is_object() && root.contains("kind") && root["kind"] == "generation")
    fail(
        "{}: a generation project (\"kind\": \"generation\"): run it with otcs gen-train, otcs aot-compare or "
        "otcs dpmot, not as a translation pipeline",
        name);
  Project p;
  p.text = text;
  Reader r(root, "", name, "translation");
  p.schema_version = read_schema_version(r);
  p.name = r.string("name", fs::path(name).stem().string());
  p.description = r.string("description", "");

  {
    Reader d = r.object("data", "translation_data");
    if (!d.has("source")) d.error(d.at("source"), "missing");
    if (!d.has("target")) d.error(d.at("target"), "missing");
    p.source = parse_dataset(d.object("source", "dataset"), base_dir);
    p.target = parse_dataset(d.object("target", "dataset"), base_dir);
    if (p.source.is_images() != p.target.is_images())
      d.error(d.at("target"), "source and target must both be image datasets or both be point sets");
    if (d.has("test_source") || d.has("test_target")) {
      if (!p.source.is_images()) d.error(d.at("test_source"), "held-out test sets are for image projects");
      p.image_eval.test_source = parse_dataset(d.object("test_source", "dataset"), base_dir);
      p.image_eval.test_target = parse_dataset(d.object("test_target", "dataset"), base_dir);
      if (!p.image_eval.test_source.is_images()) d.error(d.at("test_source"), "missing (an image dataset)");
      if (!p.image_eval.test_target.is_images()) d.error(d.at("test_target"), "missing (an image dataset)");
    }
    if (d.has("keypoints") && d.raw().at("keypoints").is_object()) {
      Reader kr = d.object("keypoints", "keypoint_rule");
      p.keypoint_rule.rule = kr.string("rule", "");
      p.keypoint_rule.file = project_path(kr, "file", base_dir, false);
      if (!p.keypoint_rule.file.empty() && !p.keypoint_rule.rule.empty())
        kr.error(kr.pointer(), "give either a rule or a pairs file, not both");
      if (p.keypoint_rule.file.empty() && p.keypoint_rule.rule != "class_medoid")
        kr.error(kr.at("rule"), fmt::format("expected class_medoid, got '{}'", p.keypoint_rule.rule));
      if (const json* cp = kr.array("class_pairs")) {
        for (size_t k = 0; k < cp->size(); ++k) {
          const json& e = (*cp)[k];
          if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number_integer())
            kr.error(kr.at("class_pairs") + "/" + std::to_string(k), "expected [source class, target class]");
          p.keypoint_rule.class_pairs.emplace_back(e[0].get<int64_t>(), e[1].get<int64_t>());
        }
      }
      kr.finish();
      if (!p.source.is_images()) kr.error(kr.pointer(), "a keypoint rule needs labelled image datasets");
    } else if (const json* kps = d.array("keypoints")) {
      for (size_t k = 0; k < kps->size(); ++k) {
        Reader kr((*kps)[k], d.at("keypoints") + "/" + std::to_string(k), name, "keypoint");
        KeypointSpec kp;
        if (kr.has("source_index") || kr.has("target_index")) {
          kp.source_index = kr.non_negative_integer("source_index", -1);
          kp.target_index = kr.non_negative_integer("target_index", -1);
          if (!kr.has("source_index") || !kr.has("target_index"))
            kr.error(kr.pointer(), "give both source_index and target_index");
        } else {
          kp.source_point = kr.numbers("source", {});
          kp.target_point = kr.numbers("target", {});
          if (kp.source_point.empty()) kr.error(kr.at("source"), "missing (a point, or use source_index)");
          if (kp.target_point.empty()) kr.error(kr.at("target"), "missing (a point, or use target_index)");
        }
        kr.finish();
        p.keypoints.push_back(kp);
      }
    }
    d.finish();
    p.canonical["data"] = root.value("data", json::object()).dump();
  }

  Reader stages = r.object("stages", "stages");
  {
    Reader s = stages.object("ot", "ot_stage");
    auto& o = p.ot;
    o.solver = s.choice("solver", o.solver, ot::parse_ot_solver);
    o.cost = s.choice("cost", o.cost, ot::parse_cost);
    o.epsilon = s.positive("epsilon", o.epsilon);
    o.tau = s.positive("tau", o.tau);
    o.tau_target = s.non_negative("tau_target", 0.0);
    o.alpha = s.unit_interval("alpha", o.alpha);
    o.relation = s.choice("relation", o.relation, ot::parse_relation);
    o.neighbors = s.positive_integer("neighbors", o.neighbors);
    o.propagation_alpha = s.unit_interval("propagation_alpha", o.propagation_alpha);
    o.propagation_iterations = s.positive_integer("propagation_iterations", o.propagation_iterations);
    o.adam_steps = s.non_negative_integer("adam_steps", o.adam_steps);
    o.iterations = s.positive_integer("iterations", o.iterations);
    o.batch = s.positive_integer("batch", o.batch);
    o.lr = s.positive("lr", o.lr);
    o.seed = s.seed("seed", o.seed);
    Reader pot = s.object("potential", "potential");
    o.width = pot.positive_integer("width", o.width);
    o.depth = pot.non_negative_integer("depth", o.depth);
    o.activation = pot.choice("activation", o.activation, ot::parse_activation);
    pot.finish();
    o.checkpoint_every = s.positive_integer("checkpoint_every", o.checkpoint_every);
    o.precision = s.choice("precision", o.precision, parse_precision);
    s.finish();
    p.canonical["ot"] = canonical_with_precision(s.raw(), ot_hashed_precision(o));
  }
  {
    Reader s = stages.object("bridge", "bridge_stage");
    auto& b = p.bridge;
    b.threshold = s.non_negative("threshold", b.threshold);
    b.row_cap = s.non_negative_integer("row_cap", 0);
    b.empty_rows = s.choice("empty_rows", b.empty_rows, ot::parse_empty_row_policy);
    b.apply_mask = s.boolean("apply_mask", false);
    s.finish();
    p.canonical["bridge"] = s.raw().dump();
  }
  {
    Reader s = stages.object("score", "score_stage");
    auto& sc = p.score;
    sc.mode = s.choice("mode", sc.mode, data::parse_pair_mode);
    {
      Reader q = s.object("schedule", "schedule");
      auto& sp = sc.schedule;
      sp.kind = q.choice("kind", sp.kind, diffusion::parse_schedule_kind);
      sp.steps = q.positive_integer("steps", sp.steps);
      sp.beta_start = q.positive("beta_start", sp.beta_start);
      sp.beta_end = q.positive("beta_end", sp.beta_end);
      sp.beta_min = q.positive("beta_min", sp.beta_min);
      sp.beta_max = q.positive("beta_max", sp.beta_max);
      sp.sigma_max = q.positive("sigma_max", sp.sigma_max);
      sp.t_min = q.positive("t_min", sp.t_min);
      if (!(sp.beta_start <= sp.beta_end && sp.beta_end < 1))
        q.error(q.at("beta_end"), "need beta_start <= beta_end < 1");
      if (!(sp.sigma_max > 1)) q.error(q.at("sigma_max"), fmt::format("must be > 1 (got {})", sp.sigma_max));
      if (!(sp.t_min < 1)) q.error(q.at("t_min"), fmt::format("must be < 1 (got {})", sp.t_min));
      q.finish();
    }
    parse_network(s.object("network", "network"), sc.network);
    auto& t = sc.trainer;
    t.prediction = s.choice("prediction", t.prediction, diffusion::parse_prediction);
    t.lr = s.positive("lr", 1e-3);
    t.beta1 = s.unit_interval("beta1", t.beta1);
    t.beta2 = s.unit_interval("beta2", t.beta2);
    t.weight_decay = s.non_negative("weight_decay", 0.0);
    t.grad_clip = s.non_negative("grad_clip", 1.0);
    t.ema_decay = s.unit_interval("ema_decay", 0.999);
    t.antithetic = s.boolean("antithetic", true);
    t.cond_dropout = s.unit_interval("cond_dropout", 0.0);
    t.seed = s.seed("seed", 0);
    sc.steps = s.positive_integer("steps", sc.steps);
    sc.batch = s.positive_integer("batch", sc.batch);
    sc.checkpoint_every = s.positive_integer("checkpoint_every", sc.checkpoint_every);
    sc.keep_checkpoints = s.positive_integer("keep_checkpoints", sc.keep_checkpoints);
    sc.log_every = s.positive_integer("log_every", sc.log_every);
    if (s.has("init_from")) {
      const std::string from = s.string("init_from", "");
      if (from.empty()) s.error(s.at("init_from"), "expected the path of a run directory or of a score model file");
      // A run is machine-local anyway: absolute paths are accepted here, unlike for datasets.
      sc.init_from = fs::path(from).is_absolute() ? fs::path(from).lexically_normal().string()
                                                  : (fs::path(base_dir) / from).lexically_normal().string();
    }
    sc.preview_every = s.non_negative_integer("preview_every", sc.preview_every);
    sc.preview_sources = s.positive_integer("preview_sources", sc.preview_sources);
    sc.preview_steps = s.positive_integer("preview_steps", sc.preview_steps);
    t.precision = s.choice("precision", t.precision, parse_precision);
    s.finish();
    p.canonical["score"] = canonical_with_precision(s.raw(), t.precision);
  }
  {
    Reader s = stages.object("sample", "sample_stage");
    auto& sm = p.sample;
    sm.sampler = parse_sampler(s.object("sampler", "sampler"));
    if (s.has("sources")) {
      const json& v = *s.get("sources");
      if (v.is_array()) {
        sm.sources = s.integers("sources", {});
        for (size_t i = 0; i < sm.sources.size(); ++i)
          if (sm.sources[i] < 0) s.error(s.at("sources") + "/" + std::to_string(i), "must be >= 0");
      } else {
        sm.source_count = s.positive_integer("sources", sm.source_count);
      }
    }
    sm.per_source = s.positive_integer("per_source", sm.per_source);
    sm.trajectory_frames = s.positive_integer("trajectory_frames", sm.trajectory_frames);
    sm.trajectory_paths = s.positive_integer("trajectory_paths", sm.trajectory_paths);
    sm.trajectory_sources = s.non_negative_integer("trajectory_sources", sm.trajectory_sources);
    sm.seed = s.seed("seed", 0);
    sm.sampler.precision = s.choice("precision", sm.sampler.precision, parse_precision);
    s.finish();
    p.canonical["sample"] = canonical_with_precision(s.raw(), sm.sampler.precision);
  }
  {
    Reader s = stages.object("eval", "eval_stage");
    auto& e = p.eval;
    e.enabled = s.boolean("enabled", true);
    e.sources = s.positive_integer("sources", e.sources);
    e.per_source = s.positive_integer("per_source", e.per_source);
    e.fine_size = s.positive_integer("fine_size", e.fine_size);
    e.fine_seed = s.seed("fine_seed", 0);
    if (s.has("sampler")) {
      e.has_sampler = true;
      e.sampler = parse_sampler(s.object("sampler", "sampler"));
      e.sampler.precision = p.sample.sampler.precision;  // the eval samples as the sample stage does
    }
    e.seed = s.seed("seed", 0);
    p.image_eval.classifier_epochs = s.positive_integer("classifier_epochs", p.image_eval.classifier_epochs);
    p.image_eval.grid = s.positive_integer("grid", p.image_eval.grid);
    p.image_eval.paired = s.boolean("paired", false);
    p.image_eval.average = s.positive_integer("average", 1);
    e.batch = s.positive_integer("batch", e.batch);
    e.bootstrap = s.non_negative_integer("bootstrap", e.bootstrap);
    if (const json* also = s.array("also")) {
      for (size_t k = 0; k < also->size(); ++k) {
        Reader a((*also)[k], s.at("also") + "/" + std::to_string(k), s.file(), "eval_also");
        ExtraEvalSampler x;
        x.name = a.string("name", "");
        const bool valid = !x.name.empty() && std::all_of(x.name.begin(), x.name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        });
        if (!valid) a.error(a.at("name"), "expected a name of a-z, 0-9, '_' and '-'");
        for (const auto& other : e.also)
          if (other.name == x.name) a.error(a.at("name"), fmt::format("'{}' is named twice", x.name));
        if (!a.has("sampler")) a.error(a.at("sampler"), "missing");
        x.sampler = parse_sampler(a.object("sampler", "sampler"));
        x.sampler.precision = p.sample.sampler.precision;
        x.subset = a.non_negative_integer("subset", 0);
        x.average = a.positive_integer("average", 1);
        a.finish();
        e.also.push_back(std::move(x));
      }
    }
    s.finish();
    // The eval samples in the sample stage's precision: a bf16 one enters the eval's hash too.
    p.canonical["eval"] = canonical_with_precision(s.raw(), p.sample.sampler.precision);
  }
  stages.finish();
  r.finish();

  // Cross-field checks that need more than one value.
  if (p.score.network.kind == diffusion::NetworkKind::UNet && !p.images())
    fail("{}: /stages/score/network/kind: the point-cloud pipeline needs the mlp network (unet is for images)", name);
  return p;
}

Project load_project(const std::string& path) { return load_from_file<Project>(path, parse_project); }

void scale_steps(Project& project, double f) {
  if (!(f > 0)) fail("--steps-scale must be > 0 (got {})", f);
  auto scale = [f](int64_t& v) { v = std::max<int64_t>(1, int64_t(std::llround(double(v) * f))); };
  scale(project.ot.iterations);
  scale(project.ot.checkpoint_every);
  scale(project.score.steps);
  scale(project.score.checkpoint_every);
  scale(project.score.log_every);
  // The scale is part of both stages' configurations (their hashes), kept as a key of their canonical JSON.
  for (const char* stage : {"ot", "score"}) {
    json c = json::parse(project.canonical[stage]);
    c["steps_scale"] = f;
    project.canonical[stage] = c.dump();
  }
}

void set_precision(Project& project, Precision precision) {
  project.ot.precision = precision;
  project.score.trainer.precision = precision;
  project.sample.sampler.precision = precision;
  project.eval.sampler.precision = precision;
  for (auto& also : project.eval.also) also.sampler.precision = precision;
  project.canonical["ot"] =
      canonical_with_precision(json::parse(project.canonical["ot"]), ot_hashed_precision(project.ot));
  for (const char* stage : {"score", "sample", "eval"})
    project.canonical[stage] = canonical_with_precision(json::parse(project.canonical[stage]), precision);
}

}  // namespace otcs::session
