#include "core/ot/setup.h"

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

}  // namespace otcs::ot
