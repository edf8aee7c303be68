#include "core/ot/keypoints.h"

#include <charconv>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/file.h"

namespace otcs::ot {

torch::Tensor relation_vectors(const torch::Tensor& x, const torch::Tensor& keypoints, CostKind cost, double tau) {
  if (!(tau > 0)) throw std::invalid_argument("relation_vectors: tau must be positive");
  if (keypoints.dim() != 2 || keypoints.size(0) == 0)
    throw std::invalid_argument("relation_vectors: need at least one keypoint");
  torch::NoGradGuard no_grad;
  auto C = cost_matrix(x, keypoints, cost);
  return torch::softmax(-C / tau, 1);
}

namespace {
torch::Tensor js_impl(const torch::Tensor& P, const torch::Tensor& Q, torch::ScalarType dtype) {
  if (P.dim() != 2 || Q.dim() != 2 || P.size(1) != Q.size(1))
    throw std::invalid_argument("js_matrix: expected P [n, K] and Q [m, K]");
  torch::NoGradGuard no_grad;
  auto p = P.to(dtype), q = Q.to(dtype);
  // JS = 1/2 [sum_k p log(p+s) + sum_k q log(q+s) - sum_k (p+q) log((p+q)/2 + s)]: the first two terms are
  // per row / per column, only the last needs the n x m x K loop (done one k at a time to stay n x m).
  auto a = (p * (p + kJsSmoothing).log()).sum(1);
  auto b = (q * (q + kJsSmoothing).log()).sum(1);
  auto out = a.unsqueeze(1) + b.unsqueeze(0);
  torch::Tensor t, lg;
  for (int64_t k = 0; k < p.size(1); ++k) {
    t = p.select(1, k).unsqueeze(1) + q.select(1, k).unsqueeze(0);
    lg = t.mul(0.5).add_(kJsSmoothing).log_();
    out.sub_(t.mul_(lg));
  }
  return out.mul_(0.5);
}
}  // namespace

torch::Tensor js_matrix(const torch::Tensor& P, const torch::Tensor& Q) {
  auto dtype =
      (P.scalar_type() == torch::kFloat64 || Q.scalar_type() == torch::kFloat64) ? torch::kFloat64 : torch::kFloat32;
  return js_impl(P, Q, dtype);
}

torch::Tensor keypoint_mask(const torch::Tensor& source_pair_id, const torch::Tensor& target_pair_id,
                            torch::ScalarType dtype) {
  // Equal ids means either both -1 (neither is a keypoint) or the same pair; anything else is masked out.
  return source_pair_id.unsqueeze(1).eq(target_pair_id.unsqueeze(0)).to(dtype);
}

void validate_keypoints(const KeypointPairs& kp, int64_t n_source, int64_t n_target, const std::string& what) {
  if (kp.size() == 0) fail("{}: no keypoint pairs", what);
  if (kp.source_index.numel() != kp.target_index.numel())
    fail("{}: source and target keypoint lists differ in length", what);
  auto s = kp.source_index.to(torch::kInt64).contiguous();
  auto t = kp.target_index.to(torch::kInt64).contiguous();
  const int64_t* sp = s.data_ptr<int64_t>();
  const int64_t* tp = t.data_ptr<int64_t>();
  std::vector<char> seen_s(size_t(std::max<int64_t>(n_source, 0)), 0),
      seen_t(size_t(std::max<int64_t>(n_target, 0)), 0);
  for (int64_t k = 0; k < s.numel(); ++k) {
    if (sp[k] < 0 || sp[k] >= n_source)
      fail("{}: pair {}: source index {} is out of range (the source has {} samples)", what, k + 1, sp[k], n_source);
    if (tp[k] < 0 || tp[k] >= n_target)
      fail("{}: pair {}: target index {} is out of range (the target has {} samples)", what, k + 1, tp[k], n_target);
    if (seen_s[size_t(sp[k])]++) fail("{}: pair {}: source index {} is used by two pairs", what, k + 1, sp[k]);
    if (seen_t[size_t(tp[k])]++) fail("{}: pair {}: target index {} is used by two pairs", what, k + 1, tp[k]);
  }
}

KeypointPairs read_keypoints_csv(const std::string& path, int64_t n_source, int64_t n_target) {
  const std::string text = io::read_file(path);
  std::vector<int64_t> src, tgt;
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  auto parse_int = [&](std::string field, int64_t& out) {
    const auto b = field.find_first_not_of(" \t\r");
    const auto e = field.find_last_not_of(" \t\r");
    if (b == std::string::npos) return false;
    field = field.substr(b, e - b + 1);
    auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
    return ec == std::errc() && ptr == field.data() + field.size();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto comma = line.find(',');
    if (comma == std::string::npos || line.find(',', comma + 1) != std::string::npos)
      fail("{}: line {}: expected 'source_index,target_index'", path, line_no);
    int64_t a = 0, b = 0;
    if (!parse_int(line.substr(0, comma), a) || !parse_int(line.substr(comma + 1), b))
      fail("{}: line {}: indices must be integers", path, line_no);
    src.push_back(a);
    tgt.push_back(b);
  }
  KeypointPairs kp;
  kp.source_index = torch::tensor(src, torch::kInt64);
  kp.target_index = torch::tensor(tgt, torch::kInt64);
  validate_keypoints(kp, n_source, n_target, path);
  return kp;
}

torch::Tensor propagation_relations(const torch::Tensor& x, const torch::Tensor& keypoint_rows, int64_t neighbors,
                                    double alpha, int64_t iterations) {
  torch::NoGradGuard no_grad;
  const int64_t n = x.size(0), K = keypoint_rows.numel();
  const int64_t k = std::max<int64_t>(1, std::min<int64_t>(neighbors, n - 1));
  auto xn = torch::nn::functional::normalize(x.to(torch::kFloat32).reshape({n, -1}),
                                             torch::nn::functional::NormalizeFuncOptions().dim(1));
  std::vector<torch::Tensor> sims, cols;
  const int64_t block = 2048;
  for (int64_t b = 0; b < n; b += block) {
    const int64_t len = std::min(block, n - b);
    auto S = xn.narrow(0, b, len).mm(xn.t());
    auto self = torch::arange(len, torch::kInt64);
    S.index_put_({self, self + b}, -2.0f);  // a sample is not its own neighbour
    auto [v, i] = S.topk(k, 1);
    sims.push_back(v);
    cols.push_back(i);
  }
  auto V = torch::cat(sims), I = torch::cat(cols);
  // Self-tuning heat kernel: the k-th neighbour's cosine distance sets each row's scale.
  auto scale = (1 - V.select(1, k - 1)).clamp_min(1e-6).unsqueeze(1);
  auto w = torch::exp(-(1 - V) / scale).flatten();
  auto rows = torch::arange(n, torch::kInt64).repeat_interleave(k);
  auto cidx = I.flatten();
  // Symmetric W = (W_knn + W_knn^T) / 2, normalised S = D^-1/2 W D^-1/2; products by index_add (nnz = 2 n k).
  auto r_all = torch::cat({rows, cidx}), c_all = torch::cat({cidx, rows});
  auto w_all = torch::cat({w, w}) * 0.5;
  auto deg = torch::zeros({n}, torch::kFloat32).index_add_(0, r_all, w_all);
  auto dinv = deg.clamp_min(1e-12).rsqrt();
  auto s_all = (w_all * dinv.index_select(0, r_all) * dinv.index_select(0, c_all)).unsqueeze(1);
  auto Y = torch::zeros({n, K}, torch::kFloat32);
  Y.index_put_({keypoint_rows.to(torch::kInt64), torch::arange(K, torch::kInt64)}, 1.0f);
  auto F = Y.clone();
  for (int64_t it = 0; it < iterations; ++it) {
    auto SF = torch::zeros({n, K}, torch::kFloat32).index_add_(0, r_all, F.index_select(0, c_all) * s_all);
    F = SF.mul_(alpha).add_(Y, 1.0 - alpha);
  }
  auto R = F.clamp_min(0).to(torch::kFloat64);
  auto sum = R.sum(1, true);
  // A sample the graph never reached (a disconnected component) relates to every keypoint equally.
  R = torch::where(sum > 1e-30, R / sum.clamp_min(1e-30), torch::full_like(R, 1.0 / double(K)));
  return R;
}

KeypointGuidance::KeypointGuidance(const torch::Tensor& source, const torch::Tensor& target, KeypointPairs pairs,
                                   GuidanceOptions options)
    : pairs_(std::move(pairs)), options_(options) {
  validate_keypoints(pairs_, source.size(0), target.size(0), "keypoints");
  if (!(options_.tau > 0)) throw std::invalid_argument("guidance: tau must be positive");
  const double tau_t = options_.tau_target > 0 ? options_.tau_target : options_.tau;
  auto src64 = source.to(torch::kFloat64), tgt64 = target.to(torch::kFloat64);
  if (options_.relation == GuidanceOptions::Relation::Propagation) {
    rs_ = propagation_relations(source, pairs_.source_index, options_.neighbors, options_.propagation_alpha,
                                options_.propagation_iterations);
    rt_ = propagation_relations(target, pairs_.target_index, options_.neighbors, options_.propagation_alpha,
                                options_.propagation_iterations);
  } else {
    rs_ = relation_vectors(src64, src64.index_select(0, pairs_.source_index), options_.cost, options_.tau);
    rt_ = relation_vectors(tgt64, tgt64.index_select(0, pairs_.target_index), options_.cost, tau_t);
  }
  const int64_t K = pairs_.size();
  source_pair_ = torch::full({source.size(0)}, -1, torch::kInt64);
  target_pair_ = torch::full({target.size(0)}, -1, torch::kInt64);
  source_pair_.index_put_({pairs_.source_index}, torch::arange(K, torch::kInt64));
  target_pair_.index_put_({pairs_.target_index}, torch::arange(K, torch::kInt64));
}

torch::Tensor KeypointGuidance::guided_cost(const torch::Tensor& si, const torch::Tensor& ti, const torch::Tensor& C,
                                            torch::ScalarType dtype) const {
  auto P = si.defined() ? rs_.index_select(0, si) : rs_;
  auto Q = ti.defined() ? rt_.index_select(0, ti) : rt_;
  auto g = js_impl(P, Q, dtype);
  const double alpha = options_.alpha;
  if (alpha == 1.0) return g;
  if (!C.defined() || C.sizes() != g.sizes())
    throw std::invalid_argument("guidance: alpha < 1 needs the ground cost of the same rows");
  return g.mul_(alpha).add_(C.to(dtype), 1.0 - alpha);
}

torch::Tensor KeypointGuidance::mask(const torch::Tensor& si, const torch::Tensor& ti, torch::ScalarType dtype) const {
  auto a = si.defined() ? source_pair_.index_select(0, si) : source_pair_;
  auto b = ti.defined() ? target_pair_.index_select(0, ti) : target_pair_;
  return keypoint_mask(a, b, dtype);
}

}  // namespace otcs::ot
