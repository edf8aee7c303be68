// otcs gen-train, aot-compare, dpmot: image generation with EDM, AOT's assigned noise pairs, and DPM-OT's
// semi-discrete OT expressway, on a generation project (core/session/gen_project.h). Each command turns its flags
// into the options of a generation job (core/session/gen_jobs.h), runs it and prints its report.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/session/gen_jobs.h"

namespace otcs::cli {
namespace {

using nlohmann::json;

std::optional<int64_t> optional_positive(const Args& args, const std::string& name) {
  if (!args.has(name)) return std::nullopt;
  return positive_int(args, name, 1);
}

std::optional<int64_t> optional_fd_every(const Args& args) {
  if (!args.has("--fd-every")) return std::nullopt;
  const long long v = args.get_int("--fd-every", 0);
  if (v < 0) fail("--fd-every must be >= 0 (got {})", v);
  return int64_t(v);
}

// Runs a job to its end; a failure ends the command as any other error would (exit 2 for the user's mistakes).
void run_job(session::Job& job) {
  const auto result = job.run();
  if (result.status == session::JobStatus::Completed) return;
  if (result.status == session::JobStatus::Stopped) fail("{}", result.message);
  if (result.user_error) fail("{}", result.message);
  throw std::runtime_error(result.message);
}

std::string fmt_mmr(const json& scores) {
  const auto& m = scores.at("mmr");
  return fmt::format("{:.3f}/{:.3f}/{:.3f}/{:.3f}", m.at("0.1").get<double>(), m.at("0.2").get<double>(),
                     m.at("0.3").get<double>(), m.at("0.4").get<double>());
}

void register_gen_train(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "gen-train";
  cmd.summary = "train an EDM image model on a generation project, with or without AOT's assigned noise";
  cmd.usage = "otcs gen-train PROJECT --out DIR [--aot N] [--steps S] [--batch B] [--fd-every K]";
  cmd.description =
      "EDM (Karras et al. 2022) preconditioning and loss around the project's UNet, trained on /data/train.\n"
      "--aot N > 0: AOT (Kim et al. 2024): chunks of N images, one fresh N(0,I) noise each, exact assignment on\n"
      "Euclidean distance (per class when the model is conditional), consumed over N/B steps. --aot 0: plain\n"
      "EDM on the same chunks paired by index. Default: the project's train.method. Writes DIR/model.pt,\n"
      "DIR/loss.csv, DIR/aot_chunks.csv (chunk,assigned_cost,random_cost,seconds) and DIR/train.json.\n"
      "--fd-every K > 0: every K steps (and at the last) the EMA model draws train.fd_samples images by Heun at\n"
      "train.fd_nfe evaluations from one fixed noise, scored by the project classifier (kept in DIR) as\n"
      "aot-compare scores them: DIR/fd.csv (step,frechet,wall_time), and train.json's fd_curve says how much\n"
      "the FD changed over the last quarter of the training. The probes leave the training as it is.";
  cmd.options = {
      {"--out", "DIR", "run directory (must not hold a model yet)", "", true},
      {"--aot", "N", "AOT chunk size; 0 for plain EDM", "project"},
      {"--steps", "S", "training steps", "project"},
      {"--batch", "B", "batch size", "project"},
      {"--fd-every", "K", "the Fréchet-distance curve's interval in steps (0: off)", "project train.fd_every"}};
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    session::GenTrainOptions o;
    o.project = args.positional().at(0);
    o.out_dir = args.get("--out");
    if (args.has("--aot")) {
      const long long v = args.get_int("--aot", 0);
      if (v < 0) fail("--aot must be >= 0 (got {})", v);
      o.aot = v;
    }
    o.steps = optional_positive(args, "--steps");
    o.batch = optional_positive(args, "--batch");
    o.fd_every = optional_fd_every(args);
    session::GenTrainJob job(o);
    run_job(job);
    std::cout << job.report().dump(2) << "\n";
    return 0;
  };
  out.push_back(std::move(cmd));
}

std::vector<int64_t> parse_nfe_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v % 2 == 0)
      fail("--nfe: '{}' is not an odd positive number (Heun with N steps uses 2N - 1 evaluations)", item);
    out.push_back(v);
  }
  if (out.empty()) fail("--nfe: give at least one value");
  return out;
}

void register_aot_compare(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "aot-compare";
  cmd.summary = "train EDM with and without AOT (same seed and steps) and compare quality and curvature vs NFE";
  cmd.usage = "otcs aot-compare PROJECT --out DIR [--nfe 5,9,17,35] [--steps S] [--aot N] [--samples K] [--fd-every K]";
  cmd.description =
      "Trains (or reuses, when their settings match) DIR/edm and DIR/aot, trains (or loads) the project's\n"
      "classifier DIR/classifier.pt on the training images, then samples K images per model and NFE with the\n"
      "deterministic Heun sampler (N = (NFE + 1) / 2 steps, the project's rho) from the same initial noise and\n"
      "reports the Frechet distance on the classifier's penultimate (128-d) features against the test split,\n"
      "the trajectory curvature (core/metrics/curvature.h) and the mode-mixture ratio at theta 0.1/0.2/0.3/0.4.\n"
      "Writes DIR/report.json and prints a table.";
  cmd.options = {{"--out", "DIR", "output directory", "", true},
                 {"--nfe", "LIST", "comma-separated odd NFEs", "5,9,17,35"},
                 {"--steps", "S", "training steps of each model", "project"},
                 {"--aot", "N", "AOT chunk size", "project"},
                 {"--batch", "B", "batch size", "project"},
                 {"--samples", "K", "samples per model and NFE", "project eval.samples"},
                 {"--fd-every", "K", "both trainings' Fréchet-distance curve interval in steps (0: off)",
                  "project train.fd_every"}};
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    session::AotCompareOptions o;
    o.project = args.positional().at(0);
    o.out_dir = args.get("--out");
    o.nfe = parse_nfe_list(args.get("--nfe", "5,9,17,35"));
    o.samples = optional_positive(args, "--samples");
    if (args.has("--aot")) {
      o.aot = args.get_int("--aot", 0);
      if (*o.aot < 1) fail("--aot must be >= 1 for aot-compare");
    }
    o.steps = optional_positive(args, "--steps");
    o.batch = optional_positive(args, "--batch");
    o.fd_every = optional_fd_every(args);
    session::AotCompareJob job(o);
    run_job(job);
    const json& report = job.report();
    std::cout << fmt::format("classifier test accuracy {:.4f} (FD on its penultimate features)\n",
                             report["classifier"]["test_accuracy"].get<double>());
    std::cout << fmt::format("{:>4} {:>4} | {:>9} {:>9} | {:>9} {:>9} | {:>23} {:>23}\n", "NFE", "N", "FD edm",
                             "FD aot", "curv edm", "curv aot", "MMR edm 0.1/.2/.3/.4", "MMR aot 0.1/.2/.3/.4");
    for (const json& row : report["rows"]) {
      const json &edm = row["edm"], &aot = row["aot"];
      std::cout << fmt::format("{:>4} {:>4} | {:>9.3f} {:>9.3f} | {:>9.4f} {:>9.4f} | {:>23} {:>23}\n",
                               row["nfe"].get<int64_t>(), row["steps"].get<int64_t>(), edm["frechet"].get<double>(),
                               aot["frechet"].get<double>(), edm["curvature"].get<double>(),
                               aot["curvature"].get<double>(), fmt_mmr(edm), fmt_mmr(aot));
    }
    return 0;
  };
  out.push_back(std::move(cmd));
}

void register_dpmot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "dpmot";
  cmd.summary = "DPM-OT sampling on a trained EDM model: semi-discrete OT to data latents, then the last M steps";
  cmd.usage = "otcs dpmot --run DIR --M m [--source uniform|gaussian] [--n N] [--latents L] [--max-iter I] --out OUT";
  cmd.description =
      "DIR is a gen-train run (its model and train.json). The Heun grid of the project (N steps, rho) is cut where\n"
      "its last M steps start (index N - M, sigma_M = t_{N-M}); latents y_i = x_i + sigma_M z from the first L\n"
      "training images; semi-discrete OT (otcs sdot's solver) from the source to {y_i}; each fresh source point\n"
      "goes to its cell's latent, then Heun steps N - M .. N - 1 to sigma = 0 (NFE 2M - 1). Reports NFE, FD and\n"
      "MMR against plain Heun with M steps (the same NFE), and each sample's distance to the nearest stored\n"
      "latent and to the nearest training image. Writes OUT/report.json, OUT/h.npy, OUT/cell_measures.npy\n"
      "(re-estimated with 100 fresh source points per latent; 1/L is the target) and OUT/samples.npy.";
  cmd.options = {{"--run", "DIR", "a gen-train run directory", "", true},
                 {"--M", "m", "Heun steps after the map (1 <= M < N)", "project dpmot.M"},
                 {"--source", "KIND", "uniform (on [0,1]^d, as released) or gaussian", "project dpmot.source"},
                 {"--n", "N", "samples", "project eval.samples"},
                 {"--latents", "L", "target latents (training images)", "project dpmot.latents"},
                 {"--max-iter", "I", "semi-discrete OT iterations at most", "project dpmot.max_iter"},
                 {"--lr", "LR",
                  "semi-discrete OT: the released Adam update with this step (heights move about LR "
                  "per step) instead of the step from the latents' geometry",
                  "project dpmot.lr"},
                 {"--classifier", "PATH", "classifier archive (default: DIR/../classifier.pt if present)", ""},
                 {"--out", "OUT", "output directory", "", true}};
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    session::DpmotOptions o;
    o.run_dir = args.get("--run");
    o.out_dir = args.get("--out");
    o.m = optional_positive(args, "--M");
    if (args.has("--source")) o.source = args.get("--source");
    o.n = optional_positive(args, "--n");
    o.latents = optional_positive(args, "--latents");
    o.max_iter = optional_positive(args, "--max-iter");
    if (args.has("--lr")) o.lr = positive_double(args, "--lr", 0.1);
    o.classifier = args.get("--classifier");
    session::DpmotJob job(o);
    run_job(job);
    const json& r = job.report();
    const json &dp = r["dpmot"], &heun = r["heun_same_nfe"];
    std::cout << fmt::format(
        "classifier test accuracy {:.4f}\n"
        "{:<12} {:>4} {:>9} {:>23} {:>14} {:>14}\n"
        "{:<12} {:>4} {:>9.3f} {:>23} {:>14.3f} {:>14.3f}\n"
        "{:<12} {:>4} {:>9.3f} {:>23} {:>14} {:>14.3f}\n",
        r["classifier"]["test_accuracy"].get<double>(), "sampler", "NFE", "FD", "MMR 0.1/0.2/0.3/0.4", "near latent",
        "near train", "dpm-ot", dp["nfe"].get<int64_t>(), dp["scores"]["frechet"].get<double>(), fmt_mmr(dp["scores"]),
        dp["nearest_latent_distance"]["mean"].get<double>(), dp["nearest_train_distance"]["mean"].get<double>(), "heun",
        heun["nfe"].get<int64_t>(), heun["scores"]["frechet"].get<double>(), fmt_mmr(heun["scores"]), "-",
        heun["nearest_train_distance"]["mean"].get<double>());
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace

void register_gen(std::vector<Command>& out) {
  register_gen_train(out);
  register_aot_compare(out);
  register_dpmot(out);
}

}  // namespace otcs::cli
