#pragma once
// bfloat16 mixed precision for a network's forward pass: an RAII autocast scope (matrix products and
// convolutions in bf16, parameters kept float32), float32 islands inside it for normalisation and softmax, and
// the check that a device can compute in bf16 at all.
#include <torch/types.h>

#include "core/common/precision.h"

namespace otcs {

// Whether `device` computes bf16 natively: a CPU with AVX512-BF16 or AMX-BF16 (cpu_bf16_support(), so
// OTCS_CPU_BF16 applies), a CUDA device on which a bf16 matrix product runs.
bool bf16_available(const torch::Device& device);
// Throws a UserError (one sentence, naming `what`, e.g. "--precision bf16") when `p` is bf16 and the device
// cannot compute it; does nothing for fp32.
void require_precision(Precision p, const torch::Device& device, const std::string& what);

// While alive and `p` is bf16: autocast on `device`'s type with bf16 as the lower precision. Restores the
// previous autocast state and clears the cast cache (the bf16 copies of the weights) when it ends, so the next
// scope casts the weights an optimiser step has changed. A no-op for fp32.
class AutocastScope {
 public:
  AutocastScope(Precision p, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

// Autocast off while alive (float32 islands inside an AutocastScope).
class AutocastPause {
 public:
  AutocastPause();
  ~AutocastPause();
  AutocastPause(const AutocastPause&) = delete;
  AutocastPause& operator=(const AutocastPause&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

// A bf16 (or fp16) tensor as float32; any other tensor unchanged (a float64 potential stays float64).
torch::Tensor widen(const torch::Tensor& t);

// Whether an autocast scope is active on this thread (CPU or CUDA).
bool autocast_active();

}  // namespace otcs
