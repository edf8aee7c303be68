#pragma once
// Which bfloat16 instructions this CPU (and its operating system) offers: AVX512-BF16 (dot products and
// conversions in the AVX-512 registers) and AMX-BF16 (tile matrix multiply). Read once with cpuid and xgetbv;
// free of LibTorch and Qt. OTCS_CPU_BF16 overrides the answer for tests: "none", or a comma-separated list of
// "avx512_bf16" and "amx_bf16".
#include <string>

namespace otcs {

struct Bf16Support {
  bool avx512_bf16 = false;
  bool amx_bf16 = false;
  bool any() const { return avx512_bf16 || amx_bf16; }
};

// What the hardware and the OS offer, without the override.
Bf16Support detect_cpu_bf16();
// detect_cpu_bf16(), or what OTCS_CPU_BF16 says when it is set (a UserError for a value it does not know).
Bf16Support cpu_bf16_support();
// "amx_bf16, avx512_bf16", "avx512_bf16" or "none".
std::string bf16_support_name(const Bf16Support& s);

}  // namespace otcs
