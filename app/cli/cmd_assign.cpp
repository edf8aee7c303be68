// otcs assign: exact linear assignment of a cost matrix (.npy), as AOT uses inside training chunks.
#include <chrono>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/file.h"
#include "core/io/npy.h"
#include "core/ot/assignment.h"

namespace otcs::cli {

void register_assign(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "assign";
  cmd.summary = "exact linear assignment (shortest augmenting paths, Jonker-Volgenant style) of a cost matrix";
  cmd.usage = "otcs assign COST.npy --out PERM.npy [--maximize]";
  cmd.description =
      "COST.npy: a float32/float64 matrix n x m (rows = e.g. images, columns = noises). Writes PERM.npy: int64,\n"
      "one entry per row, the column assigned to it. Square costs assign every row; rectangular costs assign every\n"
      "row of the smaller side (rows left over get -1). Prints the optimal total cost and the solve time.";
  cmd.options = {{"--out", "PERM.npy", "where to write the assignment", "", true},
                 {"--maximize", "", "maximise the total instead of minimising it"}};
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.log_dir_option.clear();
  cmd.run = [](const Args& args) {
    const std::string path = args.positional()[0];
    auto cost = io::read_npy(path);
    if (cost.dim() != 2) fail("{}: expected a 2-D cost matrix, got {} dimensions", path, cost.dim());
    if (!cost.is_floating_point() && cost.scalar_type() != torch::kInt64 && cost.scalar_type() != torch::kInt32)
      fail("{}: cost must be numeric", path);
    auto c = cost.to(torch::kFloat64);
    if (!torch::isfinite(c).all().item<bool>()) fail("{}: cost contains NaN or Inf", path);
    if (args.flag("--maximize")) c = -c;
    auto start = std::chrono::steady_clock::now();
    double total = 0;
    auto perm = ot::assign(c, &total);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (args.flag("--maximize")) total = -total;
    io::write_npy(args.get("--out"), perm);
    spdlog::info("assigned {}x{} in {:.2f} ms, total cost {:.10g}", c.size(0), c.size(1), ms, total);
    std::cout << fmt::format("cost {:.10g}\nseconds {:.6f}\n", total, ms / 1000.0);
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
