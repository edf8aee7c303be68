#include "core/ot/assignment.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <torch/torch.h>

namespace otcs::ot {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Solves nr <= nc. c is row-major nr × nc.
std::vector<int64_t> solve_wide(const double* c, int64_t nr, int64_t nc) {
  const auto rows = static_cast<size_t>(nr), cols = static_cast<size_t>(nc);
  std::vector<double> u(rows, 0.0), v(cols, 0.0), shortest(cols);
  std::vector<int64_t> path(cols, -1), col4row(rows, -1), row4col(cols, -1), remaining(cols);
  std::vector<char> visited_row(rows), visited_col(cols);

  for (int64_t cur = 0; cur < nr; ++cur) {
    // Dijkstra over reduced costs from row `cur` to the nearest free column.
    double min_val = 0;
    int64_t n_remaining = nc;
    for (int64_t it = 0; it < nc; ++it) remaining[size_t(it)] = nc - it - 1;
    std::fill(visited_row.begin(), visited_row.end(), 0);
    std::fill(visited_col.begin(), visited_col.end(), 0);
    std::fill(shortest.begin(), shortest.end(), kInf);
    int64_t sink = -1, i = cur;
    while (sink == -1) {
      int64_t index = -1;
      double lowest = kInf;
      visited_row[size_t(i)] = 1;
      const double* row = c + i * nc;
      const double ui = u[size_t(i)];
      for (int64_t it = 0; it < n_remaining; ++it) {
        int64_t j = remaining[size_t(it)];
        double r = min_val + row[j] - ui - v[size_t(j)];
        if (r < shortest[size_t(j)]) {
          path[size_t(j)] = i;
          shortest[size_t(j)] = r;
        }
        // Prefer a free column among ties: it ends the search sooner.
        if (shortest[size_t(j)] < lowest || (shortest[size_t(j)] == lowest && row4col[size_t(j)] == -1)) {
          lowest = shortest[size_t(j)];
          index = it;
        }
      }
      min_val = lowest;
      if (min_val == kInf) throw std::runtime_error("assignment: no feasible assignment (too many forbidden entries)");
      int64_t j = remaining[size_t(index)];
      if (row4col[size_t(j)] == -1)
        sink = j;
      else
        i = row4col[size_t(j)];
      visited_col[size_t(j)] = 1;
      remaining[size_t(index)] = remaining[size_t(--n_remaining)];
    }
    // Update the dual potentials so reduced costs stay non-negative, then augment along the path.
    u[size_t(cur)] += min_val;
    for (int64_t r = 0; r < nr; ++r)
      if (visited_row[size_t(r)] && r != cur) u[size_t(r)] += min_val - shortest[size_t(col4row[size_t(r)])];
    for (int64_t j = 0; j < nc; ++j)
      if (visited_col[size_t(j)]) v[size_t(j)] -= min_val - shortest[size_t(j)];
    for (int64_t j = sink;;) {
      int64_t r = path[size_t(j)];
      row4col[size_t(j)] = r;
      std::swap(col4row[size_t(r)], j);
      if (r == cur) break;
    }
  }
  return col4row;
}

}  // namespace

Assignment solve_assignment(const double* cost, int64_t nr, int64_t nc) {
  Assignment out;
  if (nr == 0 || nc == 0) {
    out.row_to_col.assign(size_t(nr), -1);
    return out;
  }
  for (int64_t k = 0; k < nr * nc; ++k)
    if (std::isnan(cost[k]) || cost[k] == -kInf) throw std::invalid_argument("assignment: cost has NaN or -inf");
  if (nr <= nc) {
    out.row_to_col = solve_wide(cost, nr, nc);
  } else {
    std::vector<double> t(size_t(nr * nc));
    for (int64_t i = 0; i < nr; ++i)
      for (int64_t j = 0; j < nc; ++j) t[size_t(j * nr + i)] = cost[i * nc + j];
    auto col_to_row = solve_wide(t.data(), nc, nr);
    out.row_to_col.assign(size_t(nr), -1);
    for (int64_t j = 0; j < nc; ++j) out.row_to_col[size_t(col_to_row[size_t(j)])] = j;
  }
  for (int64_t i = 0; i < nr; ++i)
    if (out.row_to_col[size_t(i)] >= 0) out.cost += cost[i * nc + out.row_to_col[size_t(i)]];
  return out;
}

torch::Tensor assign(const torch::Tensor& cost, double* total_cost) {
  if (cost.dim() != 2) throw std::invalid_argument("assign: cost must be a matrix");
  auto c = cost.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  auto result = solve_assignment(c.data_ptr<double>(), c.size(0), c.size(1));
  if (total_cost) *total_cost = result.cost;
  return torch::tensor(result.row_to_col, torch::kInt64);
}

}  // namespace otcs::ot
