#include "core/run/artifacts.h"

#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/csv.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/run/json_text.h"

namespace fs = std::filesystem;

namespace otcs::run {

void write_done_marker(const fs::path& path, const std::string& config_hash, const nlohmann::json& extra) {
  fs::create_directories(path.parent_path());
  nlohmann::json done = {{"config_hash", config_hash}};
  if (extra.is_object()) done.update(extra);
  write_json_atomic(path.string(), done);
}

std::optional<std::string> read_done_hash(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(io::read_file(path.string()));
    if (!j.is_object() || !j.contains("config_hash") || !j["config_hash"].is_string()) return std::nullopt;
    return j["config_hash"].get<std::string>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void write_metrics(const RunLayout& run, const nlohmann::json& metrics) {
  const std::string text = json_text(metrics);
  fs::create_directories(run.eval_dir());
  io::write_file_atomic(run.metrics().string(), text);
  io::write_file_atomic(run.eval_metrics().string(), text);
}

nlohmann::json read_json_file(const fs::path& path) {
  const std::string text = io::read_file(path.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON ({})", path.string(), e.what());
  }
}

nlohmann::json read_metrics(const RunLayout& run) {
  std::error_code ec;
  if (!fs::is_regular_file(run.metrics(), ec)) return nullptr;
  return read_json_file(run.metrics());
}

std::vector<PreviewEntry> read_previews(const RunLayout& run) {
  std::vector<PreviewEntry> out;
  std::error_code ec;
  if (!fs::is_regular_file(run.previews_index(), ec)) return out;
  try {
    const auto index = nlohmann::json::parse(io::read_file(run.previews_index().string()));
    for (const auto& e : index.at("previews")) {
      PreviewEntry p;
      p.step = e.at("step").get<int64_t>();
      if (e.contains("file")) p.image = run.previews_dir() / e["file"].get<std::string>();
      if (e.contains("data")) p.data = run.previews_dir() / e["data"].get<std::string>();
      p.weights = e.value("weights", "");
      out.push_back(std::move(p));
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

std::string aot_chunks_csv(const std::vector<AotChunk>& chunks) {
  std::string out = "chunk,assigned_cost,random_cost,seconds\n";
  for (const auto& c : chunks)
    out += fmt::format("{},{:.6g},{:.6g},{:.6g}\n", c.chunk, c.assigned_cost, c.random_cost, c.seconds);
  return out;
}

std::vector<AotChunk> read_aot_chunks(const fs::path& path, bool* has_seconds) {
  const io::NumericTable t =
      io::read_numeric_csv_columns(path.string(), {"chunk", "assigned_cost", "random_cost", "seconds"});
  auto column = [&](const char* name) -> const std::vector<double>* {
    for (size_t c = 0; c < t.columns.size(); ++c)
      if (t.columns[c] == name) return &t.values[c];
    return nullptr;
  };
  const auto *chunk = column("chunk"), *assigned = column("assigned_cost"), *random = column("random_cost"),
             *seconds = column("seconds");
  if (!chunk || !assigned || !random)
    fail("{}: expected the columns chunk, assigned_cost and random_cost (and seconds) in the header", path.string());
  if (has_seconds) *has_seconds = seconds != nullptr;
  std::vector<AotChunk> out;
  for (size_t r = 0; r < t.rows(); ++r)
    out.push_back({int64_t((*chunk)[r]), (*assigned)[r], (*random)[r], seconds ? (*seconds)[r] : 0.0});
  return out;
}

std::vector<double> read_cell_measures(const fs::path& path) {
  const torch::Tensor t = io::read_npy(path.string());
  if (t.dim() != 1 || (t.scalar_type() != torch::kFloat64 && t.scalar_type() != torch::kFloat32))
    fail("{}: expected a 1-D float64 or float32 array of cell measures", path.string());
  const torch::Tensor d = t.to(torch::kFloat64).contiguous();
  std::vector<double> out(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  if (out.empty()) fail("{}: holds no cell measures", path.string());
  for (double m : out)
    if (!std::isfinite(m) || m < 0) fail("{}: cell measures must be finite and >= 0", path.string());
  return out;
}

}  // namespace otcs::run
