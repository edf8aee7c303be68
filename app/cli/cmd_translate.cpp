// otcs translate: apply a trained image run to new source images (a folder or an idx file), one PNG per input.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/diffusion/sampler.h"
#include "core/io/file.h"
#include "core/run/layout.h"
#include "core/session/image_data.h"
#include "core/session/project.h"
#include "core/session/score_model.h"
#include "core/session/translate.h"
#ifdef OTCS_HAVE_IMAGING
#include "core/imaging/image.h"
#endif

namespace fs = std::filesystem;

namespace otcs::cli {

namespace {

int translate_command(const Args& args) {
#ifndef OTCS_HAVE_IMAGING
  (void)args;
  fail("this build has no image encoding (OTCS_WITH_OPENCV=OFF): otcs translate writes PNG files");
#else
  const fs::path run = args.get("--run");
  const run::RunLayout layout(run);
  const std::string input = args.get("--input");
  std::error_code ec;
  if (!fs::is_regular_file(layout.project(), ec))
    fail("{}: not a run directory (no {})", run.string(), run::RunLayout().project().string());
  if (!fs::is_regular_file(layout.score_model(), ec))
    fail("{}: the run has no trained score model ({}); run its score stage first", run.string(),
         run::RunLayout().score_model().string());
  // The run's copy of the project: only the source preprocessing and the samplers are used (its data paths are not).
  auto project = session::parse_project(io::read_file(layout.project().string()), layout.project().string(),
                                        session::project_base_dir(layout.project().string()));
  if (!project.images()) fail("{}: a point-cloud run; otcs translate applies image runs", run.string());
  auto model = session::load_score_model(layout.score_model().string());
  session::ImageSetSpec spec = project.source.images;
  spec.classes.clear();
  spec.limit = 0;
  spec.range_from = spec.range_to = 0;  // the run's sample range and parity select its training set, not
  spec.parity = 0;                      // these inputs
  std::vector<std::string> out_names;
  if (fs::is_directory(input, ec)) {
    spec.format = "folder";
    spec.images = input;
    spec.labels.clear();
  } else if (fs::is_regular_file(input, ec)) {
    spec.format = "idx";
    spec.images = input;
    spec.labels.clear();
  } else {
    fail("{}: no such file or folder", input);
  }
  auto pack = session::load_image_set(spec, input);
  const int64_t limit = args.has("--limit") ? positive_int(args, "--limit", 1) : pack.size();
  if (limit < pack.size()) pack = pack.subset(torch::arange(limit, torch::kInt64));
  auto sources = pack.as_float().flatten(1);
  const auto& ns = model.network_spec;
  std::vector<int64_t> shape = {ns.in_channels, ns.resolution, ns.resolution};
  if (ns.kind != diffusion::NetworkKind::UNet) fail("{}: otcs translate needs a UNet image model", run.string());

  session::TranslateOptions to;
  to.sampler = project.eval.has_sampler ? project.eval.sampler : project.sample.sampler;
  if (args.has("--sampler")) {
    const auto kind = diffusion::parse_sampler_kind(args.get("--sampler"));
    if (kind != to.sampler.kind) to.sampler.steps = 0;  // the project's steps were chosen for its own sampler
    to.sampler.kind = kind;
  }
  if (args.has("--steps")) to.sampler.steps = positive_int(args, "--steps", 1);
  if (args.has("--precision")) to.sampler.precision = parse_precision(args.get("--precision"));
  require_precision(to.sampler.precision, torch::kCPU,
                    args.has("--precision") ? std::string("--precision bf16")
                                            : layout.project().string() + ": /stages/sample/precision bf16");
  if (args.has("--guidance")) {
    to.sampler.guidance = args.get_double("--guidance", 1.0);
    if (!(to.sampler.guidance >= 0) || !std::isfinite(to.sampler.guidance))
      throw UserError("--guidance: expected a number >= 0");
  }
  to.seed = uint64_t(args.get_int("--seed", 0));
  to.batch = 250;
  if (session::ImageSetSpec low; session::low_resolution_spec(spec, to.sampler.consistency, &low)) {
    // Data consistency with the true low-resolution inputs (the same files without the bicubic upsampling).
    auto low_pack = session::load_image_set(low, input);
    if (limit < low_pack.size()) low_pack = low_pack.subset(torch::arange(limit, torch::kInt64));
    to.low_res = low_pack.as_float();
  }
  int64_t last = -1;
  to.progress = [&](int64_t done, int64_t total) {
    const int64_t pct = 100 * done / std::max<int64_t>(1, total);
    if (pct / 10 != last / 10) spdlog::info("translate: {}%", pct);
    last = pct;
  };
  const int64_t record = args.has("--trajectories") ? positive_int(args, "--trajectories", 1) : 0;
  diffusion::TrajectoryRecorder recorder({}, args.has("--frames") ? positive_int(args, "--frames", 2) : 11);
  if (record > 0) {
    to.recorder = &recorder;
    to.record = std::min<int64_t>({record, pack.size(), to.batch});
  }
  spdlog::info("translate: {} inputs from {} with {} ({} steps)", pack.size(), input,
               diffusion::sampler_kind_name(to.sampler.kind), to.sampler.steps);
  int64_t nfe = 0;
  to.nfe = &nfe;
  auto y = session::translate_images(model, sources, shape, to);
  spdlog::info("translate: {} network evaluations per input", nfe);
  std::string consistency_note;
  if (to.low_res.defined() && to.sampler.consistency > 1) {
    // What a user can check on the PNGs: each f x f block mean of an 8-bit output against the 8-bit low-resolution
    // input (exact in floating point; what is left is the rounding to 8 bits and pixels clamped at 0 or 255).
    namespace F = torch::nn::functional;
    const int64_t f = to.sampler.consistency;
    auto out8 = y.add(1).mul(127.5).round().clamp(0, 255);
    auto means = F::avg_pool2d(out8, F::AvgPool2dFuncOptions(f).stride(f));
    auto low8 = to.low_res.add(1).mul(127.5).round();
    auto dev = (means - low8).abs();
    consistency_note = fmt::format(
        "; their {}x{} block means differ from the low-resolution inputs by {:.3f}/255 per pixel on average (max "
        "{:.3f}/255)",
        f, f, dev.mean().item<double>(), dev.max().item<double>());
    spdlog::info("translate: consistency {}{}", f, consistency_note);
  }

  io::OutputDir out(args.get("--out"));
  for (int64_t i = 0; i < y.size(0); ++i) {
    std::string name = pack.names[size_t(i)];
    if (name.rfind("index:", 0) == 0)
      name = fmt::format("{:05d}.png", std::stoll(name.substr(6)));
    else
      name = fs::path(name).stem().string() + ".png";
    imaging::write_png(out.claim(name), imaging::to_uint8_hwc(y[i]));
  }
  if (to.record > 0) {
    std::vector<int64_t> recorded(static_cast<size_t>(to.record));
    std::iota(recorded.begin(), recorded.end(), int64_t(0));
    session::save_image_trajectories(out.claim(run::file::kTrajectories), recorder, recorded);
  }
  out.commit();
  std::cout << fmt::format(
      "{} translations written to {}{}{}\n", y.size(0), out.dir(),
      to.record > 0 ? fmt::format(" (trajectories of the first {} in trajectories.npz)", to.record) : std::string(),
      consistency_note);
  return 0;
#endif
}

}  // namespace

void register_translate(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "translate";
  cmd.summary = "apply a trained image run to new source images (folder or idx file), one PNG per input";
  cmd.usage =
      "otcs translate --run RUN --input PATH --out DIR [--sampler KIND] [--steps N] [--guidance W] [--seed S] "
      "[--limit N] [--trajectories K]";
  cmd.description =
      "Preprocesses the inputs as the run's project preprocesses its source set, samples the run's conditional\n"
      "score model (its sample stage's sampler, or --sampler) once per input, and writes DIR/<name>.png (folder\n"
      "inputs keep their file names) or DIR/<index>.png (idx inputs, 5 digits). dpm-solver++ (DPM-Solver++ 2M)\n"
      "and dpm-solver++-sde (its stochastic form) need only 10-25 steps; the log reports the network evaluations per "
      "input (guidance counts two).";
  cmd.options = {
      {"--run", "RUN", "a finished image run (otcs run ... --out RUN)", "", true},
      {"--input", "PATH", "a folder of images or an idx image file (gzip or not)", "", true},
      {"--out", "DIR", "output directory", "", true},
      {"--sampler", "KIND", "ancestral, ddim, em, heun, dpm-solver++ or dpm-solver++-sde (default: the project's)"},
      {"--steps", "N",
       "sampler steps (default: the project's; another --sampler's own: dpm-solver++(-sde) 20, "
       "ancestral/ddim T)"},
      {"--guidance", "W", "classifier-free guidance weight (default: the project's; needs cond_dropout)"},
      {"--precision", "P",
       "fp32, bf16 or auto (bf16 where the CPU has it) network evaluations (default: the project's sample stage)"},
      {"--seed", "S", "random seed", "0"},
      {"--limit", "N", "translate only the first N inputs"},
      {"--trajectories", "K",
       "also record the reverse process of the first K inputs (at most 250) into DIR/trajectories.npz"},
      {"--frames", "F", "recorded steps per trajectory, the first and the last included", "11"}};
  cmd.run_dir_option = "--out";
  cmd.run = translate_command;
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
