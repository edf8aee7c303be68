// `otcs bench WORKLOAD [--repeat R] [--set KEY=VALUE ...] [--json PATH]`: the benchmark registry (bench.h) and
// the workloads of the OT core: `gemm-peak` and `bridge` (the step workloads are in cmd_bench_train.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "core/common/device.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/common/precision.h"
#include "core/common/runtime.h"
#include "core/common/timing.h"
#include "core/io/file.h"
#include "core/ot/bridge.h"
#include "core/ot/potentials.h"
#include "core/run/json_text.h"

namespace otcs::cli {

namespace bench {

using Clock = std::chrono::steady_clock;

std::string Context::get(const std::string& key, const std::string& fallback) const {
  auto it = settings.find(key);
  return it == settings.end() ? fallback : it->second;
}

double Context::get_double(const std::string& key, double fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  try {
    size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  fail("--set {}={}: not a number", key, it->second);
}

int64_t Context::get_int(const std::string& key, int64_t fallback) const {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  fail("--set {}={}: not an integer", key, it->second);
}

static double status_mb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size())) * 1024.0 / 1e6;  // kB
  return -1;
}
double peak_rss_mb() { return status_mb("VmHWM"); }
double current_rss_mb() { return status_mb("VmRSS"); }

GemmPeak measure_gemm_peak(torch::ScalarType dtype, double min_seconds, int64_t size) {
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().dtype(dtype);
  auto a = torch::rand({size, size}, opts), b = torch::rand({size, size}, opts), c = torch::empty({size, size}, opts);
  torch::mm_out(c, a, b);  // warm-up: threads, page-in
  GemmPeak peak;
  peak.size = size;
  peak.dtype = dtype == torch::kFloat64 ? "float64" : dtype == torch::kBFloat16 ? "bfloat16" : "float32";
  const double flops = 2.0 * double(size) * double(size) * double(size);
  const auto t_all = Clock::now();
  do {
    const auto t0 = Clock::now();
    torch::mm_out(c, a, b);
    peak.gflops = std::max(peak.gflops, flops / seconds_since(t0) / 1e9);
  } while (seconds_since(t_all) < min_seconds);
  return peak;
}

void report_gflops(nlohmann::json& out, double flops, double seconds, const GemmPeak& peak) {
  out["gemm_peak_gflops"] = peak.gflops;
  out["gemm_peak_size"] = peak.size;
  out["achieved_gflops"] = flops / seconds / 1e9;
  out["fraction_of_peak"] = peak.gflops > 0 ? flops / seconds / 1e9 / peak.gflops : 0.0;
}

void add_bench_gemm_peak(std::vector<Workload>& out) {
  out.push_back(
      {"gemm-peak", "square GEMM rate (float32, 2048^3; --precision bf16: bfloat16) on the threads in use",
       "size=2048 dtype=float32|float64|bfloat16 seconds=2", [](const Context& ctx) {
         const auto dt = ctx.get("dtype", ctx.precision == Precision::Bf16 ? "bfloat16" : "float32");
         if (dt != "float32" && dt != "float64" && dt != "bfloat16") fail("--set dtype: float32, float64 or bfloat16");
         const auto type = dt == "float64" ? torch::kFloat64 : dt == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
         auto p = measure_gemm_peak(type, ctx.get_double("seconds", 2.0), ctx.get_int("size", 2048));
         nlohmann::json j;
         j["gflops"] = p.gflops;
         j["size"] = p.size;
         j["dtype"] = p.dtype;
         j["peak_rss_mb"] = peak_rss_mb();
         return j;
       }});
}

// The OTCS bridge at MNIST scale: u over 10,000 sources and v over 9,000 targets (784-d, MLP potentials 784 ->
// 512 -> 2 x 512 -> 1 as the released animal configuration, evaluated in chunks), then H = relu(u+v-C)/(2 eps)
// in source tiles with the l2 (mean) cost by GEMM, keeping H > 0.1. The data are clustered points in [0,1]^d
// (ten centres plus noise, like digit images). The potentials are untrained; once, untimed, their output layers
// are scaled to near-constant outputs and u's bias shifted so that about `per_row` entries per row pass the
// threshold, the sparsity of a trained coupling (the time does not depend on the weights' values).
void add_bench_bridge(std::vector<Workload>& out) {
  out.push_back(
      {"bridge", "OT bridge: potentials + sparse H for 10,000 x 9,000 samples, d = 784, l2 cost",
       "n=10000 m=9000 d=784 cost=l2 eps=1e-3 threshold=0.1 per_row=64 row_cap=0 width=512 depth=2 tile_rows=0 "
       "seed=0",
       [](const Context& ctx) {
         torch::NoGradGuard no_grad;
         const int64_t n = ctx.get_int("n", 10000), m = ctx.get_int("m", 9000), d = ctx.get_int("d", 784);
         if (n <= 0 || m <= 0 || d <= 0) fail("--set n, m, d must be positive");
         const auto cost = ot::parse_cost(ctx.get("cost", "l2"));
         const double eps = ctx.get_double("eps", 1e-3), thr = ctx.get_double("threshold", 0.1);
         const int64_t per_row = ctx.get_int("per_row", 64);
         const uint64_t seed = uint64_t(ctx.get_int("seed", 0));
         auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
         auto centres = torch::rand({10, d}, gen, torch::kFloat32);
         auto make = [&](int64_t count) {
           auto label = torch::randint(10, {count}, gen, torch::kInt64);
           auto x = centres.index_select(0, label);
           x.add_(torch::randn({count, d}, gen, torch::kFloat32), 0.15).clamp_(0.0, 1.0);
           return x;
         };
         auto S = make(n), T = make(m);
         ot::PotentialSpec spec;
         spec.input_dim = d;
         spec.width = ctx.get_int("width", 512);
         spec.depth = ctx.get_int("depth", 2);
         auto u = ot::make_potential(spec, seed * 2 + 1), v = ot::make_potential(spec, seed * 2 + 2);
         {  // calibration (untimed): near-constant outputs, shifted so ~per_row entries per row pass the threshold
           const std::string last = "fc" + std::to_string(spec.depth + 1);
           for (auto& p : {u, v}) p->named_parameters().find(last + ".weight")->mul_(1e-3);
           const int64_t rows = std::min<int64_t>(n, 256);
           auto uu = ot::evaluate_potential(*u, S.slice(0, 0, rows));
           auto vv = ot::evaluate_potential(*v, T);
           auto V = uu.unsqueeze(1) + vv.unsqueeze(0) - ot::cost_matrix(S.slice(0, 0, rows), T, cost);
           const double frac = std::clamp(double(per_row) / double(m), 0.0, 1.0);
           auto q = V.flatten().kthvalue(std::max<int64_t>(1, int64_t(double(V.numel()) * (1.0 - frac))));
           const double shift = 2.0 * eps * thr - std::get<0>(q).item<double>();
           u->named_parameters().find(last + ".bias")->add_(shift);
         }
         ot::BridgeOptions opt;
         opt.cost = cost;
         opt.epsilon = eps;
         opt.threshold = thr;
         opt.row_cap = ctx.get_int("row_cap", 0);
         opt.tile_rows = ctx.get_int("tile_rows", 0);
         auto peak = measure_gemm_peak(torch::kFloat32, 1.0);
         nlohmann::json runs = nlohmann::json::array();
         double best = 1e300;
         ot::BridgeResult keep;
         for (int r = 0; r < std::max(1, ctx.repeat); ++r) {
           const auto t0 = Clock::now();
           auto res = ot::compute_bridge(*u, *v, S, T, opt);
           const double s = seconds_since(t0);
           runs.push_back(
               {{"seconds", s}, {"seconds_potentials", res.seconds_potentials}, {"seconds_h", res.seconds_h}});
           if (s < best) best = s, keep = std::move(res);
         }
         const double W = double(spec.width);
         const double mlp_flops = 2.0 * double(n + m) * (double(d) * W + double(spec.depth) * W * W + W);
         const double cost_flops = 2.0 * double(n) * double(m) * double(d);
         nlohmann::json j;
         j["n"] = n;
         j["m"] = m;
         j["d"] = d;
         j["cost"] = ot::cost_name(cost);
         j["epsilon"] = eps;
         j["threshold"] = thr;
         j["seconds"] = best;
         j["runs"] = runs;
         j["nnz"] = keep.H.nnz();
         j["nnz_per_row"] = double(keep.H.nnz()) / double(n);
         j["empty_rows"] = keep.empty_rows.size();
         j["peak_rss_mb"] = peak_rss_mb();
         j["input_mb"] = double(S.nbytes() + T.nbytes()) / 1e6;
         report_gflops(j, mlp_flops + cost_flops, best, peak);
         return j;
       }});
}

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all = [] {
    std::vector<Workload> w;
    add_bench_gemm_peak(w);
    add_bench_bridge(w);
    add_bench_training(w);
    return w;
  }();
  return all;
}

}  // namespace bench

namespace {

void print_json(const nlohmann::json& j, const std::string& indent = "  ") {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_array() || it.value().is_object())
      std::cout << indent << it.key() << ": " << it.value().dump() << "\n";
    else if (it.value().is_number_float())
      std::cout << indent << it.key() << ": " << fmt::format("{:.6g}", it.value().get<double>()) << "\n";
    else
      std::cout << indent << it.key() << ": " << it.value().dump() << "\n";
  }
}

}  // namespace

void register_bench(std::vector<Command>& out) {
  Command cmd;
  cmd.name = "bench";
  cmd.summary = "run a named benchmark workload and report seconds, peak memory and rates";
  cmd.usage = "otcs bench WORKLOAD [--repeat R] [--set KEY=VALUE ...] [--precision P] [--json PATH] [--threads N]";
  std::string desc = "Workloads:\n";
  for (const auto& w : bench::workloads())
    desc += fmt::format("  {:<12} {}\n  {:<12} settings: {}\n", w.name, w.summary, "", w.settings);
  desc +=
      "train=N (ot-dual, ot-dual-toy, score-step): also a seeded N-step training from scratch and the mean of its "
      "last 50 losses (dual objectives), to compare precisions; profile=1 (score-step): the forward and backward "
      "passes timed apart; native=1 (score-step, sample-step, with bf16): a bf16 channels-last copy of the network "
      "computes instead of autocast.\n";
  desc += "Peak memory is the process's VmHWM from /proc/self/status (includes LibTorch itself and the inputs).";
  cmd.description = desc;
  cmd.options = {
      {"--repeat", "R", "timed runs (bridge: the best is reported; step workloads: the median)", "per workload"},
      {"--set", "KEY=VALUE", "workload setting (repeatable)", "", false, true},
      {"--json", "PATH", "also write the result as JSON", ""},
      {"--device", "DEV", "cpu, cuda or cuda:K (score-step runs there; needs a LibTorch built with CUDA)", "cpu"},
      {"--precision", "P",
       "fp32, bf16, or a comma-separated list measured one after the other with their ratio (ot-dual, "
       "ot-dual-toy, score-step, sample-step, gemm-peak)",
       "fp32"},
  };
  cmd.min_positional = 1;
  cmd.max_positional = 1;
  cmd.writes_log = false;
  cmd.run = [](const Args& args) -> int {
    const std::string name = args.positional().at(0);
    const bench::Workload* w = nullptr;
    for (const auto& c : bench::workloads())
      if (c.name == name) w = &c;
    if (!w) {
      std::string names;
      for (const auto& c : bench::workloads()) names += (names.empty() ? "" : ", ") + c.name;
      fail("unknown workload '{}' (available: {})", name, names);
    }
    bench::Context ctx;
    ctx.repeat = args.has("--repeat") ? int(positive_int(args, "--repeat", 1)) : 0;
    ctx.threads = torch::get_num_threads();
    ctx.device = args.get("--device", "cpu");
    parse_device(ctx.device, "--device");
    for (const auto& kv : args.all("--set")) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) fail("--set expects KEY=VALUE (got '{}')", kv);
      ctx.settings[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    // A mistyped key would silently measure the default problem: only the keys the workload lists are accepted.
    std::set<std::string> known;
    std::istringstream words(w->settings);
    for (std::string word; words >> word;) known.insert(word.substr(0, word.find('=')));
    for (const auto& [key, value] : ctx.settings)
      if (!known.count(key)) fail("--set {}: workload '{}' has no such setting (it has: {})", key, name, w->settings);
    // --precision fp32,bf16 measures both, one after the other in this process, and their ratio.
    std::vector<Precision> precisions;
    {
      std::istringstream list(args.get("--precision", "fp32"));
      for (std::string item; std::getline(list, item, ',');) precisions.push_back(parse_precision(item));
      if (precisions.empty()) fail("--precision: give fp32, bf16 or fp32,bf16");
    }
    const c10::Device device = parse_device(ctx.device, "--device");
    for (Precision p : precisions) require_precision(p, device, "--precision " + precision_name(p));
    auto info = runtime_info();
    std::vector<nlohmann::json> results;
    for (Precision p : precisions) {
      ctx.precision = p;
      nlohmann::json result = w->run(ctx);
      result["workload"] = name;
      result["precision"] = precision_name(p);
      result["threads"] = ctx.threads;
      result["blas"] = info.blas_name;
      result["torch"] = info.torch_version;
      std::cout << "otcs bench " << name << " (" << precision_name(p) << ")\n";
      print_json(result);
      results.push_back(std::move(result));
    }
    nlohmann::json out = results.front();
    if (results.size() > 1) {
      out = nlohmann::json{{"workload", name}, {"runs", results}};
      const auto& first = results.front();
      for (size_t i = 1; i < results.size(); ++i) {
        const auto& r = results[i];
        const std::string key = r.value("precision", "") + "_over_" + first.value("precision", "");
        if (first.contains("steps_per_s") && r.contains("steps_per_s")) {
          const double ratio = r["steps_per_s"].get<double>() / first["steps_per_s"].get<double>();
          out["steps_per_s_" + key] = ratio;
          std::cout << fmt::format("steps/s {}: {:.3f}\n", key, ratio);
        }
        if (first.contains("gflops") && r.contains("gflops")) {
          const double ratio = r["gflops"].get<double>() / first["gflops"].get<double>();
          out["gflops_" + key] = ratio;
          std::cout << fmt::format("GFLOP/s {}: {:.3f}\n", key, ratio);
        }
        if (first.contains("train_mean_last50") && r.contains("train_mean_last50")) {
          const double a = first["train_mean_last50"].get<double>(), b = r["train_mean_last50"].get<double>();
          const double rel = (b - a) / std::max(1e-300, std::abs(a));
          out["train_mean_last50_relative_difference_" + key] = rel;
          std::cout << fmt::format("mean of the last 50 training values, {} relative difference: {:+.4f} %\n", key,
                                   100.0 * rel);
        }
      }
    }
    if (args.has("--json")) run::write_json_atomic(args.get("--json"), out);
    return 0;
  };
  out.push_back(std::move(cmd));
}

}  // namespace otcs::cli
