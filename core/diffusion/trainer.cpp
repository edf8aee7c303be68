#include "core/diffusion/trainer.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/distributed.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"

namespace otcs::diffusion {

NetworkWithEma make_network_with_ema(const NetworkSpec& spec, uint64_t seed) {
  NetworkWithEma pair;
  with_global_rng_preserved([&] {
    torch::manual_seed(seed);
    pair.net = make_network(spec);
    pair.ema = make_network(spec);
    return 0;
  });
  torch::NoGradGuard no_grad;
  auto src = pair.net->parameters();
  auto dst = pair.ema->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  auto sb = pair.net->buffers();
  auto db = pair.ema->buffers();
  for (size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
  for (auto& p : pair.ema->parameters()) p.set_requires_grad(false);
  pair.ema->eval();
  pair.net->train();
  return pair;
}

void update_ema(ScoreNetwork& ema, ScoreNetwork& net, double decay) {
  torch::NoGradGuard no_grad;
  auto src = net.parameters();
  auto dst = ema.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(decay).add_(src[i].detach(), 1.0 - decay);
}

void save_module(torch::serialize::OutputArchive& archive, const std::string& key, torch::nn::Module& module) {
  torch::serialize::OutputArchive sub;
  for (const auto& p : module.named_parameters()) sub.write(p.key(), p.value().detach());
  for (const auto& b : module.named_buffers()) sub.write(b.key(), b.value(), /*is_buffer=*/true);
  archive.write(key, sub);
}

void load_module(torch::serialize::InputArchive& archive, const std::string& key, torch::nn::Module& module) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read(key, sub)) throw std::runtime_error(fmt::format("missing '{}'", key));
  torch::NoGradGuard no_grad;
  auto copy_in = [&](const std::string& name, torch::Tensor& target, bool buffer) {
    torch::Tensor value;
    if (!sub.try_read(name, value, buffer))
      throw std::runtime_error(fmt::format("'{}' lacks '{}' (a different network?)", key, name));
    if (!value.sizes().equals(target.sizes()))
      throw std::runtime_error(fmt::format("'{}/{}' has shape {} where the network has {}", key, name,
                                           fmt::join(value.sizes(), "x"), fmt::join(target.sizes(), "x")));
    target.copy_(value);
  };
  for (auto& p : module.named_parameters()) copy_in(p.key(), p.value(), false);
  for (auto& b : module.named_buffers()) copy_in(b.key(), b.value(), true);
}

ScoreTrainer::ScoreTrainer(const NetworkSpec& net_spec, std::shared_ptr<Schedule> schedule, const TrainerSpec& spec)
    : net_spec_(net_spec),
      schedule_(std::move(schedule)),
      spec_(spec),
      gen_(at::make_generator<at::CPUGeneratorImpl>(spec.seed)) {
  auto pair = make_network_with_ema(net_spec, spec.seed);
  net_ = pair.net;
  ema_ = pair.ema;
  {
    // Data-parallel: every rank starts from rank 0's network (and EMA copy); see step().
    std::vector<torch::Tensor> state = net_->parameters();
    for (auto& t : ema_->parameters()) state.push_back(t);
    for (auto& t : net_->buffers()) state.push_back(t);
    for (auto& t : ema_->buffers()) state.push_back(t);
    dist::current().broadcast(state);
  }
  if (spec.precision == Precision::Bf16 && spec.bf16_native) {
    if (net_spec.kind != NetworkKind::UNet) throw std::invalid_argument("ScoreTrainer: bf16_native needs a UNet");
    low_ = with_global_rng_preserved([&] { return make_network(net_spec); });
    low_->to(torch::kBFloat16);
    torch::NoGradGuard no_grad;
    for (auto& p : low_->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    low_->train();
  }
  optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(spec.lr)
                                                                            .betas({spec.beta1, spec.beta2})
                                                                            .eps(spec.adam_eps)
                                                                            .weight_decay(spec.weight_decay));
}

torch::Tensor ScoreTrainer::loss_on(const torch::Tensor& y0, const torch::Tensor& cond, at::Generator& gen,
                                    ScoreNetwork& net, int64_t row_begin, int64_t row_end) {
  // Times and noise are drawn for the whole batch, then rows [row_begin, row_end) are kept: a data-parallel
  // rank draws exactly what a single process would and computes its shard of it (the generators stay equal).
  int64_t b = y0.size(0);
  auto t = schedule_->sample_times(b, spec_.antithetic, gen);
  auto z = torch::randn(y0.sizes(), gen, torch::kFloat32);
  torch::Tensor y = y0.to(device_), c = cond.defined() ? cond.to(device_) : cond;
  if (spec_.cond_dropout > 0 && c.defined()) {
    // Classifier-free guidance: the null condition (zeros) for a random share of the rows, drawn for the whole
    // batch from the trainer's generator like t and z (so data-parallel shards agree).
    auto keep = (torch::rand({b}, gen, torch::kFloat32) >= spec_.cond_dropout).to(torch::kFloat32);
    std::vector<int64_t> cshape(size_t(c.dim()), 1);
    cshape[0] = b;
    c = c * keep.to(device_).reshape(cshape);
  }
  if (row_begin != 0 || (row_end >= 0 && row_end != b)) {
    t = t.slice(0, row_begin, row_end);
    z = z.slice(0, row_begin, row_end);
    y = y.slice(0, row_begin, row_end);
    if (c.defined()) c = c.slice(0, row_begin, row_end);
    b = y.size(0);
  }
  std::vector<int64_t> bshape(size_t(y0.dim()), 1);
  bshape[0] = b;
  auto a = schedule_->alpha(t).to(device_, torch::kFloat32).reshape(bshape);
  auto s = schedule_->sigma(t).to(device_, torch::kFloat32).reshape(bshape);
  z = z.to(device_);
  auto xt = a * y + s * z;
  torch::Tensor out;
  {
    // bf16: the forward pass under autocast, the loss in float32 (backward runs outside the scope; autograd
    // casts the gradients back through the recorded casts).
    AutocastScope scope(low_ && &net == low_.get() ? Precision::Fp32 : spec_.precision, device_);
    out = widen(net.forward(xt, schedule_->network_time(t).to(device_, torch::kFloat32), c));
  }
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < y.dim(); ++d) dims.push_back(d);
  torch::Tensor per_sample;
  if (spec_.prediction == Prediction::Eps) {
    per_sample = (out - z).pow(2).sum(dims);
  } else {
    auto score = out / s;
    per_sample = (score * s + z).pow(2).sum(dims);
  }
  return per_sample.mean();
}

double ScoreTrainer::step(const torch::Tensor& y0, const torch::Tensor& cond) {
  net_->train();
  optimizer_->zero_grad();
  auto& dp = dist::current();
  if (low_) refresh_low_precision_copy();
  ScoreNetwork& compute = low_ ? *low_ : *net_;
  double value = 0;
  if (!dp.active()) {
    auto loss = loss_on(y0, cond, gen_, compute);
    value = loss.item<double>();
    if (!std::isfinite(value))
      throw DivergedError(fmt::format("the score loss is {} at step {}", value, step_ + 1), step_ + 1);
    loss.backward();
    if (low_) take_low_precision_gradients();
  } else {
    // y0 is the global batch (the same on every rank); this rank's loss is the mean over its rows, weighted so
    // that the mean over ranks is the global mean. Gradients and loss are averaged in one collective before
    // the finiteness check, so every rank takes the same decision (a NaN anywhere reaches all).
    auto [lo, hi] = dp.shard(y0.size(0));
    auto loss = loss_on(y0, cond, gen_, compute, lo, hi) * dp.shard_weight(y0.size(0));
    loss.backward();
    if (low_) take_low_precision_gradients();
    auto global = loss.detach().clone();
    dp.average_gradients(net_->parameters(), {global});
    value = global.item<double>();
    if (!std::isfinite(value))
      throw DivergedError(fmt::format("the score loss is {} at step {}", value, step_ + 1), step_ + 1);
  }
  double norm = 0;
  if (spec_.grad_clip > 0) {
    norm = torch::nn::utils::clip_grad_norm_(net_->parameters(), spec_.grad_clip);
  } else {
    torch::NoGradGuard no_grad;
    torch::Tensor sq = torch::zeros({}, torch::kFloat64);
    for (const auto& p : net_->parameters())
      if (p.grad().defined()) sq += p.grad().to(torch::kFloat64).pow(2).sum();
    norm = std::sqrt(sq.item<double>());
  }
  if (!std::isfinite(norm))
    throw DivergedError(fmt::format("the gradient norm is {} at step {}", norm, step_ + 1), step_ + 1);
  optimizer_->step();
  update_ema();
  ++step_;
  return value;
}

double ScoreTrainer::evaluate(const torch::Tensor& y0, const torch::Tensor& cond, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  return loss_on(y0, cond, gen, *ema_).item<double>();
}

void ScoreTrainer::to(torch::Device device) {
  if (device == device_) return;
  if (step_ != 0) throw std::logic_error("ScoreTrainer::to: move the trainer before it trains");
  // Module::to replaces the parameters' data in place, so the optimiser (no state yet) keeps its references.
  net_->to(device);
  ema_->to(device);
  if (low_) low_->to(device);
  device_ = device;
}

void ScoreTrainer::refresh_low_precision_copy() {
  torch::NoGradGuard no_grad;
  auto src = net_->parameters();
  auto dst = low_->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

void ScoreTrainer::take_low_precision_gradients() {
  torch::NoGradGuard no_grad;
  auto master = net_->parameters();
  auto low = low_->parameters();
  for (size_t i = 0; i < master.size(); ++i) {
    if (!low[i].grad().defined()) continue;
    master[i].mutable_grad() = low[i].grad().to(torch::kFloat32).contiguous();
    low[i].mutable_grad() = torch::Tensor();
  }
}

void ScoreTrainer::update_ema() { diffusion::update_ema(*ema_, *net_, spec_.ema_decay); }

void save_training_state(torch::serialize::OutputArchive& archive, ScoreNetwork& net, ScoreNetwork& ema,
                         torch::optim::Optimizer& optimizer, int64_t step, const at::Generator& gen) {
  save_module(archive, "model", net);
  save_module(archive, "ema", ema);
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  archive.write("optimizer", opt);
  archive.write("trainer_step", c10::IValue(step));
  archive.write("trainer_rng", gen.get_state());
}

void load_training_state(torch::serialize::InputArchive& archive, ScoreNetwork& net, ScoreNetwork& ema,
                         torch::optim::Optimizer& optimizer, int64_t& step, at::Generator& gen) {
  load_module(archive, "model", net);
  load_module(archive, "ema", ema);
  torch::serialize::InputArchive opt;
  if (!archive.try_read("optimizer", opt)) throw std::runtime_error("missing 'optimizer'");
  optimizer.load(opt);
  c10::IValue v;
  if (!archive.try_read("trainer_step", v) || !v.isInt()) throw std::runtime_error("missing 'trainer_step'");
  step = v.toInt();
  torch::Tensor rng;
  if (!archive.try_read("trainer_rng", rng)) throw std::runtime_error("missing 'trainer_rng'");
  gen.set_state(rng);
}

void ScoreTrainer::save(torch::serialize::OutputArchive& archive) const {
  save_training_state(archive, *net_, *ema_, *optimizer_, step_, gen_);
}

void ScoreTrainer::load(torch::serialize::InputArchive& archive) {
  load_training_state(archive, *net_, *ema_, *optimizer_, step_, gen_);
}

}  // namespace otcs::diffusion
