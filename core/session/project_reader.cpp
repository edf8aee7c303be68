#include "core/session/project_reader.h"
#include "core/session/gen_project.h"

#include <filesystem>

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
      {"image_set", {"format", "images",  "labels",   "dir",        "file",        "root",
                     "suites", "size",    "channels", "crop",       "fit_content", "normalise_contrast",
                     "invert", "classes", "limit",    "limit_seed", "downsample",  "upsample",
                     "range",  "parity"}},
      {"mixture_component", {"mean", "std", "weight"}},
      {"keypoint", {"source_index", "target_index", "source", "target"}},
      {"keypoint_rule", {"rule", "file", "class_pairs"}},
      {"stages", {"ot", "bridge", "score", "sample", "eval"}},
      {"ot_stage",
       {"solver", "cost", "epsilon", "tau", "tau_target", "alpha", "relation", "neighbors", "propagation_alpha",
        "propagation_iterations", "adam_steps", "iterations", "batch", "lr", "seed", "potential", "checkpoint_every",
        "precision"}},
      {"potential", {"width", "depth", "activation"}},
      {"bridge_stage", {"threshold", "row_cap", "empty_rows", "apply_mask"}},
      {"score_stage",
       {"mode",
        "schedule",
        "network",
        "prediction",
        "lr",
        "beta1",
        "beta2",
        "weight_decay",
        "grad_clip",
        "ema_decay",
        "antithetic",
        "cond_dropout",
        "seed",
        "steps",
        "batch",
        "checkpoint_every",
        "keep_checkpoints",
        "log_every",
        "init_from",
        "preview_every",
        "preview_sources",
        "preview_steps",
        "precision"}},
      {"schedule", {"kind", "steps", "beta_start", "beta_end", "beta_min", "beta_max", "sigma_max", "t_min"}},
      {"network",
       {"kind", "hidden", "blocks", "embed_dim", "time_embedding", "fourier_scale", "channels", "channel_mult",
        "res_blocks", "attention_resolutions", "dropout", "groups", "cond_encoder"}},
      {"sample_stage",
       {"sampler", "sources", "per_source", "trajectory_frames", "trajectory_paths", "trajectory_sources", "seed",
        "precision"}},
      {"sampler",
       {"kind", "steps", "eta", "variance", "t_end", "clip", "sdedit_t0", "sdedit_refined", "refined_steps", "guidance",
        "consistency"}},
      {"eval_stage",
       {"enabled", "sources", "per_source", "fine_size", "fine_seed", "sampler", "seed", "classifier_epochs", "grid",
        "paired", "average", "batch", "bootstrap", "also"}},
      {"eval_also", {"name", "sampler", "subset", "average"}},
      // Generation projects (otcs gen-train, aot-compare, dpmot; the workbench's Methods tab).
      {"generation",
       {"$schema", "schema_version", "kind", "name", "description", "data", "model", "train", "sample", "eval",
        "dpmot"}},
      {"generation_data", {"train", "test"}},
      {"generation_model", {"network", "conditional", "sigma_data", "p_mean", "p_std"}},
      {"generation_train",
       {"method", "aot", "steps", "batch", "lr", "lr_rampup", "grad_clip", "ema_halflife", "seed", "log_every",
        "fd_every", "fd_samples", "fd_nfe"}},
      {"generation_sample", {"steps", "rho"}},
      {"generation_eval", {"samples", "classifier_epochs", "seed"}},
      {"generation_dpmot", {"latents", "M", "source", "max_iter", "lr", "seed"}},
  };
  return keys;
}

namespace detail {

std::map<std::string, std::set<std::string>>* keys_read = nullptr;

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
  if (r.has("parity")) {
    const std::string parity = r.string("parity", "");
    if (parity == "even")
      s.parity = 2;
    else if (parity == "odd")
      s.parity = 1;
    else
      r.error(r.at("parity"), fmt::format("expected even or odd (by the file's number), got '{}'", parity));
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
    r.error(r.at("consistency"),
            "data consistency works with the ancestral, ddim, dpm-solver++ and dpm-solver++-sde samplers");
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

}  // namespace detail

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

std::map<std::string, std::vector<std::string>> project_keys_unread(const std::vector<std::string>& paths) {
  std::map<std::string, std::set<std::string>> read;
  detail::keys_read = &read;
  struct Reset {
    ~Reset() { detail::keys_read = nullptr; }
  } reset;
  for (const auto& path : paths) {
    const json root = detail::parse_json(io::read_file(path), path);
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
