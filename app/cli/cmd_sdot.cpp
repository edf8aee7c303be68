// otcs sdot: semi-discrete OT heights (DPM-OT's "expressway" from noise to data latents).
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/semidiscrete.h"
#include "core/run/json_text.h"

namespace otcs::cli {

void register_sdot(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "sdot";
  cmd.summary = "semi-discrete OT from uniform/Gaussian noise to target points (DPM-OT Brenier heights)";
  cmd.usage =
      "otcs sdot --target Y.npy --source {uniform,gaussian} [--samples-per-iter K] [--max-iter N] [--lr LR] --out DIR";
  cmd.description =
      "Finds heights h so that every cell {x : <x,y_i> + h_i is maximal} of the source distribution has measure\n"
      "1/N. The step adapts to the targets' geometry (a damped Newton step on the Hessian's diagonal, read off\n"
      "the gaps between the best and second-best scores) and the sample count doubles whenever the gradient is\n"
      "down to its Monte-Carlo noise; --lr instead runs the released Adam update with that step. Converged: the\n"
      "gradient norm, its sampling noise removed (grad_estimate), is below the threshold with a two-sigma margin\n"
      "and no cell is empty. Writes DIR/h.npy (float64 [N]) and DIR/report.json (grad_norm as measured,\n"
      "grad_estimate, noise, samples, empty_cells, iterations, converged, seconds, ...). The same source\n"
      "distribution must be used when the map is applied.";
  cmd.options = {
      {"--target", "Y.npy", "target points [N, d] (float32/float64)", "", true},
      {"--source", "KIND", "uniform (on [0,1]^d, as DPM-OT released) or gaussian", "uniform"},
      {"--samples-per-iter", "K", "Monte-Carlo source samples per iteration at the start", "10*N"},
      {"--max-iter", "N", "iterations at most", "10000"},
      {"--lr", "LR", "run the released Adam update (no bias correction) with this step instead", "automatic"},
      {"--threshold", "G", "stop when ||g|| < G and no cell is empty", "8e-4"},
      {"--seed", "S", "random seed", "0"},
      {"--out", "DIR", "output directory", "", true}};
  cmd.run_dir_option = "--out";
  cmd.run = [](const Args& args) {
    const std::string target_path = args.get("--target");
    auto y = io::read_npy(target_path);
    if (y.dim() != 2 || y.size(0) < 1 || y.size(1) < 1)
      fail("{}: expected a matrix [N, d] of target points", target_path);
    if (!y.is_floating_point()) fail("{}: target points must be float32 or float64", target_path);
    if (!torch::isfinite(y).all().item<bool>()) fail("{}: contains NaN or Inf", target_path);
    ot::SemiDiscreteOptions o;
    o.source = ot::parse_source_kind(args.get("--source", "uniform"));
    o.samples_per_iter = args.has("--samples-per-iter") ? positive_int(args, "--samples-per-iter", 1) : 0;
    o.max_iter = int(positive_int(args, "--max-iter", 10000));
    if (args.has("--lr")) o.lr = positive_double(args, "--lr", 0.1);
    o.grad_threshold = positive_double(args, "--threshold", 8e-4);
    o.seed = uint64_t(args.get_int("--seed", 0));
    io::OutputDir out(args.get("--out"));
    int last_logged = 0;
    int64_t last_samples = 0;
    auto result = ot::solve_semidiscrete(y, o, [&](const ot::SemiDiscreteStep& s) {
      if (s.iteration == 1 || s.iteration - last_logged >= 100 || s.samples != last_samples) {
        last_samples = s.samples;
        spdlog::info("{}", ot::describe(s));
        last_logged = s.iteration;
      } else {
        spdlog::debug("{}", ot::describe(s));
      }
    });
    io::write_npy(out.claim("h.npy"), result.h);
    nlohmann::json report = {{"grad_norm", result.grad_norm},
                             {"grad_estimate", result.grad_estimate},
                             {"noise", result.noise},
                             {"samples", result.samples},
                             {"threshold", o.grad_threshold},
                             {"empty_cells", result.empty_cells},
                             {"iterations", result.iterations},
                             {"converged", result.converged},
                             {"doublings", result.doublings},
                             {"seconds", result.seconds},
                             {"targets", y.size(0)},
                             {"dimension", y.size(1)},
                             {"source", args.get("--source", "uniform")},
                             {"step", o.lr > 0 ? "adam" : "newton"}};
    out.write("report.json", run::json_text(report));
    out.commit();
    std::cout << report.dump(2) << "\n";
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
