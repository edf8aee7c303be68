#include "core/session/translate.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/diffusion/sampler.h"
#include "core/io/npy.h"
#include "core/run/trajectories.h"

namespace otcs::session {

torch::Tensor translate_images(const ScoreModel& model, const torch::Tensor& sources, const std::vector<int64_t>& shape,
                               const TranslateOptions& options) {
  torch::NoGradGuard no_grad;
  if (shape.size() != 3) fail("translate: expected an image shape [C, H, W]");
  const auto& ns = model.network_spec;
  const int64_t cond_values = ns.cond_dim > 0 ? ns.cond_dim : ns.cond_channels * ns.resolution * ns.resolution;
  if (cond_values != sources.size(1))
    fail("translate: the model was trained on conditions of {} values, these inputs have {}", cond_values,
         sources.size(1));
  const int64_t n = sources.size(0);
  const int64_t batch = std::max<int64_t>(1, options.batch);
  const bool image_net = model.network_spec.kind == diffusion::NetworkKind::UNet;
  diffusion::NetworkDenoiser denoiser(model.network, model.prediction, 0, options.sampler.guidance,
                                      options.sampler.precision);
  torch::Tensor low_res;
  if (options.sampler.consistency > 1) {
    const int64_t f = options.sampler.consistency;
    if (!image_net) fail("translate: consistency needs an image model");
    if (shape[1] % f != 0 || shape[2] % f != 0)
      fail("translate: consistency {} does not divide the {}x{} images", f, shape[1], shape[2]);
    if (options.low_res.defined()) {
      low_res = options.low_res.to(torch::kFloat32);
      if (low_res.dim() != 4 || low_res.size(0) != n || low_res.size(1) != shape[0] ||
          low_res.size(2) * f != shape[1] || low_res.size(3) * f != shape[2])
        fail("translate: the low-resolution inputs are {}, expected [{}, {}, {}, {}]",
             fmt::format("[{}]", fmt::join(low_res.sizes(), ", ")), n, shape[0], shape[1] / f, shape[2] / f);
    } else {
      if (sources.size(1) != shape[0] * shape[1] * shape[2])
        fail("translate: consistency needs sources of the target's shape or the low-resolution inputs");
      namespace F = torch::nn::functional;
      low_res = F::avg_pool2d(sources.view({n, shape[0], shape[1], shape[2]}).to(torch::kFloat32),
                              F::AvgPool2dFuncOptions(f).stride(f));
    }
  }
  std::vector<torch::Tensor> out;
  const int64_t batches = (n + batch - 1) / batch;
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t lo = b * batch, len = std::min(batch, n - lo);
    // One generator per batch, seeded by (seed, first index): reproducible for a fixed batch size.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(options.seed * 1000003ull + uint64_t(options.first_index + lo));
    diffusion::SampleOptions so;
    so.cond = sources.narrow(0, lo, len).to(torch::kFloat32);
    if (options.sampler.sdedit_t0 > 0) {
      // SDEdit start from the noised source (OTCS's CelebA sampler): needs sources of the sample's shape.
      if (sources.size(1) != shape[0] * shape[1] * shape[2])
        fail("translate: the sdedit start needs sources of the target's shape");
      so.sdedit_source = image_net ? so.cond.view({len, shape[0], shape[1], shape[2]}) : so.cond;
    }
    if (low_res.defined()) so.low_res = low_res.narrow(0, lo, len);
    if (b == 0 && options.recorder && options.record > 0) {
      options.recorder->keep_rows(std::min(options.record, len));
      so.recorder = options.recorder;
    }
    so.cancelled = options.cancelled;
    so.progress = [&](int64_t step, int64_t total) {
      if (options.progress) options.progress(b * total + step, batches * total);
    };
    std::vector<int64_t> sh = image_net ? std::vector<int64_t>{len, shape[0], shape[1], shape[2]}
                                        : std::vector<int64_t>{len, shape[0] * shape[1] * shape[2]};
    auto x = diffusion::sample(denoiser, *model.schedule, options.sampler, sh, gen, so);
    if (!x.defined()) return {};
    out.push_back(x.reshape({len, shape[0], shape[1], shape[2]}).clamp(-1, 1));
  }
  if (options.nfe) *options.nfe = denoiser.evaluations() / batches;  // every batch runs the same grid
  return torch::cat(out);
}

void save_image_trajectories(const std::string& path, const diffusion::TrajectoryRecorder& recorder,
                             const std::vector<int64_t>& sources) {
  const auto& frames = recorder.frames();
  if (frames.empty()) fail("{}: no trajectory frames were recorded", path);
  const int64_t k = frames.front().x.size(0);
  if (k != int64_t(sources.size())) fail("{}: {} recorded paths for {} source indices", path, k, sources.size());
  std::vector<torch::Tensor> xs, x0s;
  std::vector<int64_t> steps;
  std::vector<double> ts;
  for (const auto& f : frames) {
    xs.push_back(f.x.reshape({k, 1, -1}));
    x0s.push_back(f.x0.reshape({k, 1, -1}));
    steps.push_back(f.step);
    ts.push_back(f.t);
  }
  run::write_trajectories(path, {torch::stack(xs), torch::stack(x0s), torch::tensor(steps, torch::kInt64),
                                 torch::tensor(ts, torch::kFloat64), torch::tensor(sources, torch::kInt64)});
}

}  // namespace otcs::session
