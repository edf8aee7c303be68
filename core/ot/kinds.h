#pragma once
// The OT settings that take one of a few named values, as enums with their parsers and names in one place.
// Free of LibTorch, so project specs (and GUI code that reads them) can hold them. Each parse_* throws a
// UserError listing the accepted names; the project reader puts the JSON path in front.
#include <string>

namespace otcs::ot {

enum class CostKind {
  L2,           // mean_d (x - y)^2           (GEMM identity; clamped at 0)
  L1,           // mean_d |x - y|             (no GEMM shortcut; tiled cdist)
  Cosine,       // 1 - <x/|x|, y/|y|>          (normalised GEMM; a zero row counts as cos = 0)
  SqEuclidean,  // sum_d (x - y)^2            (GEMM identity; clamped at 0)
};
CostKind parse_cost(const std::string& name);  // "l2", "l1", "cosine", "sqeuclidean"
std::string cost_name(CostKind kind);

enum class Activation { SiLU, ReLU, Tanh, LeakyReLU, GELU };
Activation parse_activation(const std::string& name);  // "silu", "relu", "tanh", "leaky_relu", "gelu"
std::string activation_name(Activation a);

enum class PotentialKind { Mlp, Tabular };
PotentialKind parse_potential_kind(const std::string& name);  // "mlp", "tabular"
std::string potential_kind_name(PotentialKind k);

// How the OT stage solves the regularised problem: exact (Newton on the dual, small problems), dense
// (full-gradient Adam then block-coordinate sweeps on the whole cost matrix), or stochastic dual training
// of tabular or MLP potentials.
enum class OtSolver { Exact, Dense, Tabular, Mlp };
OtSolver parse_ot_solver(const std::string& name);  // "exact", "dense", "tabular", "mlp"
std::string ot_solver_name(OtSolver s);

// How keypoint relation vectors are formed (see GuidanceOptions).
enum class Relation { Softmax, Propagation };
Relation parse_relation(const std::string& name);  // "softmax", "propagation"
std::string relation_name(Relation r);

// What the bridge does with a source row that keeps no entry.
enum class EmptyRowPolicy {
  KeepEmpty,   // leave it empty; redirect[i] = -1 (the sampler must skip it)
  NextSource,  // the released behaviour: the sampler uses the next source (cyclically) with entries instead;
               // H keeps the row empty and redirect[i] names that source
  Nearest,     // store the single entry argmax_j (u_i + v_j - G_ij) with the value `threshold` (the row has one
               // candidate, so only its presence matters for resampling); redirect[i] = i
};
EmptyRowPolicy parse_empty_row_policy(const std::string& name);  // "keep_empty", "next_source", "nearest"
std::string empty_row_policy_name(EmptyRowPolicy p);

}  // namespace otcs::ot
