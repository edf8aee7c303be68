#pragma once
// Readers and writers of a run's small artifacts: done markers, metrics, the previews index and the AOT chunk
// table. Every JSON file is written through core/run/json_text.h (strict JSON, atomic). The large arrays have their
// own readers and writers: H in core/ot/sparse.h, potentials in core/ot/potentials.h (found by find_potential),
// trajectories in core/run/trajectories.h, curves in core/run/curve.h, .npy/.npz (samples, translations, cell
// measures) in core/io/npy.h. Free of LibTorch and Qt.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run/layout.h"

namespace otcs::run {

// RUN/<stage>/done.json: {"config_hash": HASH} plus the members of `extra` (an object), the stage's last write.
void write_done_marker(const std::filesystem::path& path, const std::string& config_hash,
                       const nlohmann::json& extra = nlohmann::json::object());
// The configuration hash a done marker carries; nullopt when the marker is missing or unreadable.
std::optional<std::string> read_done_hash(const std::filesystem::path& path);

// The eval stage's metrics, written to RUN/eval/metrics.json and to RUN/metrics.json (the same text).
void write_metrics(const RunLayout& run, const nlohmann::json& metrics);
// RUN/metrics.json; null when the run has none (yet). Throws UserError naming the file when it does not parse.
nlohmann::json read_metrics(const RunLayout& run);
// Any JSON file; UserError naming the file when it is missing or not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

// score/previews/previews.json: {"every", "sources", "sources_from", "sampler", "seed", "previews": [entry...]},
// each entry {"step", "data" (step_N.npz), "file" (step_N.png, when an image was drawn), "seconds", "weights"}.
struct PreviewEntry {
  int64_t step = 0;
  std::filesystem::path image;  // the PNG's full path; empty when none was drawn
  std::filesystem::path data;   // the .npz's full path
  std::string weights;          // "ema" or "online"
};
// The entries of RUN/score/previews/previews.json in the order written; empty when there is none or it does not
// parse (previews are a view, never a reason to fail).
std::vector<PreviewEntry> read_previews(const RunLayout& run);

// A gen-train run's aot_chunks.csv: one row per chunk (the mean paired distance after and before the assignment
// and the assignment's seconds).
struct AotChunk {
  int64_t chunk = 0;
  double assigned_cost = 0, random_cost = 0, seconds = 0;
};
std::string aot_chunks_csv(const std::vector<AotChunk>& chunks);
// Columns by name in any order, others ignored; "seconds" may be absent (0 then, and *has_seconds false).
// Throws UserError naming the file when it is missing or malformed.
std::vector<AotChunk> read_aot_chunks(const std::filesystem::path& path, bool* has_seconds = nullptr);

// A DPM-OT run's cell_measures.npy: the measure of each semi-discrete OT cell (1-D float32 or float64, at least
// one, each finite and >= 0). Throws UserError naming the file when it is missing or is no such array.
std::vector<double> read_cell_measures(const std::filesystem::path& path);

}  // namespace otcs::run
