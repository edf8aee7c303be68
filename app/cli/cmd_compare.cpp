// otcs compare: two or more run directories side by side: their loss curves overlaid, their metrics in one table,
// the project settings that differ, and (image runs) their translations of the same sources.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/file.h"
#include "core/run/layout.h"
#include "core/session/run_compare.h"
#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/compare_figures.h"
#include "core/imaging/image.h"
#endif

namespace fs = std::filesystem;

namespace otcs::cli {

namespace {

int compare_command(const Args& args) {
  const auto& dirs = args.positional();
  if (dirs.size() < 2) fail("compare: needs two or more run directories (got {})", dirs.size());
  const int64_t k = positive_int(args, "--sources", 10);

  const auto names = session::run_names(dirs);
  std::vector<session::ComparedRun> runs;
  std::vector<nlohmann::json> projects, metrics;
  for (size_t i = 0; i < dirs.size(); ++i) {
    runs.push_back(session::load_compared_run(dirs[i], names[i]));
    projects.push_back(runs.back().project);
    metrics.push_back(runs.back().metrics);
    if (runs.back().metrics.is_null()) spdlog::warn("compare: {} has no metrics.json (yet)", dirs[i]);
  }

  io::OutputDir out(args.get("--out"));
  out.write(run::file::kMetricsTable, session::metrics_csv(names, metrics));
  const auto diff = session::settings_diff(names, projects);
  out.write(run::file::kSettingsDiff, diff.dump(2) + "\n");
  spdlog::info("compare: {} project setting(s) differ", diff["differences"].size());

#ifdef OTCS_HAVE_IMAGING
  if (auto losses = imaging::compare_losses_figure(runs); losses.defined())
    imaging::write_png(out.claim(run::file::kLossesFigure), losses);
  else
    spdlog::warn("compare: none of the runs has a loss curve yet; no losses.png");

  size_t image_runs = 0;
  for (const auto& r : runs) image_runs += r.translations ? 1 : 0;
  std::error_code ec;
  if (image_runs == runs.size()) {
    const bool shared = session::same_sources(runs, k);
    if (!shared)
      spdlog::info("compare: the runs' first {} sources differ; translations.png shows each run's own sources", k);
    imaging::write_png(out.claim(run::file::kTranslationsFigure),
                       imaging::compare_translations_figure(runs, k, shared));
  } else {
    if (image_runs > 0)
      spdlog::warn("compare: only {} of the {} runs have image translations; no translations.png", image_runs,
                   runs.size());
    // A translations.png left by an earlier comparison in DIR would show other runs.
    if (fs::remove(fs::path(out.dir()) / run::file::kTranslationsFigure, ec))
      spdlog::info("compare: removed the earlier translations.png from {}", out.dir());
  }
#else
  spdlog::warn("compare: this build has no image encoding (OTCS_WITH_OPENCV=OFF); no PNG figures");
#endif
  out.commit();

  std::cout << session::summary_table(names, metrics, session::main_metric_names(metrics));
  std::cout << fmt::format("comparison of {} runs written to {}\n", runs.size(), out.dir());
  return 0;
}

}  // namespace

void register_compare(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "compare";
  cmd.summary = "compare two or more runs: loss curves, metrics, differing settings, translations";
  cmd.usage = "otcs compare RUN_A RUN_B [RUN_C ...] --out DIR [--sources K]";
  cmd.description =
      "Reads each run directory (otcs run ... --out RUN) and writes into DIR: losses.png (every loss curve of\n"
      "every run overlaid, one panel per kind), metrics.csv (one row per run, one column per scalar metric),\n"
      "settings_diff.json (every project setting whose value differs, with each run's value) and, for image runs,\n"
      "translations.png (the same held-out sources translated by each run). Runs are named by their folders.";
  cmd.options = {{"--out", "DIR", "output directory", "", true},
                 {"--sources", "K", "sources shown in translations.png (image runs)", "10"}};
  cmd.min_positional = 0;  // fewer than two runs is refused with its own sentence
  cmd.max_positional = 1 << 20;
  cmd.run = compare_command;
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
