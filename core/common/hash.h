#pragma once
// The one content hash of the project: 64-bit FNV-1a, written as 16 hex digits. Stable across builds, machines
// and byte orders (it reads bytes), so hashes stored in run directories and pair files stay valid. Not
// cryptographic: it tells changed data and settings apart, it does not defend against forgery.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace otcs {

inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnv1aPrime = 0x100000001b3ull;

// FNV-1a over `size` bytes, continuing from `seed` (the offset basis, or an earlier hash to chain inputs).
inline uint64_t fnv1a64(const void* data, size_t size, uint64_t seed = kFnv1aOffsetBasis) {
  auto p = static_cast<const unsigned char*>(data);
  uint64_t h = seed;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= kFnv1aPrime;
  }
  return h;
}

// fnv1a64 as 16 lower-case hex digits.
inline std::string hash_hex(const void* data, size_t size, uint64_t seed = kFnv1aOffsetBasis) {
  return fmt::format("{:016x}", fnv1a64(data, size, seed));
}

}  // namespace otcs
