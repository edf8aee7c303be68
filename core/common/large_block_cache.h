#pragma once
// A LibTorch CPU allocator that keeps freed large blocks for reuse. glibc's malloc hands every block over 32 MiB
// (its largest mmap threshold on 64-bit) back to the kernel when it is freed, so a loop that allocates and frees
// the same large tensors every iteration (the dense OT solve's 320 MB temporaries) takes a page fault per 4 KiB
// on every iteration; that kernel time exceeded the arithmetic. Blocks of at least `min_bytes` are rounded up to
// 2 MiB and kept in a size-keyed cache when freed (up to `cap_bytes` in all, the oldest released first); smaller
// ones go to the allocator that was installed before.
#include <cstddef>
#include <cstdint>

namespace otcs {

struct LargeBlockCacheStats {
  int64_t hits = 0, misses = 0;
  size_t cached_bytes = 0;
};

// Installs the cache as LibTorch's CPU allocator (once; later calls change nothing). Returns false when it was
// already installed.
bool install_large_block_cache(size_t min_bytes = size_t(32) << 20, size_t cap_bytes = size_t(4) << 30);
bool large_block_cache_installed();
LargeBlockCacheStats large_block_cache_stats();
// Frees every cached block (tests; a long-lived process that wants its memory back).
void large_block_cache_release();

}  // namespace otcs
