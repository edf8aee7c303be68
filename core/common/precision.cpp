#include "core/common/precision.h"

#include "core/common/cpu_features.h"
#include "core/common/error.h"

namespace otcs {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  if (name == "auto") return cpu_bf16_support().any() ? Precision::Bf16 : Precision::Fp32;
  fail("unknown precision '{}' (expected fp32, bf16 or auto)", name);
}

std::string precision_name(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

}  // namespace otcs
