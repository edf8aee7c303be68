#include "core/common/precision.h"

#include "core/common/error.h"

namespace otcs {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  fail("unknown precision '{}' (expected fp32 or bf16)", name);
}

std::string precision_name(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

}  // namespace otcs
