#include "core/common/cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "core/common/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define OTCS_X86 1
#endif

namespace otcs {

namespace {

#ifdef OTCS_X86
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  // xgetbv with ecx = 0 (XCR0); only valid when the OS set CR4.OSXSAVE, checked by the caller.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}
#endif

}  // namespace

Bf16Support detect_cpu_bf16() {
  Bf16Support s;
#ifdef OTCS_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return s;
  const bool osxsave = (c >> 27) & 1u;
  if (!osxsave) return s;
  const uint64_t xcr0 = read_xcr0();
  // AVX-512 needs the SSE, AVX and the three AVX-512 state components (opmask, ZMM_Hi256, Hi16_ZMM) enabled.
  const bool avx512_state = (xcr0 & 0xE6u) == 0xE6u;
  // AMX needs XTILECFG (bit 17) and XTILEDATA (bit 18).
  const bool amx_state = ((xcr0 >> 17) & 3u) == 3u;
  if (__get_cpuid_max(0, nullptr) < 7) return s;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx512f = (b >> 16) & 1u;
  const bool amx_bf16 = (d >> 22) & 1u;
  const unsigned max_subleaf = a;
  bool avx512_bf16 = false;
  if (max_subleaf >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    avx512_bf16 = (a >> 5) & 1u;
  }
  s.avx512_bf16 = avx512_bf16 && avx512f && avx512_state;
  s.amx_bf16 = amx_bf16 && amx_state;
#endif
  return s;
}

Bf16Support cpu_bf16_support() {
  const char* env = std::getenv("OTCS_CPU_BF16");
  if (!env || !*env) return detect_cpu_bf16();
  Bf16Support s;
  std::stringstream in(env);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "none" || item.empty()) continue;
    if (item == "avx512_bf16")
      s.avx512_bf16 = true;
    else if (item == "amx_bf16")
      s.amx_bf16 = true;
    else
      fail("OTCS_CPU_BF16: unknown value '{}' (expected none, avx512_bf16 or amx_bf16, comma-separated)", item);
  }
  return s;
}

std::string bf16_support_name(const Bf16Support& s) {
  if (s.amx_bf16 && s.avx512_bf16) return "amx_bf16, avx512_bf16";
  if (s.amx_bf16) return "amx_bf16";
  if (s.avx512_bf16) return "avx512_bf16";
  return "none";
}

}  // namespace otcs
