#pragma once
// `otcs bench WORKLOAD`: named, repeatable measurements of the heavy kernels (not tests: timings belong here,
// never in the test suite). A workload returns its numbers as JSON; the command prints them and, with --json,
// writes them. Workloads that do dense linear algebra report their achieved GFLOP/s next to a GEMM peak
// measured on the spot with measure_gemm_peak(), so numbers from different machines can be compared.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/common/precision.h"

namespace otcs::cli::bench {

struct Context {
  int threads = 0;                              // intra-op threads in effect
  int repeat = 0;                               // --repeat: how many timed runs; 0: the workload's default
  std::map<std::string, std::string> settings;  // --set KEY=VALUE (workload-specific)
  std::string device = "cpu";                   // --device (validated); score-step trains there
  Precision precision = Precision::Fp32;        // --precision: ot-dual, score-step and sample-step compute in it

  // Typed access to settings with defaults; throw UserError naming the key on a malformed value.
  std::string get(const std::string& key, const std::string& fallback) const;
  double get_double(const std::string& key, double fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
};

struct Workload {
  std::string name;
  std::string summary;   // one line, with the default problem size
  std::string settings;  // the --set keys it understands, for --help
  std::function<nlohmann::json(const Context&)> run;
};

// All workloads, in the order shown by --help. To add one: write `void add_bench_<name>(std::vector<Workload>&)`
// next to the code it measures (in app/cli) and call it from workloads() in cmd_bench.cpp.
const std::vector<Workload>& workloads();

struct GemmPeak {
  double gflops = 0;  // best of the timed runs
  int64_t size = 0;   // square GEMM size used
  std::string dtype;
};
// Times square GEMMs (float32 unless told) for at least min_seconds and returns the best rate.
GemmPeak measure_gemm_peak(torch::ScalarType dtype = torch::kFloat32, double min_seconds = 1.0, int64_t size = 2048);

double peak_rss_mb();     // VmHWM of this process, MB (1e6 bytes)
double current_rss_mb();  // VmRSS, MB

// Adds {"gemm_peak_gflops", "gemm_size", "achieved_gflops", "fraction_of_peak"} to `out` for a workload that
// performed `flops` floating-point operations of GEMM work in `seconds`.
void report_gflops(nlohmann::json& out, double flops, double seconds, const GemmPeak& peak);

// Workloads defined in cmd_bench.cpp.
void add_bench_gemm_peak(std::vector<Workload>& out);
void add_bench_bridge(std::vector<Workload>& out);

// Per-step timings: `warmup` untimed calls, then `repeat` timed ones; each time is divided by per_call (a call
// that performs several steps). The median is what the step workloads report.
struct StepTimes {
  double median = 0;
  double best = 0;
  std::vector<double> seconds;
};
StepTimes time_steps(const std::function<void()>& step, int warmup, int repeat, int per_call = 1);
// Adds {"steps_per_s", "median_s", "best_s", "repeat"} (steps/s from the median).
void report_steps(nlohmann::json& out, const StepTimes& t);
// A seeded training of `steps` steps from scratch (step() returns the step's loss or objective): adds
// {"train_steps", "train_seconds", "train_final", "train_mean_last50"} (the mean of the last min(50, steps)).
void report_training(nlohmann::json& out, const std::function<double()>& step, int64_t steps);

// Workloads defined in cmd_bench_train.cpp: ot-dual, ot-dual-toy, score-step, sample-step, assign.
void add_bench_training(std::vector<Workload>& out);

}  // namespace otcs::cli::bench
