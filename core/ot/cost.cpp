#include "core/ot/cost.h"

#include <stdexcept>

#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::ot {

namespace {

torch::ScalarType common_dtype(const torch::Tensor& x, const torch::Tensor& y) {
  return (x.scalar_type() == torch::kFloat64 || y.scalar_type() == torch::kFloat64) ? torch::kFloat64 : torch::kFloat32;
}

void check_pair(const torch::Tensor& x, const torch::Tensor& y) {
  if (x.dim() != 2 || y.dim() != 2) throw std::invalid_argument("cost: inputs must be 2-D [samples, features]");
  if (x.size(1) != y.size(1))
    throw std::invalid_argument(fmt::format("cost: feature dimensions differ ({} vs {})", x.size(1), y.size(1)));
}

// Rows scaled to unit length; a zero row stays zero (its cosine with anything is then 0, the cost 1).
torch::Tensor normalise_rows(const torch::Tensor& x) {
  auto norm = x.norm(2, {1}, true).clamp_min(1e-12);
  return x / norm;
}

}  // namespace

CostTiler::CostTiler(torch::Tensor target, CostKind kind, torch::ScalarType dtype) : kind_(kind), dtype_(dtype) {
  if (target.dim() != 2) throw std::invalid_argument("cost: target must be 2-D [samples, features]");
  target_ = target.to(dtype_).contiguous();
  if (kind_ == CostKind::Cosine) target_ = normalise_rows(target_).contiguous();
  if (kind_ != CostKind::L1) target_t_ = target_.t().contiguous();
  if (kind_ == CostKind::L2 || kind_ == CostKind::SqEuclidean) target_sq_ = target_.pow(2).sum(1);
}

torch::Tensor CostTiler::operator()(const torch::Tensor& x) const {
  torch::Tensor out;
  compute_into(x, out);
  return out;
}

void CostTiler::compute_into(const torch::Tensor& x_in, torch::Tensor& out) const {
  check_pair(x_in, target_);
  auto x = x_in.to(dtype_);
  const int64_t n = x.size(0), m = target_.size(0), d = target_.size(1);
  if (!out.defined() || out.scalar_type() != dtype_)
    out = torch::empty({n, m}, torch::TensorOptions().dtype(dtype_));
  else
    out.resize_({n, m});
  if (n == 0 || m == 0) return;
  const double scale = (kind_ == CostKind::L2 || kind_ == CostKind::L1) ? 1.0 / double(d) : 1.0;
  switch (kind_) {
    case CostKind::L2:
    case CostKind::SqEuclidean: {
      // |x|^2 + |y|^2 - 2 x.y; cancellation can leave tiny negatives for near-equal rows, hence the clamp.
      auto x_sq = x.pow(2).sum(1, true);
      torch::addmm_out(out, target_sq_.unsqueeze(0), x, target_t_, 1.0, -2.0);
      out.add_(x_sq).clamp_min_(0.0);
      if (scale != 1.0) out.mul_(scale);
      break;
    }
    case CostKind::Cosine: {
      auto xn = normalise_rows(x);
      torch::mm_out(out, xn, target_t_);
      out.neg_().add_(1.0);
      break;
    }
    case CostKind::L1: {
      // cdist(p=1) streams over d without the n x m x d intermediate.
      out.copy_(torch::cdist(x.contiguous(), target_, 1.0));
      out.mul_(scale);
      break;
    }
  }
}

torch::Tensor cost_matrix(const torch::Tensor& x, const torch::Tensor& y, CostKind kind) {
  check_pair(x, y);
  CostTiler tiler(y, kind, common_dtype(x, y));
  return tiler(x);
}

void for_each_cost_tile(const torch::Tensor& x, const torch::Tensor& y, CostKind kind, int64_t tile_rows,
                        const std::function<void(int64_t, const torch::Tensor&)>& fn) {
  check_pair(x, y);
  if (tile_rows <= 0) throw std::invalid_argument("cost: tile_rows must be positive");
  CostTiler tiler(y, kind, common_dtype(x, y));
  torch::Tensor buffer;
  for (int64_t begin = 0; begin < x.size(0); begin += tile_rows) {
    const int64_t end = std::min(x.size(0), begin + tile_rows);
    tiler.compute_into(x.slice(0, begin, end), buffer);
    fn(begin, buffer);
  }
}

}  // namespace otcs::ot
