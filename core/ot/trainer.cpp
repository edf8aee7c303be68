#include "core/ot/trainer.h"

#include <sstream>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/io/archive.h"
#include "core/io/file.h"
#include "core/common/distributed.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/ot/dual.h"

namespace otcs::ot {

// A named namespace, not an anonymous one: DualTrainer::Impl holds EpochSamplers, and in a unity build this file
// is #included, where GCC warns (-Wsubobject-linkage) about a class using a type with internal linkage.
namespace trainer_detail {

// Epochs of a shuffled index set, drop_last, as torch DataLoader(shuffle=True, drop_last=True) draws them.
struct EpochSampler {
  int64_t n = 0;
  torch::Tensor perm;
  int64_t pos = 0;
  torch::Tensor next(int64_t b, at::Generator& gen) {
    if (!perm.defined() || pos + b > n) {
      perm = torch::randperm(n, gen, torch::kInt64);
      pos = 0;
    }
    auto out = perm.slice(0, pos, pos + b);
    pos += b;
    return out;
  }
};

void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto a = from.parameters(), b = to.parameters();
  for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
}

}  // namespace trainer_detail
using trainer_detail::copy_parameters;
using trainer_detail::EpochSampler;

struct DualTrainer::Impl {
  torch::Tensor source, target;
  TrainerOptions opt;
  KeypointPairs kp;
  std::unique_ptr<KeypointGuidance> guidance;
  std::shared_ptr<Potential> u, v, u_avg, v_avg;
  std::unique_ptr<torch::optim::Adam> adam;
  at::Generator gen, diag_gen;
  EpochSampler s_sampler, t_sampler;
  int64_t step = 0;
  int64_t averaged = 0;  // number of iterates in the running mean
  Callback callback;
  torch::Tensor full_cost;  // precomputed C for small finite problems (tabular training indexes it)
  torch::ScalarType dtype = torch::kFloat32;

  int64_t averaging_from() const {
    if (opt.averaging_start >= 1.0) return std::numeric_limits<int64_t>::max();
    return int64_t(std::floor(std::max(0.0, opt.averaging_start) * double(opt.iterations)));
  }
  bool averaging_active() const { return averaged > 0; }

  torch::Tensor features(const torch::Tensor& set, const torch::Tensor& idx, const Potential& p) const {
    (void)p;
    return set.index_select(0, idx);
  }

  // G (and the mask) for sampled rows; C is returned too for diagnostics.
  void batch_cost(const torch::Tensor& si, const torch::Tensor& ti, torch::Tensor& C, torch::Tensor& G,
                  torch::Tensor& M, bool need_c) const {
    const bool c_needed = need_c || !guidance || guidance->options().alpha != 1.0;
    if (c_needed) {
      if (full_cost.defined())
        C = full_cost.index_select(0, si).index_select(1, ti);
      else
        C = cost_matrix(source.index_select(0, si), target.index_select(0, ti), opt.cost).to(dtype);
    }
    if (guidance) {
      G = guidance->guided_cost(si, ti, C, dtype);
      M = guidance->mask(si, ti, dtype);
    } else {
      G = C;
      M = torch::Tensor();
    }
  }

  torch::Tensor sample(bool source_side, int64_t b, at::Generator& g, EpochSampler& sampler) {
    auto idx = sampler.next(b, g);
    if (guidance) idx = torch::cat({source_side ? kp.source_index : kp.target_index, idx});
    return idx;
  }

  double lr_at(int64_t s) const {
    if (opt.schedule == LrSchedule::Constant) return opt.lr;
    const double t = double(s) / double(std::max<int64_t>(1, opt.iterations));
    const double f = opt.lr_final_fraction + (1.0 - opt.lr_final_fraction) * 0.5 * (1.0 + std::cos(M_PI * t));
    return opt.lr * f;
  }

  PlanDiagnostics diagnostics() {
    torch::NoGradGuard no_grad;
    const int64_t b = opt.diagnostics_batch > 0 ? opt.diagnostics_batch : opt.batch_size;
    auto si = torch::randint(source.size(0), {std::min(b, source.size(0))}, diag_gen, torch::kInt64);
    auto ti = torch::randint(target.size(0), {std::min(b, target.size(0))}, diag_gen, torch::kInt64);
    if (guidance) {
      si = torch::cat({kp.source_index, si});
      ti = torch::cat({kp.target_index, ti});
    }
    torch::Tensor C, G, M;
    batch_cost(si, ti, C, G, M, true);
    auto& pu = averaging_active() ? *u_avg : *u;
    auto& pv = averaging_active() ? *v_avg : *v;
    auto uu = pu.forward(pu.needs_features() ? source.index_select(0, si) : torch::Tensor(), si);
    auto vv = pv.forward(pv.needs_features() ? target.index_select(0, ti) : torch::Tensor(), ti);
    auto H = compatibility(uu, vv, G, opt.epsilon);
    return plan_diagnostics(H, C, M);
  }
};

DualTrainer::DualTrainer(torch::Tensor source, torch::Tensor target, TrainerOptions options, KeypointPairs keypoints)
    : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  if (source.dim() != 2 || target.dim() != 2 || source.size(0) == 0 || target.size(0) == 0)
    throw std::invalid_argument("trainer: source and target must be non-empty [n, d] matrices");
  if (source.size(1) != target.size(1))
    throw std::invalid_argument("trainer: source and target dimensions differ (the cost needs equal dimensions)");
  if (!(options.epsilon > 0)) throw std::invalid_argument("trainer: epsilon must be positive");
  if (!(options.lr > 0)) throw std::invalid_argument("trainer: lr must be positive");
  if (options.batch_size <= 0 || options.batch_size > source.size(0) || options.batch_size > target.size(0))
    throw std::invalid_argument("trainer: batch size must be between 1 and the size of the smaller set");
  if (options.iterations < 0) throw std::invalid_argument("trainer: iterations must be >= 0");
  if (options.guidance.has_value() != (keypoints.size() > 0))
    throw std::invalid_argument("trainer: keypoint-guided training needs both guidance options and keypoints");
  I.source = source;
  I.target = target;
  I.opt = options;
  I.kp = keypoints;
  for (auto* spec : {&I.opt.u_spec, &I.opt.v_spec}) {
    const bool is_u = spec == &I.opt.u_spec;
    if (spec->input_dim == 0) spec->input_dim = (is_u ? source : target).size(1);
    if (spec->size == 0) spec->size = (is_u ? source : target).size(0);
    if (spec->kind == PotentialKind::Tabular && spec->size != (is_u ? source : target).size(0))
      throw std::invalid_argument("trainer: a tabular potential must have one entry per sample");
  }
  if (I.opt.u_spec.dtype != I.opt.v_spec.dtype) throw std::invalid_argument("trainer: u and v dtypes differ");
  I.dtype = I.opt.u_spec.dtype;
  if (I.opt.guidance) {
    I.opt.guidance->cost = I.opt.cost;
    I.guidance = std::make_unique<KeypointGuidance>(source, target, keypoints, *I.opt.guidance);
  }
  // Distinct streams per role so that adding diagnostics never changes the training trajectory.
  I.u = make_potential(I.opt.u_spec, options.seed * 4 + 1);
  I.v = make_potential(I.opt.v_spec, options.seed * 4 + 2);
  I.u_avg = make_potential(I.opt.u_spec, 0);
  I.v_avg = make_potential(I.opt.v_spec, 0);
  I.gen = at::make_generator<at::CPUGeneratorImpl>(options.seed * 4 + 3);
  I.diag_gen = at::make_generator<at::CPUGeneratorImpl>(options.seed * 4 + 4);
  I.s_sampler.n = source.size(0);
  I.t_sampler.n = target.size(0);
  // Finite problems small enough: index one precomputed cost matrix instead of recomputing batch GEMMs.
  if (source.size(0) * target.size(0) <= (int64_t(1) << 22))
    I.full_cost = cost_matrix(source, target, I.opt.cost).to(I.dtype);
  std::vector<torch::Tensor> params = I.u->parameters();
  for (auto& p : I.v->parameters()) params.push_back(p);
  I.adam = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(options.lr).betas({options.beta1, options.beta2}));
  // Data-parallel: every rank starts from rank 0's potentials (equal already for one seed; this makes it a fact).
  dist::current().broadcast(params);
}

DualTrainer::~DualTrainer() = default;

void DualTrainer::set_callback(Callback cb) { impl_->callback = std::move(cb); }
int64_t DualTrainer::step() const { return impl_->step; }
const TrainerOptions& DualTrainer::options() const { return impl_->opt; }
std::shared_ptr<Potential> DualTrainer::u() const { return impl_->averaging_active() ? impl_->u_avg : impl_->u; }
std::shared_ptr<Potential> DualTrainer::v() const { return impl_->averaging_active() ? impl_->v_avg : impl_->v; }
const KeypointGuidance* DualTrainer::guidance() const { return impl_->guidance.get(); }

TrainResult DualTrainer::run(const std::atomic<bool>* cancel) { return run(cancel, -1); }

TrainResult DualTrainer::run(const std::atomic<bool>* cancel, int64_t max_steps) {
  auto& I = *impl_;
  TrainResult res;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t avg_from = I.averaging_from();
  const bool u_feat = I.u->needs_features(), v_feat = I.v->needs_features();
  torch::Tensor C, G, M;
  const bool concurrent = I.opt.concurrent_potentials && at::get_num_threads() > 1;
  auto& dp = dist::current();
  double weight = 1.0;
  while (I.step < I.opt.iterations && (max_steps < 0 || res.steps_done < max_steps)) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      res.cancelled = true;
      break;
    }
    const double lr = I.lr_at(I.step);
    for (auto& group : I.adam->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    auto si = I.sample(true, I.opt.batch_size, I.gen, I.s_sampler);
    auto ti = I.sample(false, I.opt.batch_size, I.gen, I.t_sampler);
    // Data-parallel (W ranks): all ranks drew the same global batch; this one takes the source rows
    // [r*B/W, (r+1)*B/W) of the B x B' pair matrix, with v on all B' targets. The dual is a mean over rows i of
    // (u_i + mean_j v_j - mean_j pair_ij), so weight * D(rows of this rank), averaged over ranks, is D itself
    // and so are its gradients: the averaged update equals the single-process one (up to summation order).
    if (dp.active()) {
      auto [lo, hi] = dp.shard(si.size(0));
      weight = dp.shard_weight(si.size(0));
      si = si.slice(0, lo, hi);
    }
    {
      torch::NoGradGuard no_grad;
      I.batch_cost(si, ti, C, G, M, false);
    }
    torch::Tensor uu, vv, objective;
    I.adam->zero_grad();
    // bf16: the potentials' forward passes under autocast (each on the thread that runs it: autocast is
    // thread-local); their outputs, the cost, the objective and Adam stay float32.
    auto forward_u = [&] {
      AutocastScope scope(I.opt.precision, I.source.device());
      return widen(I.u->forward(u_feat ? I.source.index_select(0, si) : torch::Tensor(), si));
    };
    auto forward_v = [&] {
      AutocastScope scope(I.opt.precision, I.target.device());
      return widen(I.v->forward(v_feat ? I.target.index_select(0, ti) : torch::Tensor(), ti));
    };
    if (concurrent) {
      // One potential per thread: inside the parallel region every ATen op, GEMM (OpenBLAS, oneDNN) and the
      // autograd engine run single-threaded on that thread. The loss gradient with respect to the potentials'
      // outputs (B and B' numbers) is taken first; each thread then backpropagates its own network.
      at::parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          if (k == 0)
            uu = forward_u();
          else
            vv = forward_v();
        }
      });
      objective = dual_objective(uu, vv, G, I.opt.epsilon, M);
      if (weight != 1.0) objective = objective * weight;
      auto grads = torch::autograd::grad({-objective}, {uu, vv});
      at::parallel_for(0, 2, 1, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) (k == 0 ? uu : vv).backward(grads[size_t(k)]);
      });
      objective = objective.detach();
    } else {
      uu = forward_u();
      vv = forward_v();
      objective = dual_objective(uu, vv, G, I.opt.epsilon, M);
      if (weight != 1.0) objective = objective * weight;
      (-objective).backward();
      objective = objective.detach();
    }
    if (dp.active()) {
      // The gradients and the objective (for the log) in one collective: both become global means.
      objective = objective.clone();
      dp.average_gradients(I.adam->param_groups()[0].params(), {objective});
    }
    const double obj = objective.item<double>();
    {
      // A non-finite objective or gradient would poison Adam's moments and every later iterate: refuse the update.
      torch::NoGradGuard no_grad;
      if (!std::isfinite(obj))
        throw DivergedError(fmt::format("the dual objective is {} at step {}", obj, I.step + 1), I.step + 1);
      for (const auto& group : I.adam->param_groups())
        for (const auto& p : group.params())
          if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>())
            throw DivergedError(fmt::format("a gradient is NaN or Inf at step {}", I.step + 1), I.step + 1);
    }
    I.adam->step();
    ++I.step;
    ++res.steps_done;
    res.last_dual_objective = obj;

    if (I.step > avg_from) {
      torch::NoGradGuard no_grad;
      if (I.averaged == 0) {
        copy_parameters(*I.u, *I.u_avg);
        copy_parameters(*I.v, *I.v_avg);
      } else {
        const double w = 1.0 / double(I.averaged + 1);
        for (auto [live, avg] : {std::pair{I.u.get(), I.u_avg.get()}, std::pair{I.v.get(), I.v_avg.get()}}) {
          auto a = live->parameters(), b = avg->parameters();
          for (size_t k = 0; k < a.size(); ++k) b[k].add_(a[k] - b[k], w);
        }
      }
      ++I.averaged;
    }

    if (I.callback) {
      TrainerEvent ev;
      ev.step = I.step;
      ev.iterations = I.opt.iterations;
      ev.dual_objective = obj;
      ev.lr = lr;
      if (I.opt.diagnostics_every > 0 && (I.step % I.opt.diagnostics_every == 0 || I.step == I.opt.iterations)) {
        ev.has_diagnostics = true;
        ev.diagnostics = I.diagnostics();
      }
      I.callback(ev);
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

void DualTrainer::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  save(archive);
  // Through write_file_atomic: a full disk or a crash leaves the previous checkpoint whole (LibTorch's own
  // save_to(path) writes the file in place and never fsyncs it).
  std::ostringstream out;
  archive.save_to(out);
  io::write_file_atomic(path, out.str());
}

void DualTrainer::save(torch::serialize::OutputArchive& archive) const {
  auto& I = *impl_;
  auto sub = [&](const char* key, torch::nn::Module& m) {
    torch::serialize::OutputArchive a;
    m.save(a);
    archive.write(key, a);
  };
  sub("u", *I.u);
  sub("v", *I.v);
  sub("u_avg", *I.u_avg);
  sub("v_avg", *I.v_avg);
  torch::serialize::OutputArchive adam;
  I.adam->save(adam);
  archive.write("adam", adam);
  archive.write("counters", torch::tensor({I.step, I.averaged, I.s_sampler.pos, I.t_sampler.pos}, torch::kInt64));
  archive.write("gen", I.gen.get_state());
  archive.write("diag_gen", I.diag_gen.get_state());
  archive.write("s_perm", I.s_sampler.perm.defined() ? I.s_sampler.perm : torch::empty({0}, torch::kInt64));
  archive.write("t_perm", I.t_sampler.perm.defined() ? I.t_sampler.perm : torch::empty({0}, torch::kInt64));
}

void DualTrainer::load_checkpoint(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    io::load_archive_file(path, archive);
    load(archive);
  } catch (const c10::Error& e) {
    fail("{}: cannot restore the OT trainer checkpoint ({})", path, e.what_without_backtrace());
  }
}

void DualTrainer::load(torch::serialize::InputArchive& archive) {
  auto& I = *impl_;
  auto sub = [&](const char* key, torch::nn::Module& m) {
    torch::serialize::InputArchive a;
    archive.read(key, a);
    m.load(a);
  };
  sub("u", *I.u);
  sub("v", *I.v);
  sub("u_avg", *I.u_avg);
  sub("v_avg", *I.v_avg);
  torch::serialize::InputArchive adam;
  archive.read("adam", adam);
  I.adam->load(adam);
  torch::Tensor counters, gs, dgs, sp, tp;
  archive.read("counters", counters);
  archive.read("gen", gs);
  archive.read("diag_gen", dgs);
  archive.read("s_perm", sp);
  archive.read("t_perm", tp);
  if (counters.numel() != 4 || counters.scalar_type() != torch::kInt64)
    throw std::runtime_error("the trainer's counters do not fit");
  counters = counters.contiguous();
  auto c = counters.data_ptr<int64_t>();
  I.step = c[0];
  I.averaged = c[1];
  I.s_sampler.pos = c[2];
  I.t_sampler.pos = c[3];
  I.gen.set_state(gs);
  I.diag_gen.set_state(dgs);
  I.s_sampler.perm = sp.numel() ? sp : torch::Tensor();
  I.t_sampler.perm = tp.numel() ? tp : torch::Tensor();
}

}  // namespace otcs::ot
