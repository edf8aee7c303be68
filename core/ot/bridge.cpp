#include "core/ot/bridge.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::ot {

EmptyRowPolicy parse_empty_row_policy(const std::string& name) {
  if (name == "keep_empty") return EmptyRowPolicy::KeepEmpty;
  if (name == "next_source") return EmptyRowPolicy::NextSource;
  if (name == "nearest") return EmptyRowPolicy::Nearest;
  fail("unknown empty-row policy '{}' (expected keep_empty, next_source or nearest)", name);
}

std::string empty_row_policy_name(EmptyRowPolicy p) {
  switch (p) {
    case EmptyRowPolicy::KeepEmpty: return "keep_empty";
    case EmptyRowPolicy::NextSource: return "next_source";
    case EmptyRowPolicy::Nearest: return "nearest";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Scans one tile of V = u_i + v_j - G_ij (rows [row0, row0 + rows)) and appends the kept entries.
template <typename T>
struct TileScanner {
  const BridgeOptions& opt;
  const T* u;            // [n]
  const T* v;            // [m]
  const int64_t* sp;     // source pair ids or nullptr (mask not applied)
  const int64_t* tp;
  int64_t m;
  bool clamp_cost;       // V = min(V, u + v): the cost was clamped at 0 (GEMM identity)

  // Appends this tile's rows to indices/values/row_counts; returns nothing, records empty rows.
  void scan(const torch::Tensor& V_tile, int64_t row0, std::vector<int64_t>& indices, std::vector<float>& values,
            std::vector<int64_t>& row_counts, std::vector<int64_t>& empty_rows) const {
    const int64_t rows = V_tile.size(0);
    const T* V = V_tile.data_ptr<T>();
    const double inv2eps = 1.0 / (2.0 * opt.epsilon);
    const double thr = opt.threshold;
    const int64_t cap = opt.row_cap;
    std::vector<int64_t> count(static_cast<size_t>(rows)), best(static_cast<size_t>(rows));
    auto value_at = [&](int64_t i, const T* row, int64_t j, bool& allowed) -> double {
      allowed = !sp || sp[i] == tp[j];
      double val = double(row[j]);
      if (clamp_cost) val = std::min(val, double(u[i]) + double(v[j]));
      return val;
    };
    at::parallel_for(0, rows, 16, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t i = row0 + r;
        const T* row = V + r * m;
        int64_t c = 0, arg = -1;
        double vmax = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < m; ++j) {
          bool allowed;
          const double val = value_at(i, row, j, allowed);
          if (!allowed) continue;
          if (val > vmax) vmax = val, arg = j;
          if (val * inv2eps > thr) ++c;
        }
        count[size_t(r)] = c;
        best[size_t(r)] = arg;
      }
    });
    std::vector<int64_t> offset(size_t(rows) + 1, 0);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t keep = count[size_t(r)];
      if (cap > 0) keep = std::min(keep, cap);
      if (keep == 0) {
        empty_rows.push_back(row0 + r);
        if (opt.empty_rows == EmptyRowPolicy::Nearest && best[size_t(r)] >= 0) keep = 1;
      }
      offset[size_t(r) + 1] = offset[size_t(r)] + keep;
      row_counts.push_back(keep);
    }
    const size_t base = indices.size();
    indices.resize(base + size_t(offset.back()));
    values.resize(base + size_t(offset.back()));
    at::parallel_for(0, rows, 16, [&](int64_t b, int64_t e) {
      std::vector<std::pair<float, int64_t>> cand;
      for (int64_t r = b; r < e; ++r) {
        const int64_t i = row0 + r;
        const T* row = V + r * m;
        int64_t* out_j = indices.data() + base + offset[size_t(r)];
        float* out_h = values.data() + base + offset[size_t(r)];
        const int64_t keep = offset[size_t(r) + 1] - offset[size_t(r)];
        if (keep == 0) continue;
        if (count[size_t(r)] == 0) {  // the nearest policy's single placeholder entry
          out_j[0] = best[size_t(r)];
          out_h[0] = float(thr);
          continue;
        }
        const bool capped = cap > 0 && count[size_t(r)] > cap;
        cand.clear();
        int64_t k = 0;
        for (int64_t j = 0; j < m; ++j) {
          bool allowed;
          const double val = value_at(i, row, j, allowed);
          if (!allowed) continue;
          const double h = val * inv2eps;
          if (!(h > thr)) continue;
          if (capped) {
            cand.emplace_back(float(h), j);
          } else {
            out_j[k] = j;
            out_h[k] = float(h);
            ++k;
          }
        }
        if (capped) {
          // The cap largest, ties to the lower column; then back to column order for CSR.
          std::nth_element(cand.begin(), cand.begin() + cap - 1, cand.end(), [](const auto& a, const auto& b2) {
            return a.first > b2.first || (a.first == b2.first && a.second < b2.second);
          });
          cand.resize(size_t(cap));
          std::sort(cand.begin(), cand.end(), [](const auto& a, const auto& b2) { return a.second < b2.second; });
          for (int64_t t = 0; t < cap; ++t) out_j[t] = cand[size_t(t)].second, out_h[t] = cand[size_t(t)].first;
        }
      }
    });
  }
};

template <typename T>
BridgeResult run_bridge(const torch::Tensor& u_in, const torch::Tensor& v_in, const torch::Tensor& source,
                        const torch::Tensor& target, const BridgeOptions& opt) {
  const auto dtype = opt.dtype;
  const int64_t n = source.size(0), m = target.size(0), d = source.size(1);
  auto t0 = Clock::now();
  BridgeResult res;
  res.u = u_in;
  res.v = v_in;
  auto u = u_in.to(dtype).contiguous(), v = v_in.to(dtype).contiguous();
  const bool guided = opt.guidance != nullptr;
  const bool gemm_l2 = !guided && (opt.cost == CostKind::L2 || opt.cost == CostKind::SqEuclidean);
  const bool gemm_cos = !guided && opt.cost == CostKind::Cosine;
  const double scale = opt.cost == CostKind::L2 ? 1.0 / double(d) : 1.0;

  int64_t tile = opt.tile_rows;
  if (tile <= 0) tile = std::max<int64_t>(1, (int64_t(16) << 20) / std::max<int64_t>(1, m * int64_t(sizeof(T))));
  tile = std::min(tile, std::max<int64_t>(n, 1));

  // Target-side terms once: for l2, V = (u_i - s|x_i|^2) + (v_j - s|y_j|^2) + 2 s x_i.y_j is one GEMM onto a
  // broadcast row; for cosine, V = (u_i - 1) + v_j + xn_i.yn_j.
  torch::Tensor yt, row_term, tgt;
  std::unique_ptr<CostTiler> tiler;
  if (gemm_l2 || gemm_cos) {
    tgt = target.to(dtype);
    if (gemm_cos) tgt = tgt / tgt.norm(2, {1}, true).clamp_min(1e-12);
    yt = tgt.t().contiguous();
    row_term = gemm_l2 ? (v - scale * tgt.pow(2).sum(1)).unsqueeze(0).contiguous() : v.unsqueeze(0).contiguous();
  } else if (!guided || opt.guidance->options().alpha != 1.0) {
    tiler = std::make_unique<CostTiler>(target, opt.cost, dtype);
  }

  const int64_t* sp = nullptr;
  const int64_t* tp = nullptr;
  torch::Tensor spc, tpc;
  if (guided && opt.apply_mask) {
    spc = opt.guidance->source_pair_id().contiguous();
    tpc = opt.guidance->target_pair_id().contiguous();
    sp = spc.data_ptr<int64_t>();
    tp = tpc.data_ptr<int64_t>();
  }
  TileScanner<T> scanner{opt, u.data_ptr<T>(), v.data_ptr<T>(), sp, tp, m, gemm_l2};

  std::vector<int64_t> indices, row_counts, empty;
  std::vector<float> values;
  row_counts.reserve(size_t(n));
  auto buffer = torch::empty({tile, m}, torch::TensorOptions().dtype(dtype));
  torch::Tensor cost_buf;
  for (int64_t b = 0; b < n; b += tile) {
    const int64_t e = std::min(n, b + tile);
    auto V = buffer.narrow(0, 0, e - b);
    auto ucol = u.slice(0, b, e).unsqueeze(1);
    if (gemm_l2 || gemm_cos) {
      auto x = source.slice(0, b, e).to(dtype);
      if (gemm_cos) x = x / x.norm(2, {1}, true).clamp_min(1e-12);
      torch::addmm_out(V, row_term, x, yt, 1.0, gemm_l2 ? 2.0 * scale : 1.0);
      if (gemm_l2) V.add_(ucol - scale * x.pow(2).sum(1, true));
      else V.add_(ucol - 1.0);
    } else {
      torch::Tensor Cb;
      if (tiler) {
        tiler->compute_into(source.slice(0, b, e), cost_buf);
        Cb = cost_buf;
      }
      torch::Tensor G = guided ? opt.guidance->guided_cost(torch::arange(b, e, torch::kInt64), {}, Cb, dtype) : Cb;
      // V = u_i + v_j - G
      torch::sub_out(V, v.unsqueeze(0), G);
      V.add_(ucol);
    }
    scanner.scan(V, b, indices, values, row_counts, empty);
  }

  res.H.rows = n;
  res.H.cols = m;
  auto counts = torch::tensor(row_counts, torch::kInt64);
  res.H.indptr = torch::cat({torch::zeros({1}, torch::kInt64), counts.cumsum(0)});
  res.H.indices = torch::tensor(indices, torch::kInt64);
  res.H.values = torch::tensor(values, torch::kFloat32);
  res.empty_rows = empty;

  res.redirect = torch::arange(n, torch::kInt64);
  auto rd = res.redirect.data_ptr<int64_t>();
  if (!empty.empty()) {
    if (opt.empty_rows == EmptyRowPolicy::KeepEmpty) {
      for (auto i : empty) rd[i] = -1;
    } else if (opt.empty_rows == EmptyRowPolicy::NextSource) {
      // Released rule: __getitem__(i) falls through to (i + 1) mod N until a row has entries.
      const int64_t* ip = res.H.indptr.data_ptr<int64_t>();
      int64_t next = -1;
      for (int64_t pass = 0; pass < 2; ++pass)
        for (int64_t i = n - 1; i >= 0; --i) {
          if (ip[i + 1] > ip[i]) next = i;
          else rd[i] = next;
        }
    }
    spdlog::warn("bridge: {} of {} source rows have no H entry above {} (policy {}{})", empty.size(), n,
                 opt.threshold, empty_row_policy_name(opt.empty_rows),
                 opt.empty_rows == EmptyRowPolicy::NextSource ? ": those sources are replaced by the next one" : "");
  }
  res.seconds_h = since(t0);
  return res;
}

}  // namespace

BridgeResult bridge_from_potentials(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& source,
                                    const torch::Tensor& target, const BridgeOptions& options) {
  if (source.dim() != 2 || target.dim() != 2 || source.size(1) != target.size(1))
    throw std::invalid_argument("bridge: source and target must be [n, d] and [m, d]");
  if (u.dim() != 1 || v.dim() != 1 || u.size(0) != source.size(0) || v.size(0) != target.size(0))
    throw std::invalid_argument("bridge: u must be [n] and v [m]");
  if (!(options.epsilon > 0)) throw std::invalid_argument("bridge: epsilon must be positive");
  if (options.dtype != torch::kFloat32 && options.dtype != torch::kFloat64)
    throw std::invalid_argument("bridge: dtype must be float32 or float64");
  if (options.guidance && (options.guidance->source_pair_id().numel() != source.size(0) ||
                           options.guidance->target_pair_id().numel() != target.size(0)))
    throw std::invalid_argument("bridge: the guidance was built for other sets");
  torch::NoGradGuard no_grad;
  if (options.dtype == torch::kFloat64) return run_bridge<double>(u, v, source, target, options);
  return run_bridge<float>(u, v, source, target, options);
}

BridgeResult compute_bridge(Potential& u, Potential& v, const torch::Tensor& source, const torch::Tensor& target,
                            const BridgeOptions& options) {
  auto t0 = Clock::now();
  auto uu = evaluate_potential(u, source, options.potential_chunk);
  auto vv = evaluate_potential(v, target, options.potential_chunk);
  const double tp = since(t0);
  auto res = bridge_from_potentials(uu, vv, source, target, options);
  res.seconds_potentials = tp;
  return res;
}

}  // namespace otcs::ot
