// otcs gen-train, aot-compare, dpmot: image generation with EDM, AOT's assigned noise pairs, and DPM-OT's
// semi-discrete OT expressway, on a generation project (core/session/gen_project.h).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/timing.h"
#include "core/diffusion/dpmot.h"
#include "core/diffusion/edm.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/metrics/curvature.h"
#include "core/ot/semidiscrete.h"
#include "core/run/json_text.h"
#include "core/session/gen_model.h"

namespace otcs::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void log_line(const std::string& s) { spdlog::info("{}", s); }

// The training settings a command's flags select; checked against the data before anything is written.
session::GenTrainSettings train_settings(const Args& args, const session::GenProject& p, const session::GenData& d,
                                         bool assign) {
  session::GenTrainSettings s;
  s.assign = assign;
  s.chunk = p.aot;
  if (args.has("--aot")) {
    const long long v = args.get_int("--aot", 0);
    if (v < 0) fail("--aot must be >= 0 (got {})", v);
    if (v > 0) s.chunk = v;
  }
  s.steps = args.has("--steps") ? positive_int(args, "--steps", p.steps) : p.steps;
  s.batch = args.has("--batch") ? positive_int(args, "--batch", p.batch) : p.batch;
  if (s.chunk < s.batch || s.chunk % s.batch != 0)
    fail("the AOT chunk ({}) must be a multiple of the batch ({})", s.chunk, s.batch);
  if (s.chunk > d.train_x.size(0))
    fail("the AOT chunk ({}) is larger than the training set ({} images)", s.chunk, d.train_x.size(0));
  return s;
}

std::string fmt_mmr(const json& scores) {
  const auto& m = scores.at("mmr");
  return fmt::format("{:.3f}/{:.3f}/{:.3f}/{:.3f}", m.at("0.1").get<double>(), m.at("0.2").get<double>(),
                     m.at("0.3").get<double>(), m.at("0.4").get<double>());
}

// A model in `dir` trained with `settings`, reused when its meta matches, trained otherwise.
diffusion::EdmModel trained_model(const session::GenProject& p, const session::GenData& d,
                                  const session::GenTrainSettings& s, const std::string& dir, json* train_report) {
  const std::string path = (fs::path(dir) / "model.pt").string();
  const json want = session::gen_model_meta(p, s);
  if (fs::exists(path)) {
    json meta;
    auto model = session::load_edm_model(path, &meta);
    if (meta != want)
      fail("{}: trained with other settings ({}); remove it or choose another --out", path, meta.dump());
    log_line(fmt::format("reusing {}", path));
    std::error_code ec;
    if (fs::is_regular_file(fs::path(dir) / "train.json", ec))
      *train_report = json::parse(io::read_file((fs::path(dir) / "train.json").string()));
    return model;
  }
  io::OutputDir out(dir);
  *train_report = session::train_gen_model(p, d, s, out, log_line);
  out.commit();
  return session::load_edm_model(path);
}

void register_gen_train(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "gen-train";
  cmd.summary = "train an EDM image model on a generation project, with or without AOT's assigned noise";
  cmd.usage = "otcs gen-train PROJECT --out DIR [--aot N] [--steps S] [--batch B]";
  cmd.description =
      "EDM (Karras et al. 2022) preconditioning and loss around the project's UNet, trained on /data/train.\n"
      "--aot N > 0: AOT (Kim et al. 2024): chunks of N images, one fresh N(0,I) noise each, exact assignment on\n"
      "Euclidean distance (per class when the model is conditional), consumed over N/B steps. --aot 0: plain\n"
      "EDM on the same chunks paired by index. Default: the project's train.method. Writes DIR/model.pt,\n"
      "DIR/loss.csv, DIR/aot_chunks.csv (chunk,assigned_cost,random_cost,seconds) and DIR/train.json.";
  cmd.options = {{"--out", "DIR", "run directory (must not hold a model yet)", "", true},
                 {"--aot", "N", "AOT chunk size; 0 for plain EDM", "project"},
                 {"--steps", "S", "training steps", "project"},
                 {"--batch", "B", "batch size", "project"}};
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    auto project = session::load_gen_project(args.positional().at(0));
    const std::string dir = args.get("--out");
    if (fs::exists(fs::path(dir) / "model.pt")) fail("{}: already holds a model.pt; choose another --out", dir);
    auto data = session::load_gen_data(project);
    const bool assign = args.has("--aot") ? args.get_int("--aot", 0) > 0 : project.method == "aot";
    auto settings = train_settings(args, project, data, assign);
    io::OutputDir out(dir);
    auto report = session::train_gen_model(project, data, settings, out, log_line);
    out.commit();
    std::cout << report.dump(2) << "\n";
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
  cmd.usage = "otcs aot-compare PROJECT --out DIR [--nfe 5,9,17,35] [--steps S] [--aot N] [--samples K]";
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
                 {"--samples", "K", "samples per model and NFE", "project eval.samples"}};
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    auto project = session::load_gen_project(args.positional().at(0));
    auto nfes = parse_nfe_list(args.get("--nfe", "5,9,17,35"));
    const int64_t samples = args.has("--samples") ? positive_int(args, "--samples", 1) : project.eval_samples;
    if (args.has("--aot") && args.get_int("--aot", 0) < 1) fail("--aot must be >= 1 for aot-compare");
    auto data = session::load_gen_data(project);
    auto plain = train_settings(args, project, data, false);
    auto aot = train_settings(args, project, data, true);
    const fs::path dir = args.get("--out");
    // Created here rather than by OutputDir: the trained models and the classifier are complete artifacts a
    // later call reuses, and must survive a failure further on.
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail("{}: cannot create directory ({})", dir.string(), ec.message());
    io::OutputDir top(dir.string());

    double accuracy = 0;
    auto clf = session::gen_classifier(project, data, (dir / "classifier.pt").string(), &accuracy, log_line);
    auto reference = metrics::extract_features(clf, data.test_x);
    json report = {{"project", project.path},
                   {"classifier", {{"extractor", "project classifier, penultimate layer (128-d), not Inception"},
                                   {"test_accuracy", accuracy}}},
                   {"samples", samples},
                   {"rho", project.rho}};
    {
      // The floor: real training images scored like samples.
      auto gen = at::make_generator<at::CPUGeneratorImpl>(project.eval_seed);
      auto idx = torch::randperm(data.train_x.size(0), gen, torch::kInt64).slice(0, 0, samples);
      report["train_images_scores"] = session::score_samples(clf, data.train_x.index_select(0, idx), reference);
    }
    std::map<std::string, diffusion::EdmModel> models;
    for (const auto& [name, s] : {std::pair{std::string("edm"), plain}, std::pair{std::string("aot"), aot}}) {
      json tr;
      models.emplace(name, trained_model(project, data, s, (dir / name).string(), &tr));
      report["training"][name] = tr;
    }
    const auto labels = session::balanced_labels(samples, data.classes, project.conditional);
    std::cout << fmt::format("classifier test accuracy {:.4f} (FD on its penultimate features)\n", accuracy);
    std::cout << fmt::format("{:>4} {:>4} | {:>9} {:>9} | {:>9} {:>9} | {:>23} {:>23}\n", "NFE", "N", "FD edm",
                             "FD aot", "curv edm", "curv aot", "MMR edm 0.1/.2/.3/.4", "MMR aot 0.1/.2/.3/.4");
    for (int64_t nfe : nfes) {
      diffusion::HeunSpec hs;
      hs.steps = (nfe + 1) / 2;
      hs.rho = project.rho;
      const auto grid = diffusion::heun_grid(hs);
      auto gen = at::make_generator<at::CPUGeneratorImpl>(project.eval_seed);
      auto noise = torch::randn({samples, data.train_x.size(1), data.train_x.size(2), data.train_x.size(3)}, gen,
                                torch::kFloat32);
      json row = {{"nfe", nfe}, {"steps", hs.steps}};
      std::map<std::string, json> scores;
      for (auto& [name, model] : models) {
        diffusion::Trajectory path;
        int64_t used = 0;
        const auto t0 = std::chrono::steady_clock::now();
        auto x = diffusion::heun_sample(model, noise * grid[0], grid, labels, 0, &path, &used);
        json sc = session::score_samples(clf, x, reference);
        sc["curvature"] = metrics::trajectory_curvature(path.t, path.x);
        sc["nfe_counted"] = used;
        sc["seconds"] = seconds_since(t0);
        scores[name] = sc;
        row[name] = sc;
        if (nfe == nfes.back()) io::write_npy(top.claim(fmt::format("samples_{}.npy", name)), x.slice(0, 0, 100));
      }
      report["rows"].push_back(row);
      std::cout << fmt::format("{:>4} {:>4} | {:>9.3f} {:>9.3f} | {:>9.4f} {:>9.4f} | {:>23} {:>23}\n", nfe, hs.steps,
                               scores["edm"]["frechet"].get<double>(), scores["aot"]["frechet"].get<double>(),
                               scores["edm"]["curvature"].get<double>(), scores["aot"]["curvature"].get<double>(),
                               fmt_mmr(scores["edm"]), fmt_mmr(scores["aot"]));
    }
    top.write("report.json", run::json_text(report));
    top.commit();
    return 0;
  };
  out.push_back(std::move(cmd));
}

void register_dpmot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "dpmot";
  cmd.summary = "DPM-OT sampling on a trained EDM model: semi-discrete OT to data latents, then the last M steps";
  cmd.usage =
      "otcs dpmot --run DIR --M m [--source uniform|gaussian] [--n N] [--latents L] [--max-iter I] --out OUT";
  cmd.description =
      "DIR is a gen-train run (model.pt, train.json). The Heun grid of the project (N steps, rho) is cut where\n"
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
                 {"--lr", "LR", "semi-discrete OT: the released Adam update with this step (heights move about LR "
                                "per step) instead of the step from the latents' geometry", "project dpmot.lr"},
                 {"--classifier", "PATH", "classifier archive (default: DIR/../classifier.pt if present)", ""},
                 {"--out", "OUT", "output directory", "", true}};
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    const fs::path run = args.get("--run");
    const std::string train_json = (run / "train.json").string();
    if (!fs::is_regular_file(train_json)) fail("{}: missing (is {} a gen-train run?)", train_json, run.string());
    json tr;
    try {
      tr = json::parse(io::read_file(train_json));
    } catch (const json::exception&) {
      fail("{}: not valid JSON", train_json);
    }
    if (!tr.contains("project") || !tr["project"].is_string()) fail("{}: no \"project\" entry", train_json);
    auto project = session::load_gen_project(tr["project"].get<std::string>());
    auto model = session::load_edm_model((run / "model.pt").string());
    diffusion::HeunSpec hs;
    hs.steps = project.sample_steps;
    hs.rho = project.rho;
    const int64_t m = args.has("--M") ? positive_int(args, "--M", 1) : project.dpmot_m;
    if (m >= hs.steps) fail("--M {} must be smaller than the project's Heun steps ({})", m, hs.steps);
    const auto split = diffusion::dpmot_split(hs, m);
    const std::string source_name = args.has("--source") ? args.get("--source") : project.dpmot_source;
    const auto source = ot::parse_source_kind(source_name);
    const int64_t n = args.has("--n") ? positive_int(args, "--n", 1) : project.eval_samples;
    const int64_t nl = args.has("--latents") ? positive_int(args, "--latents", 1) : project.dpmot_latents;
    const int max_iter = int(args.has("--max-iter") ? positive_int(args, "--max-iter", 1) : project.dpmot_max_iter);
    auto data = session::load_gen_data(project);
    if (nl > data.train_x.size(0)) fail("--latents {}: the training set has {} images", nl, data.train_x.size(0));
    std::string clf_path = args.get("--classifier");
    if (clf_path.empty() && fs::is_regular_file(run.parent_path() / "classifier.pt"))
      clf_path = (run.parent_path() / "classifier.pt").string();
    if (!clf_path.empty() && !fs::is_regular_file(clf_path)) fail("{}: no such classifier archive", clf_path);
    io::OutputDir out(args.get("--out"));
    if (clf_path.empty()) clf_path = out.claim("classifier.pt");
    double accuracy = 0;
    auto clf = session::gen_classifier(project, data, clf_path, &accuracy, log_line);
    auto reference = metrics::extract_features(clf, data.test_x);

    // 1. Latents from the first L training images at sigma_M (the released code uses the test split; we keep
    //    the test split for the FD reference, so that FD does not reward copying it).
    auto gen = at::make_generator<at::CPUGeneratorImpl>(project.dpmot_seed);
    auto images = data.train_x.slice(0, 0, nl);
    auto latents = diffusion::build_latents(images, split.sigma, gen);
    // 2. Semi-discrete OT.
    ot::SemiDiscreteOptions so;
    so.source = source;
    so.max_iter = max_iter;
    so.lr = args.has("--lr") ? positive_double(args, "--lr", 0.1) : project.dpmot_lr;
    so.seed = project.dpmot_seed + 1;
    log_line(fmt::format("dpmot: sdot on {} latents of dimension {} (sigma_M {:.4f}, grid index {})", nl,
                         latents.size(1), split.sigma, split.start));
    int last = 0;
    int64_t last_samples = 0;
    auto sd = ot::solve_semidiscrete(latents, so, [&](const ot::SemiDiscreteStep& s) {
      if (s.iteration == 1 || s.iteration - last >= 100 || s.samples != last_samples) {
        log_line(ot::describe(s));
        last = s.iteration;
        last_samples = s.samples;
      }
    });
    auto measures = ot::cell_measures(latents, sd.h, source, 100 * nl, gen);
    io::write_npy(out.claim("h.npy"), sd.h);
    io::write_npy(out.claim("cell_measures.npy"), measures);
    // 3. Map fresh source points and refine.
    auto mapped = diffusion::map_source(latents, sd.h, source, n, gen);
    auto shape = data.train_x.sizes().vec();
    shape[0] = n;
    auto cell_labels = project.conditional ? data.train_y.index_select(0, mapped.cells) : torch::Tensor();
    const auto grid = diffusion::heun_grid(hs);
    int64_t nfe = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto x = diffusion::heun_sample(model, mapped.latents.reshape(shape), grid, cell_labels, split.start, nullptr, &nfe);
    const double dpmot_seconds = seconds_since(t0);
    io::write_npy(out.claim("samples.npy"), x.slice(0, 0, std::min<int64_t>(n, 100)));
    // 4. Plain Heun with M steps (the same NFE) from the same kind of start.
    diffusion::HeunSpec hp = hs;
    hp.steps = m;
    const auto plain_grid = diffusion::heun_grid(hp);
    int64_t plain_nfe = 0;
    auto noise = torch::randn(shape, gen, torch::kFloat32) * plain_grid[0];
    t0 = std::chrono::steady_clock::now();
    auto xp = diffusion::heun_sample(model, noise, plain_grid, session::balanced_labels(n, data.classes, project.conditional),
                                     0, nullptr, &plain_nfe);
    const double plain_seconds = seconds_since(t0);

    auto near_latent = diffusion::nearest_distances(x, latents);
    auto own_latent = (x.reshape({n, -1}) - mapped.latents).pow(2).sum(1).sqrt();
    auto near_train = diffusion::nearest_distances(x, data.train_x);
    auto plain_near_train = diffusion::nearest_distances(xp, data.train_x);
    auto test_near_train = diffusion::nearest_distances(data.test_x.slice(0, 0, n), data.train_x);
    auto stats = [](const torch::Tensor& d) {
      return json{{"mean", d.mean().item<double>()}, {"median", d.median().item<double>()},
                  {"min", d.min().item<double>()}};
    };
    auto dpmot_scores = session::score_samples(clf, x, reference);
    auto plain_scores = session::score_samples(clf, xp, reference);
    const double cells_used = double(std::get<0>(torch::_unique(mapped.cells)).size(0));
    json report = {
        {"project", project.path},
        {"run", run.string()},
        {"classifier", {{"extractor", "project classifier, penultimate layer (128-d), not Inception"},
                        {"test_accuracy", accuracy}}},
        {"split", {{"heun_steps", split.steps}, {"M", split.m}, {"start_index", split.start},
                   {"sigma_M", split.sigma}, {"rho", hs.rho}}},
        {"latents", {{"count", nl}, {"from", "first L images of /data/train"}}},
        {"sdot", {{"source", source_name},
                  {"grad_norm", sd.grad_norm}, {"empty_cells", sd.empty_cells}, {"iterations", sd.iterations},
                  {"grad_estimate", sd.grad_estimate}, {"noise", sd.noise}, {"samples", sd.samples},
                  {"converged", sd.converged}, {"seconds", sd.seconds}, {"doublings", sd.doublings},
                  {"step", so.lr > 0 ? json(so.lr) : json("newton")},
                  {"cell_measure_min_times_N", measures.min().item<double>() * double(nl)},
                  {"cell_measure_max_times_N", measures.max().item<double>() * double(nl)}}},
        {"samples", n},
        {"dpmot", {{"nfe", nfe}, {"scores", dpmot_scores}, {"seconds", dpmot_seconds},
                   {"distinct_cells", cells_used},
                   {"distance_to_own_latent", stats(own_latent)},
                   {"nearest_latent_distance", stats(near_latent)},
                   {"nearest_train_distance", stats(near_train)}}},
        {"heun_same_nfe", {{"nfe", plain_nfe}, {"steps", m}, {"scores", plain_scores}, {"seconds", plain_seconds},
                           {"nearest_train_distance", stats(plain_near_train)}}},
        {"test_images_nearest_train_distance", stats(test_near_train)}};
    out.write("report.json", run::json_text(report));
    out.commit();
    std::cout << fmt::format(
        "classifier test accuracy {:.4f}\n"
        "{:<12} {:>4} {:>9} {:>23} {:>14} {:>14}\n"
        "{:<12} {:>4} {:>9.3f} {:>23} {:>14.3f} {:>14.3f}\n"
        "{:<12} {:>4} {:>9.3f} {:>23} {:>14} {:>14.3f}\n",
        accuracy, "sampler", "NFE", "FD", "MMR 0.1/0.2/0.3/0.4", "near latent", "near train", "dpm-ot", nfe,
        dpmot_scores["frechet"].get<double>(), fmt_mmr(dpmot_scores), near_latent.mean().item<double>(),
        near_train.mean().item<double>(), "heun", plain_nfe, plain_scores["frechet"].get<double>(),
        fmt_mmr(plain_scores), "-", plain_near_train.mean().item<double>());
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
