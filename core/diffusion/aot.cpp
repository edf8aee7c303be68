#include "core/diffusion/aot.h"

#include <chrono>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/ot/assignment.h"

namespace otcs::diffusion {

torch::Tensor assign_noise(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels) {
  if (!x.sizes().equals(noise.sizes())) throw std::invalid_argument("assign_noise: x and noise differ in shape");
  const int64_t n = x.size(0);
  auto xf = x.reshape({n, -1}).to(torch::kFloat64);
  auto nf = noise.reshape({n, -1}).to(torch::kFloat64);
  if (!labels.defined()) return ot::assign(torch::cdist(xf, nf));
  auto perm = torch::empty({n}, torch::kInt64);
  auto classes = std::get<0>(torch::_unique(labels));
  for (int64_t k = 0; k < classes.size(0); ++k) {
    auto rows = torch::nonzero(labels == classes[k]).flatten();
    auto local = ot::assign(torch::cdist(xf.index_select(0, rows), nf.index_select(0, rows)));
    perm.index_put_({rows}, rows.index_select(0, local));
  }
  return perm;
}

AotProvider::AotProvider(torch::Tensor data, torch::Tensor labels, const AotOptions& options)
    : data_(std::move(data)),
      labels_(std::move(labels)),
      options_(options),
      gen_(at::make_generator<at::CPUGeneratorImpl>(options.seed)) {
  if (options_.batch < 1 || options_.chunk < options_.batch || options_.chunk % options_.batch != 0)
    throw std::invalid_argument("AotProvider: the chunk must be a positive multiple of the batch");
  if (data_.size(0) < options_.chunk) throw std::invalid_argument("AotProvider: fewer images than one chunk");
}

void AotProvider::refill() {
  const int64_t n = data_.size(0), c = options_.chunk;
  // Images without replacement: the chunk takes the next c of this epoch's order (a new order when it runs out).
  if (!order_.defined() || order_pos_ + c > n) {
    order_ = torch::randperm(n, gen_, torch::kInt64);
    order_pos_ = 0;
  }
  auto idx = order_.slice(0, order_pos_, order_pos_ + c);
  order_pos_ += c;
  chunk_x_ = data_.index_select(0, idx);
  chunk_labels_ = labels_.defined() ? labels_.index_select(0, idx) : torch::Tensor();
  auto noise = torch::randn(chunk_x_.sizes(), gen_, torch::kFloat32);
  ChunkStats s;
  s.chunk = int64_t(stats_.size());
  auto flat_x = chunk_x_.reshape({c, -1});
  s.random_cost = (flat_x - noise.reshape({c, -1})).pow(2).sum(1).sqrt().mean().item<double>();
  if (options_.assign) {
    auto t0 = std::chrono::steady_clock::now();
    auto perm = assign_noise(chunk_x_, noise, chunk_labels_);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    noise = noise.index_select(0, perm);
  }
  s.assigned_cost = (flat_x - noise.reshape({c, -1})).pow(2).sum(1).sqrt().mean().item<double>();
  chunk_noise_ = noise;
  chunk_pos_ = 0;
  stats_.push_back(s);
  if (on_chunk) on_chunk(s);
}

void AotProvider::save(torch::serialize::OutputArchive& archive) const {
  archive.write("aot_rng", gen_.get_state());
  archive.write("aot_order_pos", c10::IValue(order_pos_));
  archive.write("aot_chunk_pos", c10::IValue(chunk_pos_));
  if (order_.defined()) archive.write("aot_order", order_);
  if (chunk_x_.defined()) {
    archive.write("aot_chunk_x", chunk_x_);
    archive.write("aot_chunk_noise", chunk_noise_);
  }
  if (chunk_labels_.defined()) archive.write("aot_chunk_labels", chunk_labels_);
  auto stats = torch::zeros({int64_t(stats_.size()), 4}, torch::kFloat64);
  for (size_t i = 0; i < stats_.size(); ++i) {
    const auto& c = stats_[i];
    stats[int64_t(i)] = torch::tensor({double(c.chunk), c.assigned_cost, c.random_cost, c.seconds}, torch::kFloat64);
  }
  archive.write("aot_stats", stats);
}

void AotProvider::load(torch::serialize::InputArchive& archive) {
  torch::Tensor rng, stats;
  c10::IValue v;
  if (!archive.try_read("aot_rng", rng)) throw std::runtime_error("missing 'aot_rng'");
  gen_.set_state(rng);
  if (!archive.try_read("aot_order_pos", v) || !v.isInt()) throw std::runtime_error("missing 'aot_order_pos'");
  order_pos_ = v.toInt();
  if (!archive.try_read("aot_chunk_pos", v) || !v.isInt()) throw std::runtime_error("missing 'aot_chunk_pos'");
  chunk_pos_ = v.toInt();
  order_ = torch::Tensor();
  chunk_x_ = chunk_noise_ = chunk_labels_ = torch::Tensor();
  // Each read into an undefined tensor: reading into a defined one would overwrite that tensor's storage.
  archive.try_read("aot_order", order_);
  if (archive.try_read("aot_chunk_x", chunk_x_) && !archive.try_read("aot_chunk_noise", chunk_noise_))
    throw std::runtime_error("missing 'aot_chunk_noise'");
  archive.try_read("aot_chunk_labels", chunk_labels_);
  if (!archive.try_read("aot_stats", stats)) throw std::runtime_error("missing 'aot_stats'");
  stats_.clear();
  for (int64_t i = 0; i < stats.size(0); ++i)
    stats_.push_back({stats[i][0].item<int64_t>(), stats[i][1].item<double>(), stats[i][2].item<double>(),
                      stats[i][3].item<double>()});
}

PairedBatch AotProvider::next() {
  if (!chunk_x_.defined() || chunk_pos_ >= options_.chunk) refill();
  const int64_t lo = chunk_pos_, hi = chunk_pos_ + options_.batch;
  chunk_pos_ = hi;
  PairedBatch b;
  b.x = chunk_x_.slice(0, lo, hi);
  b.noise = chunk_noise_.slice(0, lo, hi);
  if (chunk_labels_.defined()) b.labels = chunk_labels_.slice(0, lo, hi);
  return b;
}

}  // namespace otcs::diffusion
