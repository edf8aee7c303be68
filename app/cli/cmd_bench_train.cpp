// `otcs bench` workloads of the training and sampling steps: ot-dual, ot-dual-toy, score-step,
// sample-step and assign. Each one times single steps of the project's own code (ot::DualTrainer,
// diffusion::ScoreTrainer, diffusion::sample, ot::assign) after warm-up steps and reports the median, steps/s
// and, where it does dense linear algebra, the achieved GFLOP/s against a GEMM peak measured on the spot.
// tests/bench/reference/bench.py is the Python reference of the same workloads; keep the two in step.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "app/cli/bench.h"
#include "core/common/error.h"
#include "core/common/mixed_precision.h"
#include "core/diffusion/networks.h"
#include "core/diffusion/sampler.h"
#include "core/diffusion/schedule.h"
#include "core/diffusion/trainer.h"
#include "core/ot/assignment.h"
#include "core/ot/trainer.h"

namespace otcs::cli::bench {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

StepTimes time_steps(const std::function<void()>& step, int warmup, int repeat, int per_call) {
  StepTimes out;
  for (int i = 0; i < warmup; ++i) step();
  for (int i = 0; i < std::max(1, repeat); ++i) {
    const auto t0 = Clock::now();
    step();
    out.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / double(std::max(1, per_call)));
  }
  auto sorted = out.seconds;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  out.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  out.best = sorted.front();
  return out;
}

void report_steps(nlohmann::json& out, const StepTimes& t) {
  out["steps_per_s"] = 1.0 / t.median;
  out["median_s"] = t.median;
  out["best_s"] = t.best;
  out["repeat"] = t.seconds.size();
}

void report_training(nlohmann::json& out, const std::function<double()>& step, int64_t steps) {
  std::vector<double> values;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) values.push_back(step());
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const size_t tail = std::min<size_t>(50, values.size());
  double sum = 0;
  for (size_t i = values.size() - tail; i < values.size(); ++i) sum += values[i];
  out["train_steps"] = steps;
  out["train_seconds"] = seconds;
  out["train_final"] = values.empty() ? 0.0 : values.back();
  out["train_mean_last50"] = tail ? sum / double(tail) : 0.0;
}

namespace {

// GEMM flops of forward + backward of an MLP on `batch` rows: 3x the forward, less the input gradient of the
// first layer (the data need none). Same count as bench.py's mlp_flops.
double mlp_train_flops(const std::vector<int64_t>& sizes, int64_t batch) {
  double fwd = 0;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) fwd += 2.0 * double(batch) * double(sizes[i]) * double(sizes[i + 1]);
  return 3.0 * fwd - 2.0 * double(batch) * double(sizes[0]) * double(sizes[1]);
}

// Multiply-add flops (x2) of one forward pass of the UNet for one sample: convolutions, linear layers and the
// two attention matmuls, following UNetImpl's construction (core/diffusion/networks.cpp) stage by stage.
// bench.py counts the same with forward hooks; the two are printed side by side.
double unet_forward_flops(const diffusion::NetworkSpec& s) {
  double f = 0;
  const int64_t ch = s.channels, temb = 4 * ch;
  const int64_t out_ch = s.out_channels > 0 ? s.out_channels : s.in_channels;
  auto lin = [&](int64_t in, int64_t out) { f += 2.0 * double(in) * double(out); };
  auto conv = [&](int64_t cin, int64_t cout, int64_t k, int64_t r) {
    f += 2.0 * double(cin) * double(cout) * double(k * k) * double(r * r);
  };
  auto res_block = [&](int64_t cin, int64_t cout, int64_t r) {
    conv(cin, cout, 3, r);
    lin(temb, cout);
    conv(cout, cout, 3, r);
    if (cin != cout) conv(cin, cout, 1, r);
  };
  auto attn = [&](int64_t c, int64_t r) {
    for (int k = 0; k < 4; ++k) conv(c, c, 1, r);
    f += 4.0 * double(r * r) * double(r * r) * double(c);
  };
  auto has_attn = [&](int64_t res) {
    return std::find(s.attention_resolutions.begin(), s.attention_resolutions.end(), res) !=
           s.attention_resolutions.end();
  };
  lin(ch, temb);
  lin(temb, temb);
  if (s.cond_dim > 0) {
    lin(s.cond_dim, temb);
    lin(temb, temb);
  }
  int64_t r = s.resolution, res = s.resolution, cur = ch;  // r: actual size; res: the constructor's label
  conv(s.in_channels + s.cond_channels, ch, 3, r);
  std::vector<std::pair<int64_t, int64_t>> skips = {{ch, r}};
  const size_t levels = s.channel_mult.size();
  for (size_t l = 0; l < levels; ++l) {
    const int64_t out = ch * s.channel_mult[l];
    for (int64_t b = 0; b < s.res_blocks; ++b) {
      res_block(cur, out, r);
      cur = out;
      if (has_attn(res)) attn(cur, r);
      skips.push_back({cur, r});
    }
    if (l + 1 != levels) {
      r = (r + 1 - 3) / 2 + 1;  // pad (0, 1, 0, 1), 3x3 stride 2
      conv(cur, cur, 3, r);
      skips.push_back({cur, r});
      res = (res + 1) / 2;
    }
  }
  res_block(cur, cur, r);
  attn(cur, r);
  res_block(cur, cur, r);
  for (size_t li = levels; li-- > 0;) {
    const int64_t out = ch * s.channel_mult[li];
    for (int64_t b = 0; b <= s.res_blocks; ++b) {
      const auto skip = skips.back();
      skips.pop_back();
      res_block(cur + skip.first, out, r);
      cur = out;
      if (has_attn(res)) attn(cur, r);
    }
    if (li != 0) {
      r = skips.back().second;
      conv(cur, cur, 3, r);
      res *= 2;
    }
  }
  conv(cur, out_ch, 3, r);
  return f;
}

// The 28x28 conditional UNet of the image pipeline: the network defaults (32 channels, mult 1-2-2, one res
// block per level, attention at 7x7) with the condition image concatenated to the input.
diffusion::NetworkSpec mnist_unet() {
  diffusion::NetworkSpec n;
  n.kind = diffusion::NetworkKind::UNet;
  n.in_channels = 1;
  n.cond_channels = 1;
  n.resolution = 28;
  return n;
}

nlohmann::json run_ot_dual(const Context& ctx, int64_t dim, int64_t width, int64_t depth, int warmup_default,
                           int repeat_default) {
  const int64_t batch = ctx.get_int("batch", 256), points = ctx.get_int("points", 4096);
  if (batch <= 0 || points < batch) fail("--set batch must be positive and points >= batch");
  const uint64_t seed = uint64_t(ctx.get_int("seed", 0));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + 100);
  auto S = torch::randn({points, dim}, gen, torch::kFloat32);
  auto T = torch::randn({points, dim}, gen, torch::kFloat32);
  ot::TrainerOptions o;
  o.cost = ot::CostKind::L2;
  o.epsilon = ctx.get_double("epsilon", 1e-2);
  o.batch_size = batch;
  o.iterations = int64_t(1) << 40;  // run() is called one step at a time
  o.lr = ctx.get_double("lr", 1e-4);
  o.seed = seed;
  o.concurrent_potentials = ctx.get_int("concurrent", 0) != 0;
  o.precision = ctx.precision;
  for (auto* spec : {&o.u_spec, &o.v_spec}) {
    spec->width = ctx.get_int("width", width);
    spec->depth = ctx.get_int("depth", depth);
    spec->activation = ot::Activation::SiLU;
  }
  ot::DualTrainer trainer(S, T, o);
  std::vector<int64_t> sizes = {dim};
  for (int64_t i = 0; i <= o.u_spec.depth; ++i) sizes.push_back(o.u_spec.width);
  sizes.push_back(1);
  int64_t params = 0;
  for (auto& p : trainer.u()->parameters()) params += p.numel();
  for (auto& p : trainer.v()->parameters()) params += p.numel();
  const double flops = 2.0 * mlp_train_flops(sizes, batch) + 2.0 * double(batch) * double(batch) * double(dim);
  double objective = 0;
  auto t = time_steps([&] { objective = trainer.run(nullptr, 1).last_dual_objective; },
                      int(ctx.get_int("warmup", warmup_default)), ctx.repeat > 0 ? ctx.repeat : repeat_default);
  auto peak = measure_gemm_peak(torch::kFloat32, 1.0);
  nlohmann::json j;
  j["parameters"] = params;
  j["batch"] = batch;
  j["points"] = points;
  j["dim"] = dim;
  j["concurrent_potentials"] = o.concurrent_potentials;
  j["steps_done"] = trainer.step();
  j["last_dual_objective"] = objective;  // the same for concurrent=0 and 1 up to summation order (a check)
  report_steps(j, t);
  if (const int64_t n = ctx.get_int("train", 0); n > 0) {
    // A fresh seeded training: its dual objective over the last steps compares fp32 with bf16.
    ot::DualTrainer fresh(S, T, o);
    report_training(
        j, [&] { return fresh.run(nullptr, 1).last_dual_objective; }, n);
  }
  j["gflop_per_step"] = flops / 1e9;
  report_gflops(j, flops, t.median, peak);
  j["peak_rss_mb"] = peak_rss_mb();
  return j;
}

}  // namespace

void add_bench_training(std::vector<Workload>& out) {
  out.push_back({"ot-dual",
                 "one OT dual step (ot::DualTrainer): batch 256 of 4,096 points, d = 784, MLPs 784-512-512-512-1 "
                 "SiLU, Adam, l2 cost",
                 "batch=256 points=4096 width=512 depth=2 epsilon=1e-2 lr=1e-4 warmup=5 concurrent=0 seed=0 train=0",
                 [](const Context& ctx) { return run_ot_dual(ctx, 784, 512, 2, 5, 30); }});
  out.push_back({"ot-dual-toy", "the same on 2-D points with MLPs 2-256-256-1",
                 "batch=256 points=4096 width=256 depth=1 epsilon=1e-2 lr=1e-4 warmup=20 concurrent=0 seed=0 train=0",
                 [](const Context& ctx) { return run_ot_dual(ctx, 2, 256, 1, 20, 200); }});
  out.push_back(
      {"score-step",
       "one training step (diffusion::ScoreTrainer) of the 28x28 conditional UNet at batch 64: ddpm, eps loss, "
       "grad clip 1, Adam, EMA",
       "batch=64 warmup=3 grad_clip=1 train=0 native=0 profile=0", [](const Context& ctx) {
         const int64_t batch = ctx.get_int("batch", 64);
         if (batch <= 0) fail("--set batch must be positive");
         const auto net = mnist_unet();
         auto schedule = diffusion::make_schedule(diffusion::ScheduleSpec{});
         diffusion::TrainerSpec ts;
         ts.prediction = diffusion::Prediction::Eps;
         ts.grad_clip = ctx.get_double("grad_clip", 1.0);
         ts.precision = ctx.precision;
         ts.bf16_native = ctx.get_int("native", 0) != 0;
         diffusion::ScoreTrainer trainer(net, schedule, ts);
         trainer.to(torch::Device(ctx.device));
         auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
         auto y0 = torch::rand({batch, 1, 28, 28}, gen, torch::kFloat32) * 2 - 1;
         auto cond = torch::rand({batch, 1, 28, 28}, gen, torch::kFloat32) * 2 - 1;
         const double flops = 3.0 * unet_forward_flops(net) * double(batch);
         auto t = time_steps([&] { trainer.step(y0, cond); }, int(ctx.get_int("warmup", 3)),
                             ctx.repeat > 0 ? ctx.repeat : 10);
         auto peak = measure_gemm_peak(torch::kFloat32, 1.0);
         nlohmann::json j;
         j["parameters"] = diffusion::parameter_count(*trainer.network());
         j["batch"] = batch;
         j["device"] = ctx.device;
         report_steps(j, t);
         if (ctx.get_int("profile", 0) != 0 && !ts.bf16_native) {
           // Where a step's time goes: the network's forward pass alone (as the step runs it: autocast for bf16)
           // and forward + backward; the rest of a step is the loss, clipping, Adam and the EMA.
           auto& network = *trainer.network();
           const auto device = torch::Device(ctx.device);
           auto tt = torch::full({batch}, 500.0f);
           auto xd = y0.to(device), cd = cond.to(device), td = tt.to(device);
           auto forward = [&] {
             AutocastScope scope(ts.precision, device);
             return widen(network.forward(xd, td, cd));
           };
           auto f = time_steps(
               [&] {
                 torch::NoGradGuard no_grad;
                 forward();
               },
               1, 5);
           auto fb = time_steps(
               [&] {
                 auto out = forward();
                 out.pow(2).mean().backward();
                 network.zero_grad();
               },
               1, 5);
           j["profile_forward_s"] = f.median;
           j["profile_backward_s"] = fb.median - f.median;
           j["profile_rest_of_step_s"] = t.median - fb.median;
         }
         if (const int64_t n = ctx.get_int("train", 0); n > 0) {
           // A fresh seeded training on 512 smooth images (bilinear 7x7 noise) conditioned on their mirror
           // images, batches drawn by a seeded generator: its loss over the last steps compares fp32 with bf16.
           diffusion::ScoreTrainer fresh(net, schedule, ts);
           fresh.to(torch::Device(ctx.device));
           auto data_gen = at::make_generator<at::CPUGeneratorImpl>(11);
           namespace F = torch::nn::functional;
           auto pool = F::interpolate(torch::rand({512, 1, 7, 7}, data_gen, torch::kFloat32) * 2 - 1,
                                      F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{28, 28})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
           auto mirrored = pool.flip({3});
           report_training(
               j,
               [&] {
                 auto idx = torch::randint(pool.size(0), {batch}, data_gen, torch::kInt64);
                 return fresh.step(pool.index_select(0, idx), mirrored.index_select(0, idx));
               },
               n);
         }
         j["gflop_per_step"] = flops / 1e9;
         report_gflops(j, flops, t.median, peak);
         j["peak_rss_mb"] = peak_rss_mb();
         return j;
       }});
  out.push_back(
      {"sample-step",
       "one ancestral reverse step (diffusion::sample) of the 28x28 conditional UNet at batch 256, timed over "
       "a 2-step run",
       "batch=256 steps=2 warmup=1 native=0", [](const Context& ctx) {
         const int64_t batch = ctx.get_int("batch", 256), steps = ctx.get_int("steps", 2);
         if (batch <= 0 || steps <= 0) fail("--set batch and steps must be positive");
         const auto spec = mnist_unet();
         auto net = diffusion::with_global_rng_preserved([&] {
           torch::manual_seed(0);
           return diffusion::make_network(spec);
         });
         net->eval();
         const bool native = ctx.precision == Precision::Bf16 && ctx.get_int("native", 0) != 0;
         if (native) {
           // The network itself in bf16, convolution weights channels-last: it casts its inputs, no autocast.
           torch::NoGradGuard no_grad;
           net->to(torch::kBFloat16);
           for (auto& p : net->parameters())
             if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
         }
         auto schedule = diffusion::make_schedule(diffusion::ScheduleSpec{});
         diffusion::NetworkDenoiser denoiser(net, diffusion::Prediction::Eps, 0, 1.0,
                                             native ? Precision::Fp32 : ctx.precision);
         diffusion::SamplerSpec sp;
         sp.kind = diffusion::SamplerKind::Ancestral;
         sp.steps = steps;
         auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
         diffusion::SampleOptions opt;
         opt.cond = torch::rand({batch, 1, 28, 28}, gen, torch::kFloat32) * 2 - 1;
         const double flops = unet_forward_flops(spec) * double(batch);
         auto t = time_steps(
             [&] {
               diffusion::sample(denoiser, *schedule, sp, {batch, 1, 28, 28}, gen, opt);
             },
             int(ctx.get_int("warmup", 1)), ctx.repeat > 0 ? ctx.repeat : 5, int(steps));
         auto peak = measure_gemm_peak(torch::kFloat32, 1.0);
         nlohmann::json j;
         j["parameters"] = diffusion::parameter_count(*net);
         j["batch"] = batch;
         j["steps_per_call"] = steps;
         report_steps(j, t);
         j["gflop_per_step"] = flops / 1e9;
         report_gflops(j, flops, t.median, peak);
         j["peak_rss_mb"] = peak_rss_mb();
         return j;
       }});
  out.push_back({"assign", "exact linear assignment (ot::assign) of a 512 x 512 uniform random cost matrix",
                 "n=512 warmup=2 seed=0", [](const Context& ctx) {
                   const int64_t n = ctx.get_int("n", 512);
                   if (n <= 0) fail("--set n must be positive");
                   auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(ctx.get_int("seed", 0)));
                   auto cost = torch::rand({n, n}, gen, torch::kFloat64);
                   double total = 0;
                   auto t = time_steps([&] { ot::assign(cost, &total); }, int(ctx.get_int("warmup", 2)),
                                       ctx.repeat > 0 ? ctx.repeat : 10);
                   nlohmann::json j;
                   j["n"] = n;
                   j["total_cost"] = total;
                   report_steps(j, t);
                   return j;
                 }});
}

}  // namespace otcs::cli::bench
