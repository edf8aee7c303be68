#pragma once
// Comparing runs (`otcs compare`): each run directory read once into plain data (its project, metrics, curves and
// image translations), and the tables built from several of them: the metrics side by side and the project
// settings that differ. Figures are drawn from this data by core/imaging/compare_figures.h.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/io/csv.h"

namespace otcs::session {

// A run's image translations: `sources` and `translations`, uint8 [N, C, H, W], of RUN/eval/translations.npz (the
// held-out inputs) or, without an eval, RUN/sample/translations.npz.
struct RunTranslations {
  std::string file;
  torch::Tensor sources, translations;
};

struct ComparedRun {
  std::string name;  // unique among the compared runs (run_names)
  std::string dir;
  nlohmann::json project;                       // RUN/project.json
  nlohmann::json metrics;                       // RUN/metrics.json; null when the run has none (yet)
  std::optional<io::NumericTable> dual;         // RUN/ot/dual.csv: step, dual objective[, more columns]
  std::optional<io::NumericTable> diagnostics;  // RUN/ot/diagnostics.csv: step, one column per diagnostic
  std::optional<io::NumericTable> loss;         // RUN/score/loss.csv: step, loss
  std::optional<RunTranslations> translations;
};

// Display names for run directories: their base names; where two coincide, as many parent folders as tell them
// apart ("a/run", "b/run"). Throws UserError when one directory is given twice.
std::vector<std::string> run_names(const std::vector<std::string>& dirs);

// Reads what a run directory holds (the files that are absent stay empty). Throws UserError, naming the
// directory, when it is no run directory (no project.json), and for any file that does not parse.
ComparedRun load_compared_run(const std::string& dir, const std::string& name);

// How flatten_json treats arrays: as one value (a setting such as a mixture's mean), or left out (per-source
// lists in metrics.json).
enum class ArrayPolicy { Whole, Drop };

// The leaves of a JSON object under dotted paths ("stages.sample.seed"); an empty object is a leaf of its own.
// A value that is not an object flattens to {"": value}.
std::map<std::string, nlohmann::json> flatten_json(const nlohmann::json& value, ArrayPolicy arrays);

// {"runs": [names...], "differences": {path: {name: value, ...}, ...}}: every flattened path (arrays whole) whose
// value is not the same in all projects; a path some projects lack counts as null there. Keys sorted, runs in
// the order given.
nlohmann::ordered_json settings_diff(const std::vector<std::string>& names,
                                     const std::vector<nlohmann::json>& projects);

// One row per run and one column per scalar metric any run has (nested objects under dotted names, arrays left
// out, columns sorted), header "run,...": numbers as JSON writes them, strings as they are, booleans true/false,
// null and missing metrics empty; cells quoted per RFC 4180 where needed.
std::string metrics_csv(const std::vector<std::string>& names, const std::vector<nlohmann::json>& metrics);

// The headline metrics (those `otcs run` reports) that any of the runs has, in a fixed order; the top-level
// numbers of metrics.json when none of them is there.
std::vector<std::string> main_metric_names(const std::vector<nlohmann::json>& metrics);

// Whether every run shows the same first k sources (same shape and pixels), so that one row of sources heads the
// translations of all of them. Runs without translations are left out.
bool same_sources(const std::vector<ComparedRun>& runs, int64_t k);

// A plain-text table: one line per run, its name and the given metrics (dotted paths; "-" when absent).
std::string summary_table(const std::vector<std::string>& names, const std::vector<nlohmann::json>& metrics,
                          const std::vector<std::string>& columns);

}  // namespace otcs::session
