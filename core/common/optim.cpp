#include "core/common/optim.h"

#include <atomic>
#include <cmath>

#include <ATen/Parallel.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <c10/util/C++17.h>
#include <torch/torch.h>

namespace otcs {

namespace {

std::atomic<bool> g_fast{false};  // off by default: no gain shown within run-to-run noise (PERFORMANCE.md)

// p, g, m, v contiguous float32 of length n; the coefficients as ATen applies them to float tensors. Written
// with SSE intrinsics (the x86-64 baseline): a plain loop does not vectorise because std::sqrt sets errno.
void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, float beta1, float beta2, float lr_bc1,
                 float bc2_sqrt, float eps, float weight_decay) {
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    const float one_b1 = 1.0f - beta1, one_b2 = 1.0f - beta2;
    int64_t i = begin;
#if defined(__SSE2__)
    const __m128 b1 = _mm_set1_ps(beta1), b2 = _mm_set1_ps(beta2), c1 = _mm_set1_ps(one_b1),
                 c2 = _mm_set1_ps(one_b2), bc2 = _mm_set1_ps(bc2_sqrt), ep = _mm_set1_ps(eps),
                 lr = _mm_set1_ps(lr_bc1), wd = _mm_set1_ps(weight_decay);
    for (; i + 4 <= end; i += 4) {
      const __m128 pi = _mm_loadu_ps(p + i);
      __m128 gi = _mm_loadu_ps(g + i);
      if (weight_decay != 0.0f) gi = _mm_add_ps(gi, _mm_mul_ps(wd, pi));
      const __m128 mi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), b1), _mm_mul_ps(c1, gi));
      const __m128 vi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), b2), _mm_mul_ps(_mm_mul_ps(c2, gi), gi));
      _mm_storeu_ps(m + i, mi);
      _mm_storeu_ps(v + i, vi);
      const __m128 denom = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), bc2), ep);
      _mm_storeu_ps(p + i, _mm_sub_ps(pi, _mm_mul_ps(lr, _mm_div_ps(mi, denom))));
    }
#endif
    for (; i < end; ++i) {
      float gi = g[i];
      if (weight_decay != 0.0f) gi = gi + weight_decay * p[i];
      const float mi = m[i] * beta1 + one_b1 * gi;       // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
      const float vi = v[i] * beta2 + one_b2 * gi * gi;  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
      m[i] = mi;
      v[i] = vi;
      const float denom = std::sqrt(vi) / bc2_sqrt + eps;  // (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps)
      p[i] = p[i] - lr_bc1 * (mi / denom);                 // p.addcdiv_(exp_avg, denom, -lr / bc1)
    }
  });
}

}  // namespace

void set_fast_optimizer(bool on) { g_fast.store(on); }
bool fast_optimizer() { return g_fast.load(); }

void release_gradients(torch::optim::Optimizer& optimizer) {
  if (!fast_optimizer()) {
    optimizer.zero_grad();
    return;
  }
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) p.mutable_grad().reset();
}

void adam_step(torch::optim::Adam& adam) {
  bool plain = !fast_optimizer();
  for (const auto& group : adam.param_groups())
    if (static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()) plain = true;
  if (plain) {
    adam.step();
    return;
  }
  torch::NoGradGuard no_grad;
  auto& state = adam.state();
  for (auto& group : adam.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto& grad = p.grad();
      TORCH_CHECK(!grad.is_sparse(), "adam_step: sparse gradients are not supported");
      const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto it = state.find(key);
      if (it == state.end()) {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state.emplace(key, std::move(s)).first;
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*it->second);
      s.step(s.step() + 1);
      const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
      const double bc1 = 1 - std::pow(beta1, double(s.step()));
      const double bc2 = 1 - std::pow(beta2, double(s.step()));
      auto& m = s.exp_avg();
      auto& v = s.exp_avg_sq();
      const bool fast = p.scalar_type() == torch::kFloat32 && grad.scalar_type() == torch::kFloat32 &&
                        m.scalar_type() == torch::kFloat32 && v.scalar_type() == torch::kFloat32 &&
                        p.is_contiguous() && grad.is_contiguous() && m.is_contiguous() && v.is_contiguous() &&
                        p.device().is_cpu() && grad.device().is_cpu() && m.numel() == p.numel() &&
                        v.numel() == p.numel() && grad.numel() == p.numel();
      if (fast) {
        adam_kernel(p.data_ptr<float>(), grad.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(),
                    p.numel(), float(beta1), float(beta2), float(o.lr() / bc1), float(std::sqrt(bc2)),
                    float(o.eps()), float(o.weight_decay()));
      } else {  // LibTorch's own sequence
        auto g = o.weight_decay() != 0 ? grad.add(p, o.weight_decay()) : grad;
        m.mul_(beta1).add_(g, 1 - beta1);
        v.mul_(beta2).addcmul_(g, g, 1 - beta2);
        auto denom = (v.sqrt() / std::sqrt(bc2)).add_(o.eps());
        p.addcdiv_(m, denom, -o.lr() / bc1);
      }
    }
  }
}

}  // namespace otcs
