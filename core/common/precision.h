#pragma once
// The arithmetic a stage computes in: float32 throughout, or bfloat16 compute with float32 master weights,
// optimiser state, loss, normalisation and softmax (mixed precision). Free of LibTorch, so project specs can
// hold it; the compute side (autocast guard, device checks) is core/common/mixed_precision.h.
#include <string>

namespace otcs {

enum class Precision { Fp32, Bf16 };
// "fp32", "bf16", or "auto": bf16 where the CPU computes it (AVX512-BF16 or AMX-BF16, cpu_bf16_support()), fp32
// elsewhere; resolved here, so a configuration hash sees what the stage will run. A UserError names the accepted
// values.
Precision parse_precision(const std::string& name);
std::string precision_name(Precision p);

}  // namespace otcs
