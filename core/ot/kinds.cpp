#include "core/ot/kinds.h"

#include <array>
#include <utility>

#include "core/common/error.h"

namespace otcs::ot {
namespace {

// One table per enum: the parser and the name both read it, so the two cannot disagree.
template <class E, size_t N>
E parse_named(const std::array<std::pair<E, const char*>, N>& table, const std::string& name, const char* what) {
  for (const auto& [value, text] : table)
    if (name == text) return value;
  std::string expected;
  for (size_t i = 0; i < N; ++i) expected += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(table[i].second);
  fail("unknown {} '{}' (expected {})", what, name, expected);
}

template <class E, size_t N>
std::string name_of(const std::array<std::pair<E, const char*>, N>& table, E value) {
  for (const auto& [v, text] : table)
    if (v == value) return text;
  return "?";
}

constexpr std::array<std::pair<CostKind, const char*>, 4> kCosts{
    {{CostKind::L2, "l2"}, {CostKind::L1, "l1"}, {CostKind::Cosine, "cosine"}, {CostKind::SqEuclidean, "sqeuclidean"}}};
constexpr std::array<std::pair<Activation, const char*>, 5> kActivations{{{Activation::SiLU, "silu"},
                                                                          {Activation::ReLU, "relu"},
                                                                          {Activation::Tanh, "tanh"},
                                                                          {Activation::LeakyReLU, "leaky_relu"},
                                                                          {Activation::GELU, "gelu"}}};
constexpr std::array<std::pair<PotentialKind, const char*>, 2> kPotentials{
    {{PotentialKind::Mlp, "mlp"}, {PotentialKind::Tabular, "tabular"}}};
constexpr std::array<std::pair<OtSolver, const char*>, 4> kSolvers{
    {{OtSolver::Exact, "exact"}, {OtSolver::Dense, "dense"}, {OtSolver::Tabular, "tabular"}, {OtSolver::Mlp, "mlp"}}};
constexpr std::array<std::pair<Relation, const char*>, 2> kRelations{
    {{Relation::Softmax, "softmax"}, {Relation::Propagation, "propagation"}}};
constexpr std::array<std::pair<EmptyRowPolicy, const char*>, 3> kEmptyRows{{{EmptyRowPolicy::KeepEmpty, "keep_empty"},
                                                                            {EmptyRowPolicy::NextSource, "next_source"},
                                                                            {EmptyRowPolicy::Nearest, "nearest"}}};

}  // namespace

CostKind parse_cost(const std::string& name) { return parse_named(kCosts, name, "cost"); }
std::string cost_name(CostKind kind) { return name_of(kCosts, kind); }
Activation parse_activation(const std::string& name) { return parse_named(kActivations, name, "activation"); }
std::string activation_name(Activation a) { return name_of(kActivations, a); }
PotentialKind parse_potential_kind(const std::string& name) { return parse_named(kPotentials, name, "potential"); }
std::string potential_kind_name(PotentialKind k) { return name_of(kPotentials, k); }
OtSolver parse_ot_solver(const std::string& name) { return parse_named(kSolvers, name, "solver"); }
std::string ot_solver_name(OtSolver s) { return name_of(kSolvers, s); }
Relation parse_relation(const std::string& name) { return parse_named(kRelations, name, "relation"); }
std::string relation_name(Relation r) { return name_of(kRelations, r); }
EmptyRowPolicy parse_empty_row_policy(const std::string& name) {
  return parse_named(kEmptyRows, name, "empty-row policy");
}
std::string empty_row_policy_name(EmptyRowPolicy p) { return name_of(kEmptyRows, p); }

}  // namespace otcs::ot
