#pragma once
// Stochastic training of the dual potentials (Stage I of OTCS): Adam on -D(u, v) over random batches of B
// sources and B targets (keypoint pairs prepended to both when guided), as OTCS:runners/OT_solver.py train().
// Additions over the release, all off by default except where noted: a cosine lr decay and iterate averaging
// of the potentials' parameters (Polyak), which the finite-problem accuracy checks rely on.
// No Qt: progress goes through a std::function, cancellation through a std::atomic<bool>.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "core/common/precision.h"
#include "core/ot/cost.h"
#include "core/ot/dual.h"
#include "core/ot/keypoints.h"
#include "core/ot/potentials.h"

namespace otcs::ot {

enum class LrSchedule { Constant, Cosine };

struct TrainerOptions {
  CostKind cost = CostKind::L2;
  double epsilon = 1e-4;
  int64_t batch_size = 64;  // B random samples per side (plus the K keypoint pairs)
  int64_t iterations = 10000;
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.999;  // Adam (released: PyTorch defaults)
  uint64_t seed = 0;
  LrSchedule schedule = LrSchedule::Constant;
  double lr_final_fraction = 0.0;  // cosine: lr decays from lr to lr * this
  // Iterate averaging: from step floor(averaging_start * iterations) on, a running mean of the parameters is
  // kept and becomes the result. >= 1 disables it.
  double averaging_start = 1.0;
  int64_t diagnostics_every = 0;  // 0: never; else primal diagnostics every N steps (and at the last step)
  int64_t diagnostics_batch = 0;  // 0: use batch_size; rows/cols sampled for the diagnostics
  PotentialSpec u_spec;           // input_dim / size are filled from the data when 0
  PotentialSpec v_spec;
  std::optional<GuidanceOptions> guidance;  // set with keypoints for keypoint-guided OT
  // u and v are independent given the batch: with >= 2 intra-op threads their forward and backward passes run
  // concurrently, one potential per thread (each single-threaded), instead of one after the other with every
  // small GEMM and elementwise op split across the threads. The result does not depend on this switch beyond
  // floating-point summation order.
  bool concurrent_potentials = false;  // off by default: no gain shown within noise (PERFORMANCE.md)
  // bf16: the potentials compute in bfloat16 (autocast); parameters, Adam state, cost and objective stay float32.
  Precision precision = Precision::Fp32;
};

struct TrainerEvent {
  int64_t step = 0;  // 1-based, after the update
  int64_t iterations = 0;
  double dual_objective = 0;  // the batch objective D at this step (before the update)
  double lr = 0;
  bool has_diagnostics = false;
  PlanDiagnostics diagnostics;  // valid when has_diagnostics (dual.h)
};

// The dual objective or a gradient of the potentials' parameters was NaN or Inf at a step: thrown before that
// step's update is applied, so the potentials hold the last finite iterate.
class DivergedError : public std::runtime_error {
 public:
  DivergedError(const std::string& what, int64_t step) : std::runtime_error(what), step_(step) {}
  int64_t step() const { return step_; }  // the 1-based step whose update was refused

 private:
  int64_t step_;
};

struct TrainResult {
  int64_t steps_done = 0;
  bool cancelled = false;
  double seconds = 0;
  double last_dual_objective = 0;
};

class DualTrainer {
 public:
  // source [n, d], target [m, d] (float32/float64; kept by reference, not copied). keypoints only with
  // options.guidance. Throws std::invalid_argument for inconsistent shapes/options.
  DualTrainer(torch::Tensor source, torch::Tensor target, TrainerOptions options, KeypointPairs keypoints = {});
  ~DualTrainer();
  DualTrainer(const DualTrainer&) = delete;
  DualTrainer& operator=(const DualTrainer&) = delete;

  using Callback = std::function<void(const TrainerEvent&)>;
  void set_callback(Callback cb);

  // Runs the remaining iterations (resumable: a second call continues where a cancelled one stopped).
  // cancel is checked at step boundaries. Deterministic for a given seed and thread count.
  TrainResult run(const std::atomic<bool>* cancel = nullptr);
  // The same, stopping after at most max_steps more steps (benchmarks time single steps with it).
  TrainResult run(const std::atomic<bool>* cancel, int64_t max_steps);

  int64_t step() const;
  const TrainerOptions& options() const;
  // The potentials to use after training (the averaged ones when averaging ran, else the live ones).
  std::shared_ptr<Potential> u() const;
  std::shared_ptr<Potential> v() const;
  const KeypointGuidance* guidance() const;  // nullptr when unsupervised

  // Step, potentials (live and averaged), Adam state and RNG state in one file; load into a trainer built
  // with the same data and options to resume.
  void save_checkpoint(const std::string& path) const;
  void load_checkpoint(const std::string& path);  // throws UserError naming the file
  // The same parts into / from an archive of a caller's (a run's checkpoint store); load throws c10::Error or
  // std::runtime_error on a part that is missing or does not fit.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otcs::ot
