#include "core/diffusion/wasserstein.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

namespace otcs::diffusion {

namespace {

// Primal network simplex on the complete bipartite graph (sources -> sinks) plus an artificial root joined to
// every node, which gives a feasible first tree. Entering arcs by block search, the leaving arc by the
// strongly-feasible rule (the last blocking arc on the cycle, walking from the apex), so degenerate pivots
// cannot cycle. After each pivot the tree's parents, depths and potentials are recomputed from the root, which
// is O(nodes) and cheap at the sizes this is meant for.
class NetworkSimplex {
 public:
  NetworkSimplex(const std::vector<double>& C, int64_t n, int64_t m, const std::vector<double>& a,
                 const std::vector<double>& b)
      : C_(C), n_(n), m_(m), V_(n + m + 1), root_(n + m) {
    max_c_ = 0;
    for (double c : C_) max_c_ = std::max(max_c_, std::abs(c));
    art_cost_ = (max_c_ + 1.0) * double(V_);
    const int64_t arcs = n * m + n + m;
    flow_.assign(size_t(arcs), 0.0);
    in_tree_.assign(size_t(arcs), 0);
    adj_.assign(size_t(V_), {});
    for (int64_t i = 0; i < n; ++i) add_tree_arc(n * m + i, a[size_t(i)]);
    for (int64_t j = 0; j < m; ++j) add_tree_arc(n * m + n + j, b[size_t(j)]);
    parent_.assign(size_t(V_), -1);
    parent_arc_.assign(size_t(V_), -1);
    depth_.assign(size_t(V_), 0);
    pi_.assign(size_t(V_), 0.0);
    rebuild();
  }

  int64_t solve() {
    const int64_t real = n_ * m_;
    const int64_t block = std::max<int64_t>(16, int64_t(std::sqrt(double(real))));
    const double tol = 1e-12 * (max_c_ + 1.0) * 16;
    int64_t next = 0, pivots = 0;
    while (true) {
      // Block search: the most negative reduced cost in the first block that has one.
      int64_t best = -1;
      double best_rc = -tol;
      int64_t scanned = 0;
      while (scanned < real) {
        const int64_t end = std::min(real, scanned + block);
        for (int64_t k = scanned; k < end; ++k) {
          const int64_t arc = (next + k) % real;
          const int64_t i = arc / m_, j = arc % m_;
          const double rc = C_[size_t(arc)] + pi_[size_t(i)] - pi_[size_t(n_ + j)];
          if (rc < best_rc) {
            best_rc = rc;
            best = arc;
          }
        }
        scanned = end;
        if (best >= 0) break;
      }
      if (best < 0) break;
      next = (next + scanned) % real;
      pivot(best);
      ++pivots;
    }
    return pivots;
  }

  double cost() const {
    double total = 0;
    for (int64_t arc = 0; arc < n_ * m_; ++arc)
      if (flow_[size_t(arc)] > 0) total += flow_[size_t(arc)] * C_[size_t(arc)];
    return total;
  }
  double artificial_flow() const {
    double total = 0;
    for (int64_t arc = n_ * m_; arc < n_ * m_ + n_ + m_; ++arc) total += flow_[size_t(arc)];
    return total;
  }

 private:
  int64_t tail(int64_t arc) const {
    if (arc < n_ * m_) return arc / m_;
    const int64_t k = arc - n_ * m_;
    return k < n_ ? k : root_;
  }
  int64_t head(int64_t arc) const {
    if (arc < n_ * m_) return n_ + arc % m_;
    const int64_t k = arc - n_ * m_;
    return k < n_ ? root_ : n_ + (k - n_);
  }
  double arc_cost(int64_t arc) const { return arc < n_ * m_ ? C_[size_t(arc)] : art_cost_; }

  void add_tree_arc(int64_t arc, double flow) {
    flow_[size_t(arc)] = flow;
    in_tree_[size_t(arc)] = 1;
    adj_[size_t(tail(arc))].push_back(arc);
    adj_[size_t(head(arc))].push_back(arc);
  }
  void remove_tree_arc(int64_t arc) {
    in_tree_[size_t(arc)] = 0;
    for (int64_t node : {tail(arc), head(arc)}) {
      auto& list = adj_[size_t(node)];
      list.erase(std::find(list.begin(), list.end(), arc));
    }
  }

  // Parents, depths and potentials (reduced cost 0 on every tree arc, pi(root) = 0) by a walk from the root.
  void rebuild() {
    std::vector<int64_t> stack = {root_};
    parent_[size_t(root_)] = -1;
    parent_arc_[size_t(root_)] = -1;
    depth_[size_t(root_)] = 0;
    pi_[size_t(root_)] = 0;
    while (!stack.empty()) {
      const int64_t x = stack.back();
      stack.pop_back();
      for (int64_t arc : adj_[size_t(x)]) {
        if (arc == parent_arc_[size_t(x)]) continue;
        const bool out = tail(arc) == x;
        const int64_t y = out ? head(arc) : tail(arc);
        parent_[size_t(y)] = x;
        parent_arc_[size_t(y)] = arc;
        depth_[size_t(y)] = depth_[size_t(x)] + 1;
        pi_[size_t(y)] = out ? pi_[size_t(x)] + arc_cost(arc) : pi_[size_t(x)] - arc_cost(arc);
        stack.push_back(y);
      }
    }
  }

  void pivot(int64_t entering) {
    const int64_t u = tail(entering), v = head(entering);
    int64_t a = u, b = v;
    while (depth_[size_t(a)] > depth_[size_t(b)]) a = parent_[size_t(a)];
    while (depth_[size_t(b)] > depth_[size_t(a)]) b = parent_[size_t(b)];
    while (a != b) {
      a = parent_[size_t(a)];
      b = parent_[size_t(b)];
    }
    const int64_t apex = a;
    // The cycle in its orientation: apex down to u, the entering arc u -> v, then v up to the apex.
    struct Step {
      int64_t arc;
      bool forward;
    };
    std::vector<Step> cycle, down;
    for (int64_t y = u; y != apex; y = parent_[size_t(y)]) {
      const int64_t arc = parent_arc_[size_t(y)];
      down.push_back({arc, tail(arc) == parent_[size_t(y)]});
    }
    cycle.assign(down.rbegin(), down.rend());
    cycle.push_back({entering, true});
    for (int64_t x = v; x != apex; x = parent_[size_t(x)]) {
      const int64_t arc = parent_arc_[size_t(x)];
      cycle.push_back({arc, tail(arc) == x});
    }
    double delta = std::numeric_limits<double>::infinity();
    for (const auto& s : cycle)
      if (!s.forward) delta = std::min(delta, flow_[size_t(s.arc)]);
    int64_t leaving = -1;
    for (const auto& s : cycle)
      if (!s.forward && flow_[size_t(s.arc)] <= delta) leaving = s.arc;  // the last blocking arc
    if (leaving < 0) throw std::runtime_error("exact_transport: unbounded cycle (internal error)");
    for (const auto& s : cycle) {
      double& f = flow_[size_t(s.arc)];
      f = s.forward ? f + delta : f - delta;
      if (f < 0) f = 0;
    }
    flow_[size_t(leaving)] = 0;
    remove_tree_arc(leaving);
    add_tree_arc(entering, flow_[size_t(entering)]);
    rebuild();
  }

  const std::vector<double>& C_;
  int64_t n_, m_, V_, root_;
  double max_c_ = 0, art_cost_ = 0;
  std::vector<double> flow_;
  std::vector<char> in_tree_;
  std::vector<std::vector<int64_t>> adj_;
  std::vector<int64_t> parent_, parent_arc_, depth_;
  std::vector<double> pi_;
};

}  // namespace

TransportSolution exact_transport(const std::vector<double>& C, int64_t n, int64_t m, std::vector<double> a,
                                  std::vector<double> b) {
  if (n < 1 || m < 1 || int64_t(C.size()) != n * m || int64_t(a.size()) != n || int64_t(b.size()) != m)
    throw std::invalid_argument("exact_transport: inconsistent sizes");
  const double sa = std::accumulate(a.begin(), a.end(), 0.0), sb = std::accumulate(b.begin(), b.end(), 0.0);
  if (!(sa > 0) || !(sb > 0)) throw std::invalid_argument("exact_transport: weights must have a positive sum");
  for (double w : a)
    if (!(w >= 0)) throw std::invalid_argument("exact_transport: negative or NaN weight");
  for (double w : b)
    if (!(w >= 0)) throw std::invalid_argument("exact_transport: negative or NaN weight");
  // Points without mass are dropped: the first tree must carry positive flow on every arc.
  std::vector<int64_t> keep_i, keep_j;
  for (int64_t i = 0; i < n; ++i)
    if (a[size_t(i)] > 0) keep_i.push_back(i);
  for (int64_t j = 0; j < m; ++j)
    if (b[size_t(j)] > 0) keep_j.push_back(j);
  const int64_t n2 = int64_t(keep_i.size()), m2 = int64_t(keep_j.size());
  std::vector<double> C2(static_cast<size_t>(n2 * m2)), a2(static_cast<size_t>(n2)), b2(static_cast<size_t>(m2));
  for (int64_t i = 0; i < n2; ++i) {
    a2[size_t(i)] = a[size_t(keep_i[size_t(i)])] / sa;
    for (int64_t j = 0; j < m2; ++j) C2[size_t(i * m2 + j)] = C[size_t(keep_i[size_t(i)] * m + keep_j[size_t(j)])];
  }
  // Equal totals up to rounding: the last sink absorbs the difference.
  double total_b = 0;
  for (int64_t j = 0; j < m2; ++j) total_b += (b2[size_t(j)] = b[size_t(keep_j[size_t(j)])] / sb);
  double total_a = 0;
  for (double w : a2) total_a += w;
  b2[size_t(m2 - 1)] = std::max(0.0, b2[size_t(m2 - 1)] + (total_a - total_b));
  NetworkSimplex simplex(C2, n2, m2, a2, b2);
  TransportSolution out;
  out.pivots = simplex.solve();
  if (simplex.artificial_flow() > 1e-9) throw std::runtime_error("exact_transport: no feasible plan found");
  out.cost = simplex.cost();
  return out;
}

double wasserstein2(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& a, const torch::Tensor& b) {
  if (x.dim() != 2 || y.dim() != 2 || x.size(1) != y.size(1))
    throw std::invalid_argument("wasserstein2: expected [n, d] and [m, d] point sets");
  auto xd = x.to(torch::kFloat64), yd = y.to(torch::kFloat64);
  auto C = (xd.pow(2).sum(1, true) + yd.pow(2).sum(1).unsqueeze(0) - 2.0 * xd.matmul(yd.t())).clamp_min(0).contiguous();
  const int64_t n = x.size(0), m = y.size(0);
  std::vector<double> cv(C.data_ptr<double>(), C.data_ptr<double>() + n * m);
  auto weights = [](const torch::Tensor& w, int64_t k) {
    if (!w.defined()) return std::vector<double>(size_t(k), 1.0);
    auto wd = w.to(torch::kFloat64).contiguous();
    if (wd.numel() != k) throw std::invalid_argument("wasserstein2: weight count differs from point count");
    return std::vector<double>(wd.data_ptr<double>(), wd.data_ptr<double>() + k);
  };
  auto sol = exact_transport(cv, n, m, weights(a, n), weights(b, m));
  return std::sqrt(std::max(0.0, sol.cost));
}

}  // namespace otcs::diffusion
