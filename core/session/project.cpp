#include "core/session/project.h"
#include "core/session/gen_project.h"
#include "core/session/project_keys.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/hash.h"
#include "core/io/file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace otcs::session {

std::string stable_hash(const std::string& text) {
  // Seeded with 1469598103934665603, not FNV's offset basis (a digit short of it): the stage hashes that every
  // existing run's done.json records were made with this seed, and changing it would re-run their stages.
  return hash_hex(text.data(), text.size(), 1469598103934665603ull);
}

const std::map<std::string, std::vector<std::string>>& project_keys() {
  static const std::map<std::string, std::vector<std::string>> keys = {
      // Translation projects (otcs run, the workbench's pipeline).
      {"translation", {"$schema", "schema_version", "name", "description", "data", "stages"}},
      {"translation_data", {"source", "target", "test_source", "test_target", "keypoints"}},
      {"dataset", {"images", "file", "mixture", "n", "seed"}},
      {"image_set", {"format", "images", "labels", "dir", "file", "root", "suites", "size", "channels", "crop",
                     "fit_content", "normalise_contrast", "invert", "classes", "limit", "limit_seed", "downsample",
                     "upsample", "range"}},
      {"mixture_component", {"mean", "std", "weight"}},
      {"keypoint", {"source_index", "target_index", "source", "target"}},
      {"keypoint_rule", {"rule", "file", "class_pairs"}},
      {"stages", {"ot", "bridge", "score", "sample", "eval"}},
      {"ot_stage", {"solver", "cost", "epsilon", "tau", "tau_target", "alpha", "relation", "neighbors",
                    "propagation_alpha", "propagation_iterations", "adam_steps", "iterations", "batch", "lr", "seed",
                    "potential", "checkpoint_every"}},
      {"potential", {"width", "depth", "activation"}},
      {"bridge_stage", {"threshold", "row_cap", "empty_rows", "apply_mask"}},
      {"score_stage", {"mode", "schedule", "network", "prediction", "lr", "beta1", "beta2", "weight_decay",
                       "grad_clip", "ema_decay", "antithetic", "cond_dropout", "seed", "steps", "batch",
                       "checkpoint_every", "keep_checkpoints", "log_every", "init_from", "preview_every",
                       "preview_sources", "preview_steps"}},
      {"schedule", {"kind", "steps", "beta_start", "beta_end", "beta_min", "beta_max", "sigma_max", "t_min"}},
      {"network", {"kind", "hidden", "blocks", "embed_dim", "time_embedding", "fourier_scale", "channels",
                   "channel_mult", "res_blocks", "attention_resolutions", "dropout", "groups", "cond_encoder"}},
      {"sample_stage", {"sampler", "sources", "per_source", "trajectory_frames", "trajectory_paths",
                        "trajectory_sources", "seed"}},
      {"sampler", {"kind", "steps", "eta", "variance", "t_end", "clip", "sdedit_t0", "sdedit_refined",
                   "refined_steps", "guidance", "consistency"}},
      {"eval_stage", {"enabled", "sources", "per_source", "fine_size", "fine_seed", "sampler", "seed",
                      "classifier_epochs", "grid", "paired", "average"}},
      // Generation projects (otcs gen-train, aot-compare, dpmot; the workbench's Methods tab).
      {"generation", {"$schema", "schema_version", "kind", "name", "description", "data", "model", "train", "sample",
                      "eval", "dpmot"}},
      {"generation_data", {"train", "test"}},
      {"generation_model", {"network", "conditional", "sigma_data", "p_mean", "p_std"}},
      {"generation_train", {"method", "aot", "steps", "batch", "lr", "lr_rampup", "grad_clip", "ema_halflife", "seed",
                            "log_every"}},
      {"generation_sample", {"steps", "rho"}},
      {"generation_eval", {"samples", "classifier_epochs", "seed"}},
      {"generation_dpmot", {"latents", "M", "source", "max_iter", "lr", "seed"}},
  };
  return keys;
}

namespace {

// While project_keys_unread() parses, every key a Reader asks for (present in the file or not), per kind.
std::map<std::string, std::set<std::string>>* keys_read = nullptr;

// Reads one JSON object of a kind listed in project_keys(), remembering which keys were used so the rest can be
// reported as unknown.
class Reader {
public:
  Reader(const json& j, std::string pointer, const std::string& file, const std::string& kind)
      : j_(j), ptr_(std::move(pointer)), file_(file), kind_(kind) {
    auto it = project_keys().find(kind_);
    if (it == project_keys().end()) throw std::logic_error("project reader: no key list for object kind " + kind_);
    keys_ = &it->second;
    if (!j_.is_object()) error(ptr_, fmt::format("expected an object, got {}", j_.type_name()));
  }

  [[noreturn]] void error(const std::string& pointer, const std::string& what) const {
    fail("{}: {}: {}", file_, pointer.empty() ? "/" : pointer, what);
  }
  std::string at(const std::string& key) const { return ptr_ + "/" + key; }
  bool has(const std::string& key) const { return j_.contains(key); }

  const json* get(const std::string& key) {
    take(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& require(const std::string& key) {
    const json* v = get(key);
    if (!v) error(at(key), "missing");
    return *v;
  }

  double number_value(const json& v, const std::string& path) const {
    if (!v.is_number()) error(path, fmt::format("expected a number, got {}", v.type_name()));
    return v.get<double>();
  }
  int64_t integer_value(const json& v, const std::string& path) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::floor(d) == d && std::abs(d) < 9e15) return int64_t(d);
      error(path, fmt::format("expected an integer, got {}", d));
    }
    error(path, fmt::format("expected an integer, got {}", v.type_name()));
  }

  double number(const std::string& key, double fallback) {
    const json* v = get(key);
    return v ? number_value(*v, at(key)) : fallback;
  }
  double positive(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v > 0)) error(at(key), fmt::format("must be > 0 (got {})", v));
    return v;
  }
  double non_negative(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v >= 0)) error(at(key), fmt::format("must be >= 0 (got {})", v));
    return v;
  }
  double unit_interval(const std::string& key, double fallback) {
    double v = number(key, fallback);
    if (!(v >= 0 && v <= 1)) error(at(key), fmt::format("must lie in [0, 1] (got {})", v));
    return v;
  }
  int64_t integer(const std::string& key, int64_t fallback) {
    const json* v = get(key);
    return v ? integer_value(*v, at(key)) : fallback;
  }
  int64_t positive_integer(const std::string& key, int64_t fallback) {
    int64_t v = integer(key, fallback);
    if (v < 1) error(at(key), fmt::format("must be a positive integer (got {})", v));
    return v;
  }
  int64_t non_negative_integer(const std::string& key, int64_t fallback) {
    int64_t v = integer(key, fallback);
    if (v < 0) error(at(key), fmt::format("must be >= 0 (got {})", v));
    return v;
  }
  uint64_t seed(const std::string& key, uint64_t fallback) {
    int64_t v = integer(key, int64_t(fallback));
    if (v < 0) error(at(key), fmt::format("a seed must be >= 0 (got {})", v));
    return uint64_t(v);
  }
  bool boolean(const std::string& key, bool fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_boolean()) error(at(key), fmt::format("expected true or false, got {}", v->type_name()));
    return v->get<bool>();
  }
  std::string string(const std::string& key, const std::string& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_string()) error(at(key), fmt::format("expected a string, got {}", v->type_name()));
    return v->get<std::string>();
  }
  // A string parsed by `parse`; its UserError message (the accepted values) gets the JSON path in front.
  template <typename T, typename Parse>
  T choice(const std::string& key, T fallback, Parse parse) {
    if (!has(key)) {
      take(key);
      return fallback;
    }
    std::string s = string(key, "");
    try {
      return parse(s);
    } catch (const UserError& e) {
      error(at(key), e.what());
    }
  }
  std::vector<double> numbers(const std::string& key, const std::vector<double>& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (v->is_number()) return {number_value(*v, at(key))};
    if (!v->is_array()) error(at(key), fmt::format("expected an array of numbers, got {}", v->type_name()));
    std::vector<double> out;
    for (size_t i = 0; i < v->size(); ++i) out.push_back(number_value((*v)[i], at(key) + "/" + std::to_string(i)));
    return out;
  }
  std::vector<int64_t> integers(const std::string& key, const std::vector<int64_t>& fallback) {
    const json* v = get(key);
    if (!v) return fallback;
    if (!v->is_array()) error(at(key), fmt::format("expected an array of integers, got {}", v->type_name()));
    std::vector<int64_t> out;
    for (size_t i = 0; i < v->size(); ++i) out.push_back(integer_value((*v)[i], at(key) + "/" + std::to_string(i)));
    return out;
  }
  // A nested object of the given kind; absent: an empty one (every key takes its default).
  Reader object(const std::string& key, const std::string& kind) {
    static const json empty = json::object();
    const json* v = get(key);
    return Reader(v ? *v : empty, at(key), file_, kind);
  }
  const json* array(const std::string& key) {
    const json* v = get(key);
    if (v && !v->is_array()) error(at(key), fmt::format("expected an array, got {}", v->type_name()));
    return v;
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!used_.count(it.key())) error(at(it.key()), "unknown key");
  }
  const std::string& pointer() const { return ptr_; }
  const std::string& file() const { return file_; }
  const json& raw() const { return j_; }

private:
  // Marks KEY as read; the reader may only read keys that project_keys() lists for this kind of object.
  void take(const std::string& key) {
    if (std::find(keys_->begin(), keys_->end(), key) == keys_->end())
      throw std::logic_error(fmt::format("project reader: key {} of a {} object is missing from project_keys()", key,
                                         kind_));
    used_.insert(key);
    if (keys_read) (*keys_read)[kind_].insert(key);
  }

  const json& j_;
  std::string ptr_;
  const std::string& file_;
  std::string kind_;
  const std::vector<std::string>* keys_ = nullptr;
  std::set<std::string> used_;
};

std::string project_path(Reader& r, const std::string& key, const std::string& base_dir, bool required) {
  std::string f = r.string(key, "");
  if (f.empty()) {
    if (required) r.error(r.at(key), r.has(key) ? "empty path" : "missing");
    return {};
  }
  // Absolute paths are machine-specific, except datasets installed by Debian packages (/usr/share/datasets/...,
  // the same on every machine that has the package).
  if (fs::path(f).is_absolute()) {
    if (f.rfind("/usr/share/", 0) == 0) return fs::path(f).lexically_normal().string();
    r.error(r.at(key), "absolute paths are machine-specific; give the path relative to the project file");
  }
  return (fs::path(base_dir) / f).lexically_normal().string();
}

ImageSetSpec parse_image_set(Reader r, const std::string& base_dir) {
  ImageSetSpec s;
  s.format = r.string("format", "");
  if (s.format == "idx") {
    s.images = project_path(r, "images", base_dir, true);
    s.labels = project_path(r, "labels", base_dir, false);
  } else if (s.format == "folder") {
    s.images = project_path(r, "dir", base_dir, true);
    s.labels = project_path(r, "labels", base_dir, false);
  } else if (s.format == "pack") {
    s.images = project_path(r, "file", base_dir, true);
  } else if (s.format == "chinese_mnist") {
    s.images = project_path(r, "root", base_dir, true);
    auto suites = r.integers("suites", {1, 90});
    if (suites.size() != 2 || suites[0] < 1 || suites[1] < suites[0])
      r.error(r.at("suites"), "expected [first, last] with 1 <= first <= last");
    s.suite_from = int(suites[0]);
    s.suite_to = int(suites[1]);
  } else {
    r.error(r.at("format"), fmt::format("expected idx, chinese_mnist, folder or pack, got '{}'", s.format));
  }
  s.size = r.non_negative_integer("size", 0);
  s.channels = int(r.non_negative_integer("channels", 0));
  if (s.channels != 0 && s.channels != 1 && s.channels != 3) r.error(r.at("channels"), "expected 1 or 3");
  s.crop = int(r.integer("crop", 0));
  if (s.crop < -1) r.error(r.at("crop"), "expected -1 (largest square), 0 (none) or a size");
  s.fit_content = r.boolean("fit_content", false);
  s.normalise_contrast = r.boolean("normalise_contrast", false);
  s.invert = r.boolean("invert", false);
  s.classes = r.integers("classes", {});
  s.limit = r.non_negative_integer("limit", 0);
  s.limit_seed = r.seed("limit_seed", 0);
  s.downsample = int(r.positive_integer("downsample", 1));
  s.upsample = int(r.non_negative_integer("upsample", 0));
  if (r.has("range")) {
    auto range = r.integers("range", {});
    if (range.size() != 2 || range[0] < 1 || range[1] < range[0])
      r.error(r.at("range"), "expected [first, last] with 1 <= first <= last (1-based, in file-name order)");
    s.range_from = range[0];
    s.range_to = range[1];
  }
  r.finish();
  return s;
}

DatasetSpec parse_dataset(Reader r, const std::string& base_dir) {
  DatasetSpec d;
  if (r.has("images")) {
    d.images = parse_image_set(r.object("images", "image_set"), base_dir);
    r.finish();
    return d;
  }
  if (r.has("file")) {
    std::string f = r.string("file", "");
    if (f.empty()) r.error(r.at("file"), "empty path");
    if (fs::path(f).is_absolute())
      r.error(r.at("file"), "absolute paths are machine-specific; give the path relative to the project file");
    d.file = (fs::path(base_dir) / f).lexically_normal().string();
    r.finish();
    return d;
  }
  const json* comps = r.array("mixture");
  if (!comps) r.error(r.at("mixture"), "missing (give \"file\" or \"mixture\")");
  if (comps->empty()) r.error(r.at("mixture"), "needs at least one component");
  size_t dim = 0;
  for (size_t k = 0; k < comps->size(); ++k) {
    Reader c((*comps)[k], r.at("mixture") + "/" + std::to_string(k), r.file(), "mixture_component");
    data::MixtureComponent mc;
    mc.mean = c.numbers("mean", {});
    if (mc.mean.empty()) c.error(c.at("mean"), "missing");
    if (dim == 0) dim = mc.mean.size();
    if (mc.mean.size() != dim)
      c.error(c.at("mean"), fmt::format("has {} coordinates where the first component has {}", mc.mean.size(), dim));
    mc.std = c.numbers("std", {1.0});
    if (mc.std.size() != 1 && mc.std.size() != dim)
      c.error(c.at("std"), fmt::format("expected 1 or {} values, got {}", dim, mc.std.size()));
    for (double s : mc.std)
      if (!(s >= 0)) c.error(c.at("std"), fmt::format("must be >= 0 (got {})", s));
    mc.weight = c.positive("weight", 1.0);
    c.finish();
    d.mixture.push_back(mc);
  }
  d.n = r.positive_integer("n", 0);
  d.seed = r.seed("seed", 0);
  r.finish();
  return d;
}

void parse_network(Reader q, diffusion::NetworkSpec& n) {
  n.kind = q.choice("kind", n.kind, diffusion::parse_network_kind);
  n.hidden = q.positive_integer("hidden", n.hidden);
  n.blocks = q.non_negative_integer("blocks", n.blocks);
  n.embed_dim = q.positive_integer("embed_dim", n.embed_dim);
  n.time_embedding = q.choice("time_embedding", n.time_embedding, diffusion::parse_time_embedding);
  n.fourier_scale = q.positive("fourier_scale", n.fourier_scale);
  n.channels = q.positive_integer("channels", n.channels);
  n.channel_mult = q.integers("channel_mult", n.channel_mult);
  n.res_blocks = q.positive_integer("res_blocks", n.res_blocks);
  n.attention_resolutions = q.integers("attention_resolutions", n.attention_resolutions);
  n.dropout = q.unit_interval("dropout", n.dropout);
  n.groups = q.positive_integer("groups", n.groups);
  n.cond_encoder = q.string("cond_encoder", n.cond_encoder);
  if (n.cond_encoder != "linear" && n.cond_encoder != "conv" && n.cond_encoder != "channels")
    q.error(q.at("cond_encoder"), fmt::format("expected linear, conv or channels, got '{}'", n.cond_encoder));
  q.finish();
}

diffusion::SamplerSpec parse_sampler(Reader r) {
  diffusion::SamplerSpec s;
  s.kind = r.choice("kind", s.kind, diffusion::parse_sampler_kind);
  s.steps = r.non_negative_integer("steps", 0);
  s.eta = r.non_negative("eta", 0.0);
  const std::string variance = r.string("variance", "large");
  if (variance != "large" && variance != "small")
    r.error(r.at("variance"), fmt::format("expected large or small, got '{}'", variance));
  s.large_variance = variance == "large";
  s.t_end = r.non_negative("t_end", 0.0);
  s.clip = r.non_negative("clip", 0.0);
  s.sdedit_t0 = r.unit_interval("sdedit_t0", 0.0);
  s.sdedit_refined = r.boolean("sdedit_refined", false);
  s.refined_steps = r.positive_integer("refined_steps", 1000);
  s.guidance = r.non_negative("guidance", 1.0);
  s.consistency = r.non_negative_integer("consistency", 0);
  if (s.consistency > 1 && !diffusion::sampler_supports_consistency(s.kind))
    r.error(r.at("consistency"), "data consistency works with the ancestral, ddim and dpm-solver++ samplers");
  r.finish();
  return s;
}

json parse_json(const std::string& text, const std::string& name) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    fail("{}: invalid JSON at line {}, column {}: {}", name, line, col, what);
  } catch (const json::exception& e) {  // e.g. out_of_range for a number such as 1e999 (found by fuzz_project)
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    fail("{}: invalid JSON: {}", name, what);
  }
  return root;
}

// Both project kinds carry the same schema version, and may name their JSON Schema under "$schema" (for editors;
// otcs ignores it).
int read_schema_version(Reader& r) {
  r.string("$schema", "");
  const json& version = r.require("schema_version");
  const int64_t v = r.integer_value(version, "/schema_version");
  if (v > kProjectSchemaVersion)
    r.error("/schema_version",
            fmt::format("version {} is not supported (this otcs reads version {}); the file was written for a newer "
                        "otcs, so run it with that one",
                        v, kProjectSchemaVersion));
  if (v != kProjectSchemaVersion)
    r.error("/schema_version",
            fmt::format("version {} is not supported (this otcs reads version {}); to migrate, set "
                        "\"schema_version\": {} and fix what otcs then reports key by key, following docs/PROJECT.md "
                        "(every key of version {})",
                        v, kProjectSchemaVersion, kProjectSchemaVersion, kProjectSchemaVersion));
  return int(v);
}

// Reads PATH and parses it with relative paths resolved against its folder; records where it came from.
template <class P, class Parse>
P load_from_file(const std::string& path, Parse parse) {
  const std::string text = io::read_file(path);
  const fs::path abs = fs::absolute(path);
  const std::string base = project_base_dir(path);
  P p = parse(text, path, base);
  p.path = abs.string();
  p.dir = base;
  return p;
}

}  // namespace

std::string project_base_dir(const std::string& project_path) {
  const fs::path abs = fs::absolute(project_path);
  std::error_code ec;
  const fs::path recorded = abs.parent_path() / "project.base";
  if (abs.filename() == "project.json" && fs::is_regular_file(recorded, ec)) {
    std::string dir = io::read_file(recorded.string());
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    if (!dir.empty() && fs::is_directory(dir, ec)) return dir;
  }
  return abs.parent_path().string();
}

void record_project_base_dir(const std::string& run_dir, const std::string& base_dir) {
  if (base_dir.empty()) return;
  io::write_file_atomic((fs::path(run_dir) / "project.base").string(), fs::absolute(base_dir).string() + "\n");
}

Project parse_project(const std::string& text, const std::string& name, const std::string& base_dir) {
  json root = parse_json(text, name);
  if (root.is_object() && root.contains("kind") && root["kind"] == "generation")
    fail("{}: a generation project (\"kind\": \"generation\"): run it with otcs gen-train, otcs aot-compare or "
         "otcs dpmot, not as a translation pipeline", name);
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
    o.solver = s.string("solver", o.solver);
    if (o.solver != "exact" && o.solver != "tabular" && o.solver != "mlp" && o.solver != "dense")
      s.error(s.at("solver"), fmt::format("expected exact, dense, tabular or mlp, got '{}'", o.solver));
    o.cost = s.string("cost", o.cost);
    if (o.cost != "l2" && o.cost != "l1" && o.cost != "cosine" && o.cost != "sqeuclidean")
      s.error(s.at("cost"), fmt::format("expected l2, l1, cosine or sqeuclidean, got '{}'", o.cost));
    o.epsilon = s.positive("epsilon", o.epsilon);
    o.tau = s.positive("tau", o.tau);
    o.tau_target = s.non_negative("tau_target", 0.0);
    o.alpha = s.unit_interval("alpha", o.alpha);
    o.relation = s.string("relation", o.relation);
    if (o.relation != "softmax" && o.relation != "propagation")
      s.error(s.at("relation"), fmt::format("expected softmax or propagation, got '{}'", o.relation));
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
    o.activation = pot.string("activation", o.activation);
    pot.finish();
    o.checkpoint_every = s.positive_integer("checkpoint_every", o.checkpoint_every);
    s.finish();
    p.canonical["ot"] = s.raw().dump();
  }
  {
    Reader s = stages.object("bridge", "bridge_stage");
    auto& b = p.bridge;
    b.threshold = s.non_negative("threshold", b.threshold);
    b.row_cap = s.non_negative_integer("row_cap", 0);
    b.empty_rows = s.string("empty_rows", b.empty_rows);
    if (b.empty_rows != "keep_empty" && b.empty_rows != "next_source" && b.empty_rows != "nearest")
      s.error(s.at("empty_rows"), fmt::format("expected keep_empty, next_source or nearest, got '{}'", b.empty_rows));
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
    s.finish();
    p.canonical["score"] = s.raw().dump();
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
    s.finish();
    p.canonical["sample"] = s.raw().dump();
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
    }
    e.seed = s.seed("seed", 0);
    p.image_eval.classifier_epochs = s.positive_integer("classifier_epochs", p.image_eval.classifier_epochs);
    p.image_eval.grid = s.positive_integer("grid", p.image_eval.grid);
    p.image_eval.paired = s.boolean("paired", false);
    p.image_eval.average = s.positive_integer("average", 1);
    s.finish();
    p.canonical["eval"] = s.raw().dump();
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

}  // namespace otcs::session

namespace otcs::session {

GenProject parse_gen_project(const std::string& text, const std::string& name, const std::string& base_dir) {
  json root = parse_json(text, name);
  GenProject p;
  p.text = text;
  Reader r(root, "", name, "generation");
  read_schema_version(r);
  if (r.string("kind", "") != "generation")
    r.error("/kind", "expected \"generation\" (a generation project; translation projects are for otcs run)");
  p.name = r.string("name", fs::path(name).stem().string());
  p.description = r.string("description", "");
  {
    Reader d = r.object("data", "generation_data");
    if (!d.has("train")) d.error(d.at("train"), "missing");
    if (!d.has("test")) d.error(d.at("test"), "missing");
    p.train = parse_dataset(d.object("train", "dataset"), base_dir);
    p.test = parse_dataset(d.object("test", "dataset"), base_dir);
    if (!p.train.is_images()) d.error(d.at("train"), "expected an image dataset ({\"images\": {...}})");
    if (!p.test.is_images()) d.error(d.at("test"), "expected an image dataset ({\"images\": {...}})");
    d.finish();
  }
  {
    Reader m = r.object("model", "generation_model");
    p.network.kind = diffusion::NetworkKind::UNet;
    parse_network(m.object("network", "network"), p.network);
    if (p.network.kind != diffusion::NetworkKind::UNet) m.error(m.at("network") + "/kind", "expected unet");
    p.conditional = m.boolean("conditional", false);
    p.sigma_data = m.positive("sigma_data", p.sigma_data);
    p.p_mean = m.number("p_mean", p.p_mean);
    p.p_std = m.positive("p_std", p.p_std);
    m.finish();
  }
  {
    Reader t = r.object("train", "generation_train");
    p.method = t.string("method", p.method);
    if (p.method != "edm" && p.method != "aot")
      t.error(t.at("method"), fmt::format("expected edm or aot, got '{}'", p.method));
    p.aot = t.positive_integer("aot", p.aot);
    p.steps = t.positive_integer("steps", p.steps);
    p.batch = t.positive_integer("batch", p.batch);
    p.lr = t.positive("lr", p.lr);
    p.lr_rampup = t.non_negative_integer("lr_rampup", p.lr_rampup);
    p.grad_clip = t.non_negative("grad_clip", p.grad_clip);
    p.ema_halflife = t.positive("ema_halflife", p.ema_halflife);
    p.seed = t.seed("seed", p.seed);
    p.log_every = t.positive_integer("log_every", p.log_every);
    t.finish();
  }
  {
    Reader s = r.object("sample", "generation_sample");
    p.sample_steps = s.positive_integer("steps", p.sample_steps);
    p.rho = s.positive("rho", p.rho);
    s.finish();
  }
  {
    Reader e = r.object("eval", "generation_eval");
    p.eval_samples = e.positive_integer("samples", p.eval_samples);
    p.classifier_epochs = e.positive_integer("classifier_epochs", p.classifier_epochs);
    p.eval_seed = e.seed("seed", p.eval_seed);
    e.finish();
  }
  {
    Reader o = r.object("dpmot", "generation_dpmot");
    p.dpmot_latents = o.positive_integer("latents", p.dpmot_latents);
    p.dpmot_m = o.positive_integer("M", p.dpmot_m);
    p.dpmot_source = o.string("source", p.dpmot_source);
    if (p.dpmot_source != "uniform" && p.dpmot_source != "gaussian")
      o.error(o.at("source"), fmt::format("expected uniform or gaussian, got '{}'", p.dpmot_source));
    p.dpmot_max_iter = o.positive_integer("max_iter", p.dpmot_max_iter);
    if (o.has("lr")) p.dpmot_lr = o.positive("lr", p.dpmot_lr);
    p.dpmot_seed = o.seed("seed", p.dpmot_seed);
    o.finish();
  }
  r.finish();
  p.canonical_model =
      json{{"data", root.value("data", json::object())}, {"model", root.value("model", json::object())}}.dump();
  return p;
}

GenProject load_gen_project(const std::string& path) { return load_from_file<GenProject>(path, parse_gen_project); }

std::map<std::string, std::vector<std::string>> project_keys_unread(const std::vector<std::string>& paths) {
  std::map<std::string, std::set<std::string>> read;
  keys_read = &read;
  struct Reset {
    ~Reset() { keys_read = nullptr; }
  } reset;
  for (const auto& path : paths) {
    const json root = parse_json(io::read_file(path), path);
    if (root.is_object() && root.contains("kind") && root.at("kind") == "generation")
      load_gen_project(path);
    else
      load_project(path);
  }
  std::map<std::string, std::vector<std::string>> unread;
  for (const auto& [kind, keys] : project_keys())
    for (const auto& key : keys)
      if (!read[kind].count(key)) unread[kind].push_back(key);
  return unread;
}

}  // namespace otcs::session
