#include "core/common/mixed_precision.h"

#include <string>

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "core/common/cpu_features.h"
#include "core/common/error.h"

namespace otcs {

namespace {

// LibTorch 2.4 replaced the per-device autocast functions by ones taking the device type (the old ones are
// deprecated, an error under -Werror); 1.13 has only the old ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled_on(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_enabled_on(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType dtype_on(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype_on(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool enabled_on(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_enabled_on(bool cuda, bool on) { cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on); }
at::ScalarType dtype_on(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype_on(bool cuda, at::ScalarType t) {
  cuda ? at::autocast::set_autocast_gpu_dtype(t) : at::autocast::set_autocast_cpu_dtype(t);
}
#endif

bool cuda_bf16_probe(const torch::Device& device) {
  // No CUDA header is needed (the CPU build has none): a bf16 product on the device either runs or throws.
  try {
    auto a = torch::ones({8, 8}, torch::TensorOptions().device(device).dtype(torch::kBFloat16));
    return torch::mm(a, a).to(torch::kCPU, torch::kFloat32).sum().item<double>() == 512.0;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool bf16_available(const torch::Device& device) {
  if (device.is_cpu()) return cpu_bf16_support().any();
  if (device.is_cuda()) return torch::cuda::is_available() && cuda_bf16_probe(device);
  return false;
}

void require_precision(Precision p, const torch::Device& device, const std::string& what) {
  if (p != Precision::Bf16 || bf16_available(device)) return;
  if (device.is_cpu())
    fail("{}: this CPU has no bfloat16 instructions (neither AVX512-BF16 nor AMX-BF16); use fp32", what);
  fail("{}: the device {} cannot compute in bfloat16; use fp32", what, device.str());
}

AutocastScope::AutocastScope(Precision p, const torch::Device& device) {
  if (p != Precision::Bf16) return;
  active_ = true;
  cuda_ = device.is_cuda();
  previous_enabled_ = enabled_on(cuda_);
  previous_dtype_ = dtype_on(cuda_);
  set_enabled_on(cuda_, true);
  set_dtype_on(cuda_, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_enabled_on(cuda_, previous_enabled_);
  set_dtype_on(cuda_, previous_dtype_);
}

AutocastPause::AutocastPause() : cpu_(enabled_on(false)), cuda_(enabled_on(true)) {
  if (cpu_) set_enabled_on(false, false);
  if (cuda_) set_enabled_on(true, false);
}

AutocastPause::~AutocastPause() {
  if (cpu_) set_enabled_on(false, true);
  if (cuda_) set_enabled_on(true, true);
}

torch::Tensor widen(const torch::Tensor& t) {
  if (t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf) return t.to(at::kFloat);
  return t;
}

bool autocast_active() { return enabled_on(false) || enabled_on(true); }

}  // namespace otcs
