#include "core/session/run_compare.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/artifacts.h"
#include "core/run/layout.h"

namespace fs = std::filesystem;

namespace otcs::session {

namespace {

std::optional<io::NumericTable> read_curve(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return io::read_numeric_csv(path.string());
}

std::optional<RunTranslations> read_translations(const run::RunLayout& run) {
  std::error_code ec;
  for (const fs::path& file : {run.eval_translations(), run.sample_translations()}) {
    if (!fs::is_regular_file(file, ec)) continue;
    const std::string path = file.string();
    auto arrays = io::read_npz(path);
    RunTranslations t;
    t.file = path;
    for (const char* key : {"sources", "translations"}) {
      auto it = arrays.find(key);
      if (it == arrays.end()) fail("{}: no array '{}'", path, key);
      if (it->second.dim() != 4 || it->second.scalar_type() != torch::kUInt8)
        fail("{}: '{}' is not a uint8 [N, C, H, W] array", path, key);
    }
    t.sources = arrays.at("sources");
    t.translations = arrays.at("translations");
    if (t.sources.size(0) != t.translations.size(0))
      fail("{}: {} sources but {} translations", path, t.sources.size(0), t.translations.size(0));
    return t;
  }
  return std::nullopt;
}

void flatten_into(const nlohmann::json& value, const std::string& path, ArrayPolicy arrays,
                  std::map<std::string, nlohmann::json>& out) {
  if (value.is_object() && (!value.empty() || path.empty())) {
    for (const auto& [key, child] : value.items())
      flatten_into(child, path.empty() ? key : path + "." + key, arrays, out);
    return;
  }
  if (value.is_array() && arrays == ArrayPolicy::Drop) return;
  out[path] = value;
}

// A metric's cell: numbers as JSON writes them (shortest round trip), strings as they are.
std::string cell_text(const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

bool is_scalar(const nlohmann::json& v) { return v.is_primitive(); }

}  // namespace

std::vector<std::string> run_names(const std::vector<std::string>& dirs) {
  std::vector<std::vector<std::string>> parts;  // each path's components, last first
  std::map<std::string, std::string> seen;
  for (const auto& dir : dirs) {
    // Named as given (a symbolic link keeps its own name); the same directory twice is found through the real path.
    fs::path p = fs::absolute(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::error_code ec;
    fs::path real = fs::weakly_canonical(p, ec);
    if (ec) real = p;
    if (auto [it, fresh] = seen.emplace(real.string(), dir); !fresh)
      fail("{} and {} are the same run directory; give each run once", it->second, dir);
    std::vector<std::string> comps;
    for (auto q = p; !q.filename().empty(); q = q.parent_path()) comps.push_back(q.filename().string());
    if (comps.empty()) comps.push_back(p.string());
    parts.push_back(std::move(comps));
  }
  std::vector<size_t> depth(dirs.size(), 1);
  auto name = [&](size_t i) {
    std::string out;
    for (size_t k = std::min(depth[i], parts[i].size()); k-- > 0;) out += parts[i][k] + (k ? "/" : "");
    return out;
  };
  for (bool clash = true; clash;) {
    clash = false;
    for (size_t i = 0; i < dirs.size(); ++i)
      for (size_t j = i + 1; j < dirs.size(); ++j)
        if (name(i) == name(j)) {
          // Distinct paths: one of the two has a further component to tell them apart.
          if (depth[i] < parts[i].size()) ++depth[i], clash = true;
          if (depth[j] < parts[j].size()) ++depth[j], clash = true;
        }
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < dirs.size(); ++i) names.push_back(name(i));
  return names;
}

ComparedRun load_compared_run(const std::string& dir, const std::string& name) {
  const run::RunLayout run{fs::path(dir)};
  std::error_code ec;
  if (!fs::is_directory(run.root(), ec)) fail("{}: no such run directory", dir);
  if (!fs::is_regular_file(run.project(), ec))
    fail("{}: not a run directory (no {})", dir, run::RunLayout().project().string());
  ComparedRun r;
  r.name = name;
  r.dir = dir;
  r.project = run::read_json_file(run.project());
  if (!r.project.is_object()) fail("{}: not a JSON object", run.project().string());
  r.metrics = run::read_metrics(run);
  r.dual = read_curve(run.dual_curve());
  r.diagnostics = read_curve(run.ot_diagnostics());
  r.loss = read_curve(run.loss_curve());
  r.translations = read_translations(run);
  return r;
}

std::map<std::string, nlohmann::json> flatten_json(const nlohmann::json& value, ArrayPolicy arrays) {
  std::map<std::string, nlohmann::json> out;
  flatten_into(value, "", arrays, out);
  return out;
}

nlohmann::ordered_json settings_diff(const std::vector<std::string>& names,
                                     const std::vector<nlohmann::json>& projects) {
  std::vector<std::map<std::string, nlohmann::json>> flat;
  std::set<std::string> paths;
  for (const auto& p : projects) {
    flat.push_back(flatten_json(p, ArrayPolicy::Whole));
    for (const auto& [path, value] : flat.back()) paths.insert(path);
  }
  auto value_of = [&](size_t run, const std::string& path) {
    auto it = flat[run].find(path);
    return it == flat[run].end() ? nlohmann::json() : it->second;
  };
  nlohmann::ordered_json out;
  out["runs"] = names;
  out["differences"] = nlohmann::ordered_json::object();
  for (const auto& path : paths) {
    bool differs = false;
    for (size_t i = 1; i < flat.size() && !differs; ++i) differs = value_of(i, path) != value_of(0, path);
    if (!differs) continue;
    auto& entry = out["differences"][path] = nlohmann::ordered_json::object();
    for (size_t i = 0; i < flat.size(); ++i) entry[names[i]] = nlohmann::ordered_json::parse(value_of(i, path).dump());
  }
  return out;
}

std::string metrics_csv(const std::vector<std::string>& names, const std::vector<nlohmann::json>& metrics) {
  std::vector<std::map<std::string, nlohmann::json>> flat;
  std::set<std::string> columns;
  for (const auto& m : metrics) {
    flat.emplace_back();
    for (auto& [path, value] : flatten_json(m, ArrayPolicy::Drop))
      if (is_scalar(value) && !path.empty()) {
        columns.insert(path);
        flat.back()[path] = std::move(value);
      }
  }
  std::string out = "run";
  for (const auto& c : columns) out += "," + io::csv_field(c);
  out += "\n";
  for (size_t i = 0; i < names.size(); ++i) {
    out += io::csv_field(names[i]);
    for (const auto& c : columns) {
      auto it = flat[i].find(c);
      out += "," + (it == flat[i].end() ? std::string() : io::csv_field(cell_text(it->second)));
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> main_metric_names(const std::vector<nlohmann::json>& metrics) {
  static const std::vector<std::string> headline = {"conditional_w2_ratio",
                                                    "conditional_w2_baseline",
                                                    "translated_class_accuracy",
                                                    "classifier_test_accuracy",
                                                    "frechet_distance_classifier_features",
                                                    "mean_of_samples.psnr",
                                                    "mean_of_samples.ssim",
                                                    "input_bicubic.psnr",
                                                    "input_bicubic.ssim"};
  std::vector<std::map<std::string, nlohmann::json>> flat;
  for (const auto& m : metrics) flat.push_back(flatten_json(m, ArrayPolicy::Drop));
  std::vector<std::string> out;
  for (const auto& name : headline)
    if (std::any_of(flat.begin(), flat.end(), [&](const auto& f) { return f.count(name) && f.at(name).is_number(); }))
      out.push_back(name);
  if (!out.empty()) return out;
  std::set<std::string> top;
  for (const auto& m : metrics)
    if (m.is_object())
      for (const auto& [key, value] : m.items())
        if (value.is_number()) top.insert(key);
  return {top.begin(), top.end()};
}

bool same_sources(const std::vector<ComparedRun>& runs, int64_t k) {
  const RunTranslations* first = nullptr;
  for (const auto& r : runs) {
    if (!r.translations) continue;
    if (!first) {
      first = &*r.translations;
      continue;
    }
    const auto& a = first->sources;
    const auto& b = r.translations->sources;
    const int64_t n = std::min<int64_t>(k, a.size(0));
    if (b.size(0) < n || a.sizes().slice(1) != b.sizes().slice(1) ||
        !torch::equal(a.narrow(0, 0, n), b.narrow(0, 0, n)))
      return false;
  }
  return true;
}

std::string summary_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& metrics,
                          const std::vector<std::string>& columns) {
  std::vector<std::vector<std::string>> cells(names.size() + 1);
  cells[0].push_back("run");
  for (const auto& c : columns) cells[0].push_back(c);
  for (size_t i = 0; i < names.size(); ++i) {
    const auto flat = flatten_json(metrics[i], ArrayPolicy::Drop);
    cells[i + 1].push_back(names[i]);
    for (const auto& c : columns) {
      auto it = flat.find(c);
      std::string text = "-";
      if (it != flat.end() && it->second.is_number_float())
        text = fmt::format("{:.4g}", it->second.get<double>());
      else if (it != flat.end() && !it->second.is_null())
        text = cell_text(it->second);
      cells[i + 1].push_back(text);
    }
  }
  std::vector<size_t> width(columns.size() + 1, 0);
  for (const auto& row : cells)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c)
      line += c == 0 ? fmt::format("{:<{}}", row[c], width[c]) : fmt::format("  {:>{}}", row[c], width[c]);
    out += line + "\n";
  }
  return out;
}

}  // namespace otcs::session
