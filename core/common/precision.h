#pragma once
// The arithmetic a stage computes in: float32 throughout, or bfloat16 compute with float32 master weights,
// optimiser state, loss, normalisation and softmax (mixed precision). Free of LibTorch, so project specs can
// hold it; the compute side (autocast guard, device checks) is core/common/mixed_precision.h.
#include <string>

namespace otcs {

enum class Precision { Fp32, Bf16 };
Precision parse_precision(const std::string& name);  // "fp32", "bf16"; a UserError names the accepted values
std::string precision_name(Precision p);

}  // namespace otcs
