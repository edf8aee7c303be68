#include "core/data/pair_sampler.h"

#include <algorithm>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/common/error.h"

namespace otcs::data {

PairMode parse_pair_mode(const std::string& name) {
  if (name == "otcs") return PairMode::Otcs;
  if (name == "paired") return PairMode::Paired;
  if (name == "independent") return PairMode::Independent;
  fail("unknown pair mode '{}' (expected otcs, paired or independent)", name);
}

std::string pair_mode_name(PairMode mode) {
  switch (mode) {
    case PairMode::Otcs:
      return "otcs";
    case PairMode::Paired:
      return "paired";
    case PairMode::Independent:
      return "independent";
  }
  return "?";
}

PairSampler::PairSampler(PairMode mode, int64_t n_source, int64_t n_target, uint64_t seed, const ot::SparseMatrix* H,
                         torch::Tensor redirect)
    : mode_(mode), n_(n_source), m_(n_target), gen_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  if (n_ < 1 || m_ < 1) fail("the pair sampler needs non-empty source and target sets");
  if (mode_ == PairMode::Paired && n_ != m_)
    fail("paired mode needs as many targets as sources (got {} and {})", n_, m_);
  row_of_.resize(size_t(n_));
  for (int64_t i = 0; i < n_; ++i) row_of_[size_t(i)] = i;
  if (mode_ == PairMode::Otcs) {
    if (!H) throw std::invalid_argument("otcs mode needs the compatibility matrix H");
    if (H->rows != n_ || H->cols != m_)
      fail("H is {}x{} but there are {} sources and {} targets", H->rows, H->cols, n_, m_);
    auto ip = H->indptr.to(torch::kInt64).contiguous();
    auto ix = H->indices.to(torch::kInt64).contiguous();
    auto vals = H->values.to(torch::kFloat64).contiguous();
    indptr_.assign(ip.data_ptr<int64_t>(), ip.data_ptr<int64_t>() + ip.numel());
    indices_.assign(ix.data_ptr<int64_t>(), ix.data_ptr<int64_t>() + ix.numel());
    cumulative_.resize(indices_.size());
    const double* v = vals.data_ptr<double>();
    for (int64_t r = 0; r < n_; ++r) {
      double acc = 0;
      for (int64_t k = indptr_[size_t(r)]; k < indptr_[size_t(r) + 1]; ++k) {
        if (!(v[k] >= 0)) fail("H has a negative or NaN entry in row {}", r);
        acc += v[k];
        cumulative_[size_t(k)] = acc;
      }
    }
    torch::Tensor red;
    if (redirect.defined()) {
      red = redirect.to(torch::kInt64).contiguous();
      if (red.numel() != n_) fail("the redirect table has {} rows, H has {}", red.numel(), n_);
    }
    for (int64_t i = 0; i < n_; ++i) {
      int64_t r = red.defined() ? red[i].item<int64_t>() : i;
      const bool has_entries = r >= 0 && r < n_ && indptr_[size_t(r) + 1] > indptr_[size_t(r)] &&
                               cumulative_[size_t(indptr_[size_t(r) + 1] - 1)] > 0;
      row_of_[size_t(i)] = has_entries ? r : -1;
    }
  }
  usable_ = std::count_if(row_of_.begin(), row_of_.end(), [](int64_t r) { return r >= 0; });
  if (usable_ == 0)
    fail("H has no usable row: no source has a compatible target (raise epsilon or lower the threshold)");
  new_epoch();
}

void PairSampler::new_epoch() {
  perm_ = torch::randperm(n_, gen_, torch::kInt64);
  cursor_ = 0;
  ++epoch_;
}

int64_t PairSampler::draw_target(int64_t row, double u) const {
  const auto b = indptr_[size_t(row)], e = indptr_[size_t(row) + 1];
  const double target = u * cumulative_[size_t(e - 1)];
  auto it = std::upper_bound(cumulative_.begin() + b, cumulative_.begin() + e, target);
  if (it == cumulative_.begin() + e) --it;  // u * total rounding up to the total
  return indices_[size_t(it - cumulative_.begin())];
}

std::pair<torch::Tensor, torch::Tensor> PairSampler::next(int64_t batch) {
  std::vector<int64_t> src, tgt;
  src.reserve(size_t(batch));
  while (int64_t(src.size()) < batch) {
    if (cursor_ >= n_) new_epoch();
    const int64_t i = perm_[cursor_++].item<int64_t>();
    const int64_t r = row_of_[size_t(i)];
    if (r < 0) continue;
    src.push_back(r);
  }
  auto src_t = torch::tensor(src, torch::kInt64);
  switch (mode_) {
    case PairMode::Otcs: {
      auto u = torch::rand({batch}, gen_, torch::kFloat64);
      auto acc = u.accessor<double, 1>();
      tgt.resize(size_t(batch));
      for (int64_t k = 0; k < batch; ++k) tgt[size_t(k)] = draw_target(src[size_t(k)], acc[k]);
      return {src_t, torch::tensor(tgt, torch::kInt64)};
    }
    case PairMode::Paired:
      return {src_t, src_t.clone()};
    case PairMode::Independent:
      return {src_t, torch::randint(0, m_, {batch}, gen_, torch::kInt64)};
  }
  throw std::logic_error("unknown pair mode");
}

void PairSampler::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive sub;
  sub.write("mode", c10::IValue(pair_mode_name(mode_)));
  sub.write("perm", perm_);
  sub.write("cursor", c10::IValue(cursor_));
  sub.write("epoch", c10::IValue(epoch_));
  sub.write("rng", gen_.get_state());
  archive.write("pair_sampler", sub);
}

void PairSampler::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read("pair_sampler", sub)) throw std::runtime_error("missing 'pair_sampler'");
  c10::IValue mode, cursor, epoch;
  torch::Tensor perm, rng;
  if (!sub.try_read("mode", mode) || !sub.try_read("perm", perm) || !sub.try_read("cursor", cursor) ||
      !sub.try_read("epoch", epoch) || !sub.try_read("rng", rng))
    throw std::runtime_error("incomplete 'pair_sampler'");
  if (!mode.isString() || mode.toStringRef() != pair_mode_name(mode_))
    throw std::runtime_error("the checkpoint's pair mode differs from the project's");
  if (perm.numel() != n_) throw std::runtime_error("the checkpoint's pair sampler has a different source count");
  perm_ = perm;
  cursor_ = cursor.toInt();
  epoch_ = epoch.toInt();
  gen_.set_state(rng);
}

}  // namespace otcs::data
