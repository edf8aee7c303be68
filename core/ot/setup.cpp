#include "core/ot/setup.h"

#include <algorithm>
#include <stdexcept>

#include <torch/torch.h>

#include "core/ot/cost.h"

namespace otcs::ot {

std::optional<GuidanceOptions> guidance_options(const OtSetup& s, const KeypointPairs& pairs) {
  if (pairs.size() == 0) return std::nullopt;
  GuidanceOptions g;
  g.cost = s.cost;
  g.tau = s.tau;
  g.tau_target = s.tau_target;
  g.alpha = s.alpha;
  g.relation = s.relation;
  g.neighbors = s.neighbors;
  g.propagation_alpha = s.propagation_alpha;
  g.propagation_iterations = s.propagation_iterations;
  return g;
}

TrainerOptions trainer_options(const OtSetup& s, const KeypointPairs& pairs) {
  TrainerOptions t;
  t.cost = s.cost;
  t.epsilon = s.epsilon;
  t.batch_size = s.batch;
  t.iterations = s.iterations;
  t.lr = s.lr;
  t.seed = s.seed;
  t.schedule = s.schedule;
  t.lr_final_fraction = s.lr_final_fraction;
  t.averaging_start = s.averaging_start;
  t.diagnostics_every = s.diagnostics_every;
  for (auto* spec : {&t.u_spec, &t.v_spec}) {
    spec->kind = s.solver == OtSolver::Tabular ? PotentialKind::Tabular : PotentialKind::Mlp;
    spec->width = s.width;
    spec->depth = s.depth;
    spec->activation = s.activation;
    if (s.potential_dtype) spec->dtype = *s.potential_dtype;
  }
  t.guidance = guidance_options(s, pairs);
  return t;
}

ExactResult solve_exact_problem(const OtSetup& s, const torch::Tensor& source, const torch::Tensor& target,
                                const KeypointPairs& pairs, const ExactOptions& options) {
  auto xs = source.to(torch::kFloat64), yt = target.to(torch::kFloat64);
  auto C = cost_matrix(xs, yt, s.cost);
  torch::Tensor G = C, M;
  if (auto g = guidance_options(s, pairs)) {
    KeypointGuidance guidance(xs, yt, pairs, *g);
    auto si = torch::arange(xs.size(0), torch::kInt64), ti = torch::arange(yt.size(0), torch::kInt64);
    G = guidance.guided_cost(si, ti, C, torch::kFloat64);
    M = guidance.mask(si, ti, torch::kFloat64);
  }
  return solve_exact(G, s.epsilon, M, C, options);
}

double default_stochastic_lr(const OtSetup& s, const torch::Tensor& source, const torch::Tensor& target) {
  const double scale = cost_matrix(source.slice(0, 0, std::min<int64_t>(source.size(0), 512)),
                                   target.slice(0, 0, std::min<int64_t>(target.size(0), 512)), s.cost)
                           .mean()
                           .item<double>();
  return (s.solver == OtSolver::Tabular ? 2e-2 : 1e-2 * std::min(1.0, 64.0 / double(s.width))) * std::max(scale, 1e-12);
}

OtSolution solve_ot_problem(const OtSetup& s, const torch::Tensor& source, const torch::Tensor& target,
                            const KeypointPairs& pairs, const std::function<void(const TrainerEvent&)>& on_step) {
  OtSolution out;
  if (s.solver == OtSolver::Exact) {
    out.exact = solve_exact_problem(s, source, target, pairs);
    out.u = out.exact->u;
    out.v = out.exact->v;
    return out;
  }
  if (s.solver != OtSolver::Tabular && s.solver != OtSolver::Mlp)
    throw std::invalid_argument("solve_ot_problem: exact, tabular or mlp solver expected");
  DualTrainer trainer(source, target, trainer_options(s, pairs), pairs);
  if (on_step) trainer.set_callback(on_step);
  out.train_seconds = trainer.run().seconds;
  out.u_potential = trainer.u();
  out.v_potential = trainer.v();
  out.u = evaluate_potential(*out.u_potential, source).to(torch::kFloat64);
  out.v = evaluate_potential(*out.v_potential, target).to(torch::kFloat64);
  return out;
}

}  // namespace otcs::ot
