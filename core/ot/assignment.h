#pragma once
// Exact linear assignment (minimum-cost perfect matching) by shortest augmenting paths with dual potentials
// (Jonker–Volgenant style, as in Crouse 2016 / scipy's linear_sum_assignment): O(n^3) worst case, exact on
// floating-point costs (no scaling, no epsilon). Used by AOT to pair noises with images inside a chunk.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace otcs::ot {

struct Assignment {
  std::vector<int64_t> row_to_col;  // -1 for rows left unassigned (more rows than columns)
  double cost = 0;                  // sum of the assigned entries
};

// cost: row-major nr × nc. For nr <= nc every row is assigned a distinct column; for nr > nc every column is
// assigned a distinct row. Throws std::invalid_argument on NaN or -inf entries (+inf means "forbidden"), and
// UserError-free std::runtime_error when no feasible assignment exists.
Assignment solve_assignment(const double* cost, int64_t nr, int64_t nc);

// Tensor front end: any floating dtype, [nr, nc]; returns int64 [nr] (row -> column, -1 if unassigned).
torch::Tensor assign(const torch::Tensor& cost, double* total_cost = nullptr);

}  // namespace otcs::ot
