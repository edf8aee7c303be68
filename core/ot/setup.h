#pragma once
// The setup of one L2-regularised OT problem, shared by `otcs ot` and the run's OT stage: the solver, the cost and
// epsilon, the keypoint guidance, and for the stochastic solvers the potentials and Adam. Each front end fills an
// OtSetup from its own inputs (flags, the project's /stages/ot) and gets the guidance, the trainer's options and
// the exact solve from here, so both solve the same problem the same way.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <torch/types.h>

#include "core/ot/exact.h"
#include "core/ot/keypoints.h"
#include "core/ot/kinds.h"
#include "core/ot/trainer.h"

namespace otcs::ot {

struct OtSetup {
  OtSolver solver = OtSolver::Exact;
  CostKind cost = CostKind::L2;
  double epsilon = 1e-3;
  // Keypoint guidance, used when there are keypoint pairs (its cost is `cost`).
  double tau = 0.1;
  double tau_target = 0;  // <= 0: tau
  double alpha = 1.0;     // G = (1 - alpha) C + alpha g
  Relation relation = Relation::Softmax;
  int64_t neighbors = 10;
  double propagation_alpha = 0.99;
  int64_t propagation_iterations = 200;
  // The stochastic solvers (tabular, mlp).
  int64_t iterations = 20000;
  int64_t batch = 64;
  double lr = 1e-4;
  uint64_t seed = 0;
  int64_t width = 256, depth = 2;  // mlp potentials
  Activation activation = Activation::SiLU;
  std::optional<torch::ScalarType> potential_dtype;  // unset: PotentialSpec's default
  LrSchedule schedule = LrSchedule::Constant;
  double lr_final_fraction = 0.0;
  double averaging_start = 1.0;   // >= 1: no iterate averaging
  int64_t diagnostics_every = 0;  // 0: never
};

// The guidance of a problem with `pairs`; nullopt without pairs (unsupervised OT).
std::optional<GuidanceOptions> guidance_options(const OtSetup& setup, const KeypointPairs& pairs);

// The stochastic dual trainer's options (tabular or mlp potentials for both sides).
TrainerOptions trainer_options(const OtSetup& setup, const KeypointPairs& pairs);

// The exact solve of the finite problem source x target in float64: the ground cost, and with pairs the guided
// cost and the keypoint mask over the whole sets.
ExactResult solve_exact_problem(const OtSetup& setup, const torch::Tensor& source, const torch::Tensor& target,
                                const KeypointPairs& pairs, const ExactOptions& options = {});

// A learning rate on the scale of the potentials, which is the scale of the cost (its mean over at most 512 x 512
// pairs): tables move by about lr per Adam step; a network's output moves by more per step the wider it is, hence
// 64 / width (a width-512 MLP diverged at the width-64 rate on the 2-D accuracy problem).
double default_stochastic_lr(const OtSetup& setup, const torch::Tensor& source, const torch::Tensor& target);

struct OtSolution {
  torch::Tensor u, v;                                   // float64 at the points
  std::shared_ptr<Potential> u_potential, v_potential;  // the stochastic solvers' potentials
  std::optional<ExactResult> exact;                     // the exact solver's result
  double train_seconds = 0;
};
// Solves with the setup's exact, tabular or mlp solver in one go (the run's OT stage drives the trainer itself, to
// checkpoint it). The stochastic solvers call on_step after every step and throw DivergedError when the dual
// diverges.
OtSolution solve_ot_problem(const OtSetup& setup, const torch::Tensor& source, const torch::Tensor& target,
                            const KeypointPairs& pairs, const std::function<void(const TrainerEvent&)>& on_step = {});

}  // namespace otcs::ot
